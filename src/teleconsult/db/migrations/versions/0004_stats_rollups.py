"""stats rollups

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    rollups = op.create_table(
        "stats_rollups",
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("facility", sa.String(length=36), nullable=False),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("specialty", sa.String(length=40), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("no_show", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("answered_in_target", sa.Integer(), nullable=False),
        sa.Column("wait", sa.LargeBinary(), nullable=False),
        sa.Column("duration", sa.LargeBinary(), nullable=False),
        sa.Column("turnaround", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "region", "facility", "grain", "day", "specialty", name=op.f("pk_stats_rollups")
        ),
    )
    _backfill(rollups)


def _backfill(rollups: sa.Table) -> None:
    """Existing consultations enter the rollups once; from now on each change maintains them."""
    from teleconsult.stats.cells import Cell, Facts, contribution, finest_key, roll_up
    from teleconsult.stats.rollups import row_values

    consultations = sa.table(
        "consultations",
        sa.column("specialty", sa.String()),
        sa.column("region", sa.String()),
        sa.column("facility_id", sa.Uuid()),
        sa.column("mode", sa.String()),
        sa.column("urgency", sa.String()),
        sa.column("status", sa.String()),
        sa.column("created_at", UTCDateTime()),
        sa.column("started_at", UTCDateTime()),
        sa.column("ended_at", UTCDateTime()),
    )
    finest: dict = {}
    result = op.get_bind().execute(sa.select(consultations)).mappings()
    for row in result:
        facts = Facts(**row)
        finest.setdefault(finest_key(facts), Cell()).add(contribution(facts))
    rows = [row_values(key, cell) for key, cell in sorted(roll_up(finest).items())]
    if rows:
        op.bulk_insert(rollups, rows)


def downgrade() -> None:
    op.drop_table("stats_rollups")
