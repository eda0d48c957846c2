"""consultations keep their call's connected time

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-24 02:30:00.000000

Consultations completed before this revision keep NULL: their statistics go on counting
started → ended, exactly as the rollups already hold them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER on both engines: SQLite must not rebuild the table (and lose its triggers).
    op.add_column("consultations", sa.Column("call_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("consultations", "call_seconds")
