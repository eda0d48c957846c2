"""Inviting a specialist of another specialty into a consultation (a multidisciplinary
consultation), by the consultation's specialist only.

The invited specialist sees the consultation in their queue and joins its call and chat;
their access to the passport rests on the patient's consent, asked with the invitation
through the one consent request flow (``consent/requests.py``: the patient confirms from
their account or with a one-time code) and refused until then.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import SpecialistSpecialty, User
from ..bus.outbox import enqueue
from ..calls.models import CallOptions
from ..codes import Role
from ..consent.models import ConsentRequest
from ..consent.requests import request_specialist_consent
from ..consent.trail import audit_event
from ..errors import Conflict, Forbidden, NotFound, field_error
from .models import ACTIVE_STATUSES, Consultation, ConsultationParticipant
from .participants import is_invited, room_for_one_more


class NotTheSpecialist(Forbidden):
    default_detail = "Only the consultation's specialist can invite another specialist."
    default_code = "invite_specialist_only"


class AlreadyTakesPart(Conflict):
    default_detail = "This person already takes part in the consultation."
    default_code = "already_participant"


class ConsultationOver(Conflict):
    default_detail = "Only an open consultation takes new participants."
    default_code = "consultation_not_open"


@dataclass(frozen=True)
class Invited:
    participant: ConsultationParticipant
    consent: ConsentRequest | None


async def _patient_invited(session: AsyncSession, consultation_id: uuid.UUID) -> bool:
    options = await session.get(CallOptions, consultation_id)
    return options is not None and options.patient_invited


async def invite_specialist(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
) -> Invited:
    """The consultation's specialist invites a specialist of another specialty.

    Someone else's consultation is a 404 (for a specialist who cannot see it) or a 403 (its
    GP, an invited specialist); the invited specialist's passport access waits for the
    patient's consent, asked here.
    """
    consultation = await session.scalar(
        select(Consultation).where(Consultation.id == consultation_id).with_for_update()
    )
    if consultation is None:
        raise NotFound(code="consultation_not_found")
    takes_part = actor.id in (consultation.requester_id, consultation.specialist_id)
    if not takes_part and not await is_invited(session, consultation_id, actor.id):
        raise NotFound(code="consultation_not_found")
    if actor.id != consultation.specialist_id:
        raise NotTheSpecialist()
    if consultation.status not in ACTIVE_STATUSES:
        raise ConsultationOver()
    invitee = await session.get(User, user_id)
    if invitee is None or not invitee.is_active or invitee.role != Role.specialist:
        raise field_error("user_id", "no such specialist", "no_such_specialist")
    if invitee.id == consultation.specialist_id or await is_invited(
        session, consultation_id, invitee.id
    ):
        raise AlreadyTakesPart()
    other_specialty = await session.scalar(
        select(SpecialistSpecialty.user_id).where(
            SpecialistSpecialty.user_id == invitee.id,
            SpecialistSpecialty.specialty != consultation.specialty,
        )
    )
    if other_specialty is None:
        raise field_error(
            "user_id", "the specialist practises no other specialty", "same_specialty"
        )
    await room_for_one_more(session, consultation, await _patient_invited(session, consultation_id))
    request = await request_specialist_consent(session, consultation, invited=invitee, now=now)
    participant = ConsultationParticipant(
        id=uuid.uuid4(),
        consultation_id=consultation_id,
        user_id=invitee.id,
        invited_by=actor.id,
        invited_at=now,
        consent_request_id=request.id if request is not None else None,
    )
    session.add(participant)
    await session.flush()
    await audit_event(
        session,
        consultation.patient_id,
        "consultation.invite",
        f"consultation {consultation_id}: specialist {invitee.id} invited",
        actor_id=actor.id,
        at=now,
        client=None,
    )
    # The invited specialist's queue shows it at once.
    enqueue(
        session,
        f"user:{invitee.id}",
        {
            "type": "consultation",
            "event": "invited",
            "consultation_id": str(consultation_id),
            "status": consultation.status,
            "specialty": consultation.specialty,
            "urgency": consultation.urgency,
            "mode": consultation.mode,
        },
    )
    return Invited(participant, request)


async def participants(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID
) -> list[Invited]:
    """The invited specialists of a consultation, with where the patient's consent stands;
    for the consultation's GP, specialist, invited specialists and patient (else 404)."""
    consultation = await session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(code="consultation_not_found")
    allowed = actor.id in (consultation.requester_id, consultation.specialist_id) or (
        actor.role == Role.patient and actor.patient_id == consultation.patient_id
    )
    if not allowed and not await is_invited(session, consultation_id, actor.id):
        raise NotFound(code="consultation_not_found")
    rows = await session.execute(
        select(ConsultationParticipant, ConsentRequest)
        .outerjoin(ConsentRequest, ConsentRequest.id == ConsultationParticipant.consent_request_id)
        .where(ConsultationParticipant.consultation_id == consultation_id)
        .order_by(ConsultationParticipant.invited_at, ConsultationParticipant.id)
    )
    return [Invited(p, r) for p, r in rows]
