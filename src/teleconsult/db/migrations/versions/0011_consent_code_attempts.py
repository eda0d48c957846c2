"""wrong consent codes counted per patient across requests

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-06 04:40:00.000000

A request's wrong codes are no longer reset by a new code; when the last try was made lets
the wrong codes of a patient's requests be counted together over a day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("consent_requests", sa.Column("last_attempt_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("consent_requests", "last_attempt_at")
