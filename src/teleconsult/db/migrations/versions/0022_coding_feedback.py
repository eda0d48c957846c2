"""coding feedback: the ICD-10 codes suggested for a note and the ones chosen

Revision ID: 0022
Revises: 0002
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coding_feedback",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("suggested", sa.JSON(), nullable=False),
        sa.Column("chosen", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coding_feedback")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_coding_feedback_entry_id")),
    )
    op.create_index(
        op.f("ix_coding_feedback_consultation_id"), "coding_feedback", ["consultation_id"]
    )
    op.create_index(op.f("ix_coding_feedback_author_id"), "coding_feedback", ["author_id"])


def downgrade() -> None:
    op.drop_table("coding_feedback")
