"""specialists invited into a consultation (a multidisciplinary consultation)

Revision ID: 0019
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultation_participants",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=False),
        sa.Column("invited_at", UTCDateTime(), nullable=False),
        sa.Column("consent_request_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_participants_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_consultation_participants_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_consultation_participants_invited_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_participants")),
        sa.UniqueConstraint("consultation_id", "user_id", name="uq_consultation_participants_user"),
    )
    op.create_index(
        "ix_consultation_participants_user",
        "consultation_participants",
        ["user_id", "consultation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_consultation_participants_user", table_name="consultation_participants")
    op.drop_table("consultation_participants")
