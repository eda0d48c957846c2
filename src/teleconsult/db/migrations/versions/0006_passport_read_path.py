"""passport read path: an index on corrections, chain heads advanced by the database

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-24 02:30:00.000000

Every passport read appends its consent decision to the audit chain, so appending is on the
read path. The head of a chain (its newest seq and hash, the row appenders lock) is now
advanced by a trigger on the entry INSERT itself: an append is one locking SELECT and one
INSERT instead of three statements.

Corrections are rare, so the few entries that amend another are found through a partial
index instead of by reading the whole passport: a page of the passport costs what the page
holds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
# The passport, audit and chain head tables come with 0002.
depends_on: str | Sequence[str] | None = "0002"

WHERE = sa.text("amends IS NOT NULL")

# How each ledger names its chain in ``chain_heads.key``, from the inserted row. SQLite keeps
# UUIDs as 32 hex digits; the key is the UUID's canonical text.
_SQLITE_KEY = {
    "passport": (
        "substr(NEW.patient_id, 1, 8) || '-' || substr(NEW.patient_id, 9, 4) || '-' || "
        "substr(NEW.patient_id, 13, 4) || '-' || substr(NEW.patient_id, 17, 4) || '-' || "
        "substr(NEW.patient_id, 21)"
    ),
    "audit": "NEW.chain",
}
_POSTGRES_KEY = {"passport": "NEW.patient_id::text", "audit": "NEW.chain"}
_TABLES = {"passport": "passport_entries", "audit": "audit_entries"}


def upgrade() -> None:
    op.create_index(
        "ix_passport_entries_corrections",
        "passport_entries",
        ["patient_id"],
        unique=False,
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for ledger, table in _TABLES.items():
        if postgres:
            op.execute(
                f"CREATE FUNCTION tc_advance_{ledger}_head() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "UPDATE chain_heads SET seq = NEW.seq, hash = NEW.hash "
                f"WHERE ledger = '{ledger}' AND key = {_POSTGRES_KEY[ledger]}; "
                "RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER tr_{table}_head AFTER INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION tc_advance_{ledger}_head()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER tr_{table}_head AFTER INSERT ON {table} BEGIN "
                "UPDATE chain_heads SET seq = NEW.seq, hash = NEW.hash "
                f"WHERE ledger = '{ledger}' AND key = {_SQLITE_KEY[ledger]}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for ledger, table in _TABLES.items():
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_head ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS tc_advance_{ledger}_head()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_head")
    op.drop_index("ix_passport_entries_corrections", table_name="passport_entries")
