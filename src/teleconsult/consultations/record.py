"""A consultation's full record: the referral, the conclusion, and what was written into the
passport in it (notes with their diagnoses, diagnoses, prescriptions, results, attachments).

Read by the consultation's own people only: its referring GP, its specialist and its patient.
The entries come from the passport, so reading them passes the consent decision point (a
denial is audited and answered 403 ``consent_denied``) and the permit is audited too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..consent.decision import authorize
from ..consent.policy import Access
from ..errors import Forbidden
from ..passport.entries import entries_of
from ..passport.rules import amended_view
from ..passport.schemas import KIND_CATEGORY, EntryOut
from .models import Consultation
from .schemas import ConsultationOut
from .service import get_consultation

ACTION = "consultation.record"


class RecordOut(BaseModel):
    consultation: ConsultationOut
    entries: list[EntryOut]


def takes_part(actor: User, consultation: Consultation) -> bool:
    """The referring GP, the consultation's specialist, or its patient."""
    role = Role(actor.role)
    if role == Role.gp:
        return consultation.requester_id == actor.id
    if role == Role.specialist:
        return consultation.specialist_id == actor.id
    if role == Role.patient:
        return consultation.patient_id == actor.patient_id
    return False


async def read_record(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
) -> RecordOut:
    """The record of one consultation; 404 for a consultation the actor may not see, 403 for
    one it sees without taking part in it (a case in its specialty's queue, an administrator)
    and 403 ``consent_denied`` when the patient's consent does not cover the reader."""
    consultation = await get_consultation(session, actor, consultation_id)
    if not takes_part(actor, consultation):
        raise Forbidden(
            "Only the consultation's GP, specialist and patient read its record.",
            code="record_not_yours",
        )
    decision = await authorize(
        session,
        actor,
        consultation.patient_id,
        access=Access.read,
        needed=None,
        action=ACTION,
        now=now,
        client=client,
    )
    shown: set[str] | None = None
    if decision.categories is not None:
        shown = {k.value for k, c in KIND_CATEGORY.items() if c.value in decision.categories}
    written_here = str(consultation.id)
    entries: list[dict[str, Any]] = [
        e
        for e in amended_view(await entries_of(session, consultation.patient_id))
        if e["consultation_id"] == written_here and (shown is None or e["kind"] in shown)
    ]
    return RecordOut(
        consultation=ConsultationOut.model_validate(consultation),
        entries=[EntryOut.model_validate(e) for e in entries],
    )
