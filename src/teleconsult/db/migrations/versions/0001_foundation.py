"""foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:08:23.195314
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "facilities",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
    )
    op.create_index(op.f("ix_facilities_region"), "facilities", ["region"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        "ix_login_failures_username_at", "login_failures", ["username", "at"], unique=False
    )
    op.create_table(
        "patients",
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("registered_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_patients_facility_id_facilities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("iin", name=op.f("uq_patients_iin")),
    )
    op.create_index(op.f("ix_patients_facility_id"), "patients", ["facility_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("on_call", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_users_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_users_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_users_patient_id")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_facility_id"), "users", ["facility_id"], unique=False)
    op.create_index(op.f("ix_users_role"), "users", ["role"], unique=False)
    op.create_table(
        "auth_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_tokens")),
    )
    op.create_index(op.f("ix_auth_tokens_user_id"), "auth_tokens", ["user_id"], unique=False)
    op.create_table(
        "availability_windows",
        sa.Column("specialist_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["specialist_id"],
            ["users.id"],
            name=op.f("fk_availability_windows_specialist_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    op.create_index(
        op.f("ix_availability_windows_specialist_id"),
        "availability_windows",
        ["specialist_id"],
        unique=False,
    )
    op.create_table(
        "idempotency_records",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_records_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_table(
        "specialist_specialties",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("specialty", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_specialist_specialties_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "specialty", name=op.f("pk_specialist_specialties")),
    )
    op.create_index(
        op.f("ix_specialist_specialties_specialty"),
        "specialist_specialties",
        ["specialty"],
        unique=False,
    )
    op.create_table(
        "slots",
        sa.Column("window_id", sa.Uuid(), nullable=False),
        sa.Column("specialist_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["specialist_id"], ["users.id"], name=op.f("fk_slots_specialist_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["availability_windows.id"],
            name=op.f("fk_slots_window_id_availability_windows"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("specialist_id", "starts_at", name=op.f("uq_slots_specialist_id")),
    )
    op.create_index(op.f("ix_slots_starts_at"), "slots", ["starts_at"], unique=False)
    op.create_index(op.f("ix_slots_window_id"), "slots", ["window_id"], unique=False)
    op.create_table(
        "consultations",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("specialist_id", sa.Uuid(), nullable=True),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("specialty", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("urgency_rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=True),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("sort_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("conclusion", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_consultations_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consultations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_consultations_requester_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_consultations_slot_id_slots")
        ),
        sa.ForeignKeyConstraint(
            ["specialist_id"], ["users.id"], name=op.f("fk_consultations_specialist_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_index(
        op.f("ix_consultations_patient_id"), "consultations", ["patient_id"], unique=False
    )
    op.create_index(
        "ix_consultations_queue", "consultations", ["urgency_rank", "sort_at", "id"], unique=False
    )
    op.create_index(
        "ix_consultations_requester",
        "consultations",
        ["requester_id", "urgency_rank", "sort_at"],
        unique=False,
    )
    op.create_index(
        "ix_consultations_specialist",
        "consultations",
        ["specialist_id", "urgency_rank", "sort_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_consultations_specialty"), "consultations", ["specialty"], unique=False
    )
    op.create_index(op.f("ix_consultations_status"), "consultations", ["status"], unique=False)
    op.create_index(
        "uq_consultations_active_slot",
        "consultations",
        ["slot_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
        sqlite_where=sa.text("status <> 'cancelled'"),
    )
    _no_overlap_rules()


# The slot conflict rule, in the database: a specialist never has two overlapping slots, nor
# two overlapping active video consultations (a slot itself stays taken by a completed call
# through the partial unique index above). PostgreSQL checks overlap with exclusion
# constraints over time ranges (btree_gist gives `=` on uuid inside a GiST index); SQLite
# with triggers.
_ACTIVE = "status IN ('requested', 'scheduled', 'in_progress')"


def _no_overlap_rules() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE slots ADD CONSTRAINT ex_slots_no_overlap EXCLUDE USING gist "
            "(specialist_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
        )
        op.execute(
            "ALTER TABLE consultations ADD CONSTRAINT ex_consultations_no_overlap "
            "EXCLUDE USING gist (specialist_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            f"WHERE (mode = 'video' AND specialist_id IS NOT NULL AND {_ACTIVE})"
        )
        return
    op.execute(
        "CREATE TRIGGER tr_slots_no_overlap BEFORE INSERT ON slots "
        "WHEN EXISTS (SELECT 1 FROM slots s WHERE s.specialist_id = NEW.specialist_id "
        "AND s.starts_at < NEW.ends_at AND s.ends_at > NEW.starts_at) "
        "BEGIN SELECT RAISE(ABORT, 'ex_slots_no_overlap'); END"
    )
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER tr_consultations_no_overlap_{event.lower()} "
            f"BEFORE {event} ON consultations "
            f"WHEN NEW.mode = 'video' AND NEW.specialist_id IS NOT NULL "
            f"AND NEW.{_ACTIVE} AND EXISTS (SELECT 1 FROM consultations c "
            "WHERE c.specialist_id = NEW.specialist_id AND c.id != NEW.id "
            f"AND c.mode = 'video' AND c.{_ACTIVE} "
            "AND c.starts_at < NEW.ends_at AND c.ends_at > NEW.starts_at) "
            "BEGIN SELECT RAISE(ABORT, 'ex_consultations_no_overlap'); END"
        )


def downgrade() -> None:
    op.drop_index(
        "uq_consultations_active_slot",
        table_name="consultations",
        postgresql_where=sa.text("status IN ('requested', 'scheduled', 'in_progress')"),
        sqlite_where=sa.text("status IN ('requested', 'scheduled', 'in_progress')"),
    )
    op.drop_index(op.f("ix_consultations_status"), table_name="consultations")
    op.drop_index(op.f("ix_consultations_specialty"), table_name="consultations")
    op.drop_index("ix_consultations_specialist", table_name="consultations")
    op.drop_index("ix_consultations_requester", table_name="consultations")
    op.drop_index("ix_consultations_queue", table_name="consultations")
    op.drop_index(op.f("ix_consultations_patient_id"), table_name="consultations")
    op.drop_table("consultations")
    op.drop_index(op.f("ix_slots_window_id"), table_name="slots")
    op.drop_index(op.f("ix_slots_starts_at"), table_name="slots")
    op.drop_table("slots")
    op.drop_index(op.f("ix_specialist_specialties_specialty"), table_name="specialist_specialties")
    op.drop_table("specialist_specialties")
    op.drop_table("idempotency_records")
    op.drop_index(op.f("ix_availability_windows_specialist_id"), table_name="availability_windows")
    op.drop_table("availability_windows")
    op.drop_index(op.f("ix_auth_tokens_user_id"), table_name="auth_tokens")
    op.drop_table("auth_tokens")
    op.drop_index(op.f("ix_users_role"), table_name="users")
    op.drop_index(op.f("ix_users_facility_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_patients_facility_id"), table_name="patients")
    op.drop_table("patients")
    op.drop_index("ix_login_failures_username_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_facilities_region"), table_name="facilities")
    op.drop_table("facilities")
