"""proof of service: flags on consultations completed but perhaps not delivered

Revision ID: 0026
Revises: 0001
Create Date: 2026-12-07 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proof_flags",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("consultation_id", sa.Uuid(), sa.ForeignKey("consultations.id"), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("facility_id", sa.Uuid(), sa.ForeignKey("facilities.id"), nullable=True),
        sa.Column("specialist_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=False),
        sa.Column("connected_seconds", sa.Float(), nullable=True),
        sa.Column("flagged_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.UniqueConstraint("consultation_id", "reason", name="uq_proof_flags_consultation_reason"),
    )
    op.create_index("ix_proof_flags_consultation_id", "proof_flags", ["consultation_id"])
    op.create_index("ix_proof_flags_completed", "proof_flags", ["completed_at", "id"])


def downgrade() -> None:
    op.drop_table("proof_flags")
