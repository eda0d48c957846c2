"""each account remembers the language its pages speak (en, kk or ru)

Revision ID: 0014
Revises: 0001
Create Date: 2026-12-07 12:30:00.000000

Accounts created before this revision name none; the pages then start in the language last
chosen in the browser, or the browser's own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "language")
