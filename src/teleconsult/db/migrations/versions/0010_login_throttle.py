"""sign-in attempts counted per address too

Revision ID: 0010
Revises: 0001
Create Date: 2026-12-06 04:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_client_at", table_name="login_failures")
