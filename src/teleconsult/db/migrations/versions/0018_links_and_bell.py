"""one-time links by message: users.email and users.phone; call links and call-only
sessions; messages.read_at for the pages' bell

Revision ID: 0018
Revises: 0021
Create Date: 2026-12-07 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("phone", sa.String(length=20), nullable=True))
    op.add_column("auth_tokens", sa.Column("call_only", sa.Uuid(), nullable=True))
    op.create_table(
        "call_links",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column("consultation_id", sa.Uuid(), sa.ForeignKey("consultations.id"), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_call_links_consultation_id", "call_links", ["consultation_id"])
    op.add_column("messages", sa.Column("read_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "read_at")
    op.drop_table("call_links")
    op.drop_column("auth_tokens", "call_only")
    op.drop_column("users", "phone")
    op.drop_column("users", "email")
