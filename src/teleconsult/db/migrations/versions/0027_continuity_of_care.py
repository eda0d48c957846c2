"""continuity of care: programmes, enrolments, observations, attention list, system accounts

Revision ID: 0027
Revises: 0002
Create Date: 2026-12-07 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from teleconsult.db.base import UTCDateTime
from teleconsult.programmes.catalogue import SHIPPED

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    programmes = op.create_table(
        "programmes",
        sa.Column("code", sa.String(length=40), primary_key=True),
        sa.Column("icd10", sa.JSON(), nullable=False),
        sa.Column("visit_interval_days", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("review_specialty", sa.String(length=40), nullable=True),
        sa.Column("review_interval_days", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
    )
    op.bulk_insert(programmes, [dict(p) for p in SHIPPED])
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("patient_id", sa.Uuid(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("programme", sa.String(length=40), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("enrolled_by", sa.Uuid(), nullable=False),
        sa.Column("enrolled_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("patient_id", "programme", name="uq_enrolments_patient_id"),
    )
    op.create_index("ix_enrolments_facility_id", "enrolments", ["facility_id"])
    op.create_table(
        "observations",
        sa.Column("entry_id", sa.Uuid(), primary_key=True),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("loinc", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("value2", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("measured_at", UTCDateTime(), nullable=False),
        sa.Column("measured_by", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
    )
    op.create_index("ix_observations_patient_id_measure", "observations", ["patient_id", "measure"])
    op.create_table(
        "attention_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("programme", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
    )
    op.create_index("ix_attention_items_facility_id", "attention_items", ["facility_id"])
    op.create_index("ix_attention_items_patient_id", "attention_items", ["patient_id"])
    op.create_table(
        "system_accounts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("facility_id", sa.Uuid(), sa.ForeignKey("facilities.id"), nullable=False),
        sa.Column("key_hash", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "imported_resources",
        sa.Column("system_id", sa.Uuid(), primary_key=True),
        sa.Column("source_id", sa.String(length=300), primary_key=True),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("imported_resources")
    op.drop_table("system_accounts")
    op.drop_table("attention_items")
    op.drop_table("observations")
    op.drop_table("enrolments")
    op.drop_table("programmes")
