"""patients.name_key: the casefolded name a GP's search compares

Revision ID: 0017
Revises: 0001
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(text: str) -> str:
    # The same rule as teleconsult.patients.models.name_key (kept here: migrations are frozen).
    return " ".join(text.split()).casefold()


def upgrade() -> None:
    op.add_column(
        "patients",
        sa.Column("name_key", sa.String(length=200), nullable=False, server_default=""),
    )
    patients = sa.table(
        "patients", sa.column("id", sa.Uuid()), sa.column("full_name"), sa.column("name_key")
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(patients.c.id, patients.c.full_name)).all()
    for row in rows:
        bind.execute(
            patients.update()
            .where(patients.c.id == row.id)
            .values(name_key=_key(row.full_name or ""))
        )
    op.create_index("ix_patients_name_key", "patients", ["name_key"])


def downgrade() -> None:
    op.drop_index("ix_patients_name_key", table_name="patients")
    op.drop_column("patients", "name_key")
