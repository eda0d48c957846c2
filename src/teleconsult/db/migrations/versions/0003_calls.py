"""calls: one-time tickets, participation times, per-consultation call options

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_tickets",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_call_tickets_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_call_tickets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_call_tickets")),
    )
    op.create_index(
        op.f("ix_call_tickets_consultation_id"), "call_tickets", ["consultation_id"], unique=False
    )
    op.create_table(
        "call_participations",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("peer_id", sa.String(length=40), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("left_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_call_participations_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_call_participations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_participations")),
        sa.UniqueConstraint("peer_id", name=op.f("uq_call_participations_peer_id")),
        # A stay ends after it begins.
        sa.CheckConstraint(
            "left_at IS NULL OR left_at >= joined_at",
            name=op.f("ck_call_participations_left_after_joined"),
        ),
    )
    op.create_index(
        "ix_call_participations_consultation",
        "call_participations",
        ["consultation_id", "joined_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_call_participations_user_id"), "call_participations", ["user_id"], unique=False
    )
    op.create_table(
        "call_options",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=True),
        sa.Column("patient_invited", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_call_options_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("consultation_id", name=op.f("pk_call_options")),
        sa.CheckConstraint(
            "mode IS NULL OR mode IN ('p2p', 'relay')", name=op.f("ck_call_options_mode")
        ),
    )


def downgrade() -> None:
    op.drop_table("call_options")
    op.drop_index(op.f("ix_call_participations_user_id"), table_name="call_participations")
    op.drop_index("ix_call_participations_consultation", table_name="call_participations")
    op.drop_table("call_participations")
    op.drop_index(op.f("ix_call_tickets_consultation_id"), table_name="call_tickets")
    op.drop_table("call_tickets")
