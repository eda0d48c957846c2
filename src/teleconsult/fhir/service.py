"""Exporting a passport as FHIR, under the same consent rules as reading it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..config import Settings
from ..consent.decision import authorize
from ..consent.grants import is_active
from ..consent.models import ConsentGrant
from ..consent.policy import Access, Category
from ..consultations.models import Consultation
from ..errors import NotFound
from ..files.service import FileUnavailable
from ..files.store import BlobProblem, get, store_for
from ..passport.entries import entries_of
from ..passport.rules import amended_view
from ..passport.schemas import KIND_CATEGORY, Kind
from ..patients.models import Patient
from .bundle import ConsentData, EncounterData, PatientData, build_bundle, validate


def _grants_shown_to(user: User, patient_id: uuid.UUID) -> ColumnElement[bool]:
    """Whom else a patient lets read is the patient's own business: the patient (and an
    administrator) sees every grant, anyone else only the grants made to them."""
    if user.patient_id == patient_id or user.role == Role.admin:
        return true()
    mine = ConsentGrant.grantee_user_id == user.id
    if user.facility_id is None:
        return mine
    return or_(mine, ConsentGrant.grantee_facility_id == user.facility_id)


async def export_bundle(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
    category: Category | None = None,
    binary: bool = False,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The patient's passport as a validated FHIR R4 Bundle (permitted categories only).

    With ``category`` the export asks for that category alone, and is denied without it.
    """
    decision = await authorize(
        session,
        user,
        patient_id,
        access=Access.read,
        needed=frozenset({category.value}) if category is not None else None,
        action="fhir.export",
        now=now,
        client=client,
    )
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise NotFound()
    entries = await entries_of(session, patient_id)
    if category is not None:
        entries = [e for e in entries if KIND_CATEGORY[Kind(e["kind"])] == category]
    if decision.categories is not None:
        entries = [
            e for e in entries if KIND_CATEGORY[Kind(e["kind"])].value in decision.categories
        ]
    entries = amended_view(entries)
    consultation_ids = {uuid.UUID(e["consultation_id"]) for e in entries if e["consultation_id"]}
    consultations = (
        list(
            await session.scalars(
                select(Consultation)
                .where(Consultation.id.in_(consultation_ids))
                .order_by(Consultation.created_at, Consultation.id)
            )
        )
        if consultation_ids
        else []
    )
    grants = list(
        await session.scalars(
            select(ConsentGrant)
            .where(ConsentGrant.patient_id == patient_id, _grants_shown_to(user, patient_id))
            .order_by(ConsentGrant.created_at, ConsentGrant.id)
        )
    )
    binaries = None
    if binary and settings is not None:
        # The files the export shows, each checked against the hash its entry carries.
        store = store_for(settings, session)
        binaries = {}
        for e in entries:
            sha256 = e["body"].get("sha256")
            if e["kind"] == Kind.attachment and e["body"].get("file_id") and sha256:
                try:
                    binaries[sha256] = await get(store, session, sha256)
                except BlobProblem as exc:
                    raise FileUnavailable(str(exc)) from None
    bundle = build_bundle(
        PatientData(
            str(patient.id),
            patient.iin,
            patient.full_name,
            patient.birth_date,
            patient.sex,
            patient.phone,
        ),
        entries,
        [
            EncounterData(
                str(c.id),
                c.status,
                c.mode,
                c.specialty,
                str(c.specialist_id) if c.specialist_id else None,
                str(c.requester_id),
                c.starts_at,
                c.ends_at,
                c.started_at,
                c.ended_at,
            )
            for c in consultations
        ],
        [
            ConsentData(
                str(g.id),
                str(g.grantee_user_id) if g.grantee_user_id else None,
                str(g.grantee_facility_id) if g.grantee_facility_id else None,
                g.access,
                g.categories,
                g.created_at,
                g.expires_at,
                is_active(g, now),
            )
            for g in grants
        ],
        now=now,
        binaries=binaries,
    )
    return validate(bundle)
