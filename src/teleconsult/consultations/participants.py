"""Who takes part in a consultation beyond its GP and its specialist: specialists invited by
its specialist (``invitations.py``) and, invited by its GP, the patient (the call options).

At most :data:`MAX_PEOPLE` take part (the browser mesh of the call): the GP, the specialist,
invited specialists and the invited patient. The rules every reader of a consultation uses
(queue, visibility, call, chat) live here, with no import of the consent package.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..calls.models import CallOptions
from ..codes import Role
from ..errors import Conflict
from .models import Consultation, ConsultationParticipant

# The GP, the specialist and two more: what a browser mesh carries (docs/calls.md).
MAX_PEOPLE = 4


class ParticipantsFull(Conflict):
    default_detail = f"At most {MAX_PEOPLE} people take part in a consultation."
    default_code = "participants_full"


def invited_clause(user_id: uuid.UUID) -> ColumnElement[bool]:
    """For a query on consultations: the user is invited into the consultation."""
    return exists().where(
        ConsultationParticipant.consultation_id == Consultation.id,
        ConsultationParticipant.user_id == user_id,
    )


async def is_invited(session: AsyncSession, consultation_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(ConsultationParticipant.id).where(
            ConsultationParticipant.consultation_id == consultation_id,
            ConsultationParticipant.user_id == user_id,
        )
    )
    return found is not None


async def takes_part(session: AsyncSession, user: User, consultation: Consultation) -> bool:
    """Who reads and writes a consultation's chat, and reads the files sent in it: its GP,
    its specialist, the specialists invited into it and, once invited to the call, its
    patient."""
    if user.id in (consultation.requester_id, consultation.specialist_id):
        return True
    if user.role == Role.specialist:
        return await is_invited(session, consultation.id, user.id)
    if user.role == Role.patient and user.patient_id == consultation.patient_id:
        options = await session.get(CallOptions, consultation.id)
        return options is not None and options.patient_invited
    return False


async def people_ids(session: AsyncSession, consultation: Consultation) -> set[uuid.UUID]:
    """The accounts of everyone who takes part (``takes_part``), for their live events."""
    found = {consultation.requester_id, *await invited_ids(session, consultation.id)}
    if consultation.specialist_id is not None:
        found.add(consultation.specialist_id)
    options = await session.get(CallOptions, consultation.id)
    if options is not None and options.patient_invited:
        patients = await session.scalars(
            select(User.id).where(User.patient_id == consultation.patient_id)
        )
        found.update(patients)
    return found


async def invited_ids(session: AsyncSession, consultation_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(ConsultationParticipant.user_id).where(
            ConsultationParticipant.consultation_id == consultation_id
        )
    )
    return list(rows)


async def people_count(session: AsyncSession, consultation: Consultation, patient: bool) -> int:
    """How many take part: the GP, the specialist (once known), the invited, the patient."""
    invited = await session.scalar(
        select(func.count())
        .select_from(ConsultationParticipant)
        .where(ConsultationParticipant.consultation_id == consultation.id)
    )
    return 1 + (consultation.specialist_id is not None) + int(invited or 0) + int(patient)


async def room_for_one_more(
    session: AsyncSession, consultation: Consultation, patient_invited: bool
) -> None:
    """409 ``participants_full`` when a fifth person would take part."""
    if await people_count(session, consultation, patient_invited) >= MAX_PEOPLE:
        raise ParticipantsFull()
