"""specialists' weekly hours and leave; windows cut from weekly hours name them

Revision ID: 0016
Revises: 0001
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weekly_hours",
        sa.Column("specialist_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("cut_until", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["specialist_id"], ["users.id"], name=op.f("fk_weekly_hours_specialist_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_hours")),
    )
    op.create_index(
        op.f("ix_weekly_hours_specialist_id"), "weekly_hours", ["specialist_id"], unique=False
    )
    op.create_table(
        "leave",
        sa.Column("specialist_id", sa.Uuid(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["specialist_id"], ["users.id"], name=op.f("fk_leave_specialist_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave")),
    )
    op.create_index(op.f("ix_leave_specialist_id"), "leave", ["specialist_id"], unique=False)
    # A plain ALTER on both engines (SQLite must not rebuild the table); the reference to
    # weekly_hours is kept by the application (SQLite cannot add a foreign key in place).
    op.add_column("availability_windows", sa.Column("weekly_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_availability_windows_weekly_id"),
        "availability_windows",
        ["weekly_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_availability_windows_weekly_id"), table_name="availability_windows")
    op.drop_column("availability_windows", "weekly_id")
    op.drop_index(op.f("ix_leave_specialist_id"), table_name="leave")
    op.drop_table("leave")
    op.drop_index(op.f("ix_weekly_hours_specialist_id"), table_name="weekly_hours")
    op.drop_table("weekly_hours")
