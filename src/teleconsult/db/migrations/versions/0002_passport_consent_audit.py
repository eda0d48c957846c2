"""passport, consent and audit: append-only, hash-chained tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:25:48.738712
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_entries_chain")),
    )
    op.create_table(
        "chain_heads",
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("ledger", "key", name=op.f("pk_chain_heads")),
    )
    op.create_table(
        "passport_entries",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amends", sa.Uuid(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_entries")),
        sa.UniqueConstraint("patient_id", "seq", name=op.f("uq_passport_entries_patient_id")),
    )
    op.create_table(
        "break_glass_sessions",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_break_glass_sessions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_break_glass_sessions_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_sessions")),
    )
    op.create_index(
        "ix_break_glass_sessions_patient_actor",
        "break_glass_sessions",
        ["patient_id", "actor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_break_glass_sessions_started_at"),
        "break_glass_sessions",
        ["started_at"],
        unique=False,
    )

    op.create_table(
        "consent_grants",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_user_id", sa.Uuid(), nullable=True),
        sa.Column("grantee_facility_id", sa.Uuid(), nullable=True),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "access IN ('read', 'read_write')", name=op.f("ck_consent_grants_access")
        ),
        sa.CheckConstraint(
            "(grantee_user_id IS NULL) != (grantee_facility_id IS NULL)",
            name=op.f("ck_consent_grants_one_grantee"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_consent_grants_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["grantee_facility_id"],
            ["facilities.id"],
            name=op.f("fk_consent_grants_grantee_facility_id_facilities"),
        ),
        sa.ForeignKeyConstraint(
            ["grantee_user_id"], ["users.id"], name=op.f("fk_consent_grants_grantee_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consent_grants_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_grants")),
    )
    op.create_index(
        op.f("ix_consent_grants_patient_id"), "consent_grants", ["patient_id"], unique=False
    )

    op.create_table(
        "consent_requests",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_user_id", sa.Uuid(), nullable=False),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consent_requests_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["grantee_user_id"],
            ["users.id"],
            name=op.f("fk_consent_requests_grantee_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consent_requests_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_consent_requests_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_requests")),
    )
    op.create_index(
        "ix_consent_requests_patient_status",
        "consent_requests",
        ["patient_id", "status"],
        unique=False,
    )

    _append_only()


# The passport and the audit log are append-only, and the database itself says so: UPDATE
# and DELETE are refused by triggers on both engines (and TRUNCATE on PostgreSQL). Tests
# reset PostgreSQL with `session_replication_role = replica`, which skips these triggers.
APPEND_ONLY = ("passport_entries", "audit_entries")


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tc_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER tr_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tc_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER tr_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tc_refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER tr_{table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END"
            )


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tc_refuse_change()")
        return
    for table in APPEND_ONLY:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_no_{event}")


def downgrade() -> None:
    _drop_append_only()
    op.drop_index("ix_consent_requests_patient_status", table_name="consent_requests")

    op.drop_table("consent_requests")
    op.drop_index(op.f("ix_consent_grants_patient_id"), table_name="consent_grants")

    op.drop_table("consent_grants")
    op.drop_index(op.f("ix_break_glass_sessions_started_at"), table_name="break_glass_sessions")
    op.drop_index("ix_break_glass_sessions_patient_actor", table_name="break_glass_sessions")

    op.drop_table("break_glass_sessions")
    op.drop_table("passport_entries")
    op.drop_table("chain_heads")
    op.drop_table("audit_entries")
