"""the messages outbox: SMS and e-mail written with their changes

Revision ID: 0021
Revises: 0001
Create Date: 2026-12-07 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("secret_params", sa.JSON(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("consultation_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
    )
    op.create_index("ix_messages_due", "messages", ["sent_at", "next_attempt_at"])
    op.create_index("ix_messages_patient_id", "messages", ["patient_id"])
    op.create_index("ix_messages_user_id", "messages", ["user_id"])
    op.create_index("ix_messages_consultation_id", "messages", ["consultation_id"])
    op.create_table(
        "message_preferences",
        sa.Column("patient_id", sa.Uuid(), primary_key=True),
        sa.Column("reminders", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("message_preferences")
    op.drop_table("messages")
