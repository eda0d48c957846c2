"""call tickets remember the sign-in session they were issued under

Revision ID: 0012
Revises: 0003
Create Date: 2026-12-06 05:10:00.000000

A call's websocket closes when that session ends (logout); tickets issued before this
revision name none and close only when the account is disabled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("call_tickets", sa.Column("session_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("call_tickets", "session_hash")
