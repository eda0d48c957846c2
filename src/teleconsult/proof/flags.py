"""Flags set when a consultation is completed: the rules, pure, and their recording.

A consultation completed without proof that it was delivered is flagged, with the reason:

- ``no_joint_minute``: a video consultation whose call never had the specialist and the GP
  (or the patient) connected together for at least a minute (a specialist the specialist
  invited is no proof);
- ``no_conclusion``: an async case completed without a written conclusion (an empty one, or
  one with fewer than :data:`MIN_CONCLUSION_CHARS` letters and digits, such as "ok" or "-");
- ``before_slot``: a consultation completed before its slot began.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..calls.models import CallParticipation
from ..consultations.models import Consultation
from .models import ProofFlag

MIN_JOINT_SECONDS = 60.0
MIN_CONCLUSION_CHARS = 10


class Reason(StrEnum):
    no_joint_minute = "no_joint_minute"
    no_conclusion = "no_conclusion"
    before_slot = "before_slot"


Stay = tuple[uuid.UUID, datetime, datetime | None]
Span = tuple[datetime, datetime]


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def joint_seconds(
    stays: Iterable[Stay],
    specialist_id: uuid.UUID | None,
    until: datetime,
    counterparts: Container[uuid.UUID] | None = None,
) -> float:
    """Seconds during which the specialist and one of ``counterparts`` (the GP or the patient;
    anyone else when not given) were both in the call, up to ``until``; a stay not yet left
    counts up to ``until``. Anyone else in the call (an invited specialist) does not count."""
    mine: list[Span] = []
    theirs: list[Span] = []
    for user, joined, left in stays:
        end = min(left or until, until)
        if end <= joined:
            continue
        if user == specialist_id:
            mine.append((joined, end))
        elif counterparts is None or user in counterparts:
            theirs.append((joined, end))
    a, b = _union(mine), _union(theirs)
    total = 0.0
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            total += (end - start).total_seconds()
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def written(conclusion: str | None) -> bool:
    """A conclusion someone wrote: at least :data:`MIN_CONCLUSION_CHARS` letters or digits."""
    return sum(ch.isalnum() for ch in conclusion or "") >= MIN_CONCLUSION_CHARS


def reasons(
    *,
    mode: str,
    conclusion: str | None,
    starts_at: datetime | None,
    completed_at: datetime,
    connected: float | None,
) -> list[Reason]:
    """Why a consultation completed at ``completed_at`` is doubtful (empty: it is not)."""
    found: list[Reason] = []
    if mode == "video" and (connected or 0.0) < MIN_JOINT_SECONDS:
        found.append(Reason.no_joint_minute)
    if mode == "async" and not written(conclusion):
        found.append(Reason.no_conclusion)
    if starts_at is not None and completed_at < starts_at:
        found.append(Reason.before_slot)
    return found


async def stays_of(session: AsyncSession, consultation_id: uuid.UUID) -> list[Stay]:
    rows = await session.execute(
        select(
            CallParticipation.user_id, CallParticipation.joined_at, CallParticipation.left_at
        ).where(CallParticipation.consultation_id == consultation_id)
    )
    return [(u, j, left) for u, j, left in rows]


async def counterparts_of(session: AsyncSession, consultation: Consultation) -> set[uuid.UUID]:
    """Whose presence with the specialist proves a video consultation: its GP and the
    patient's accounts (not the specialists the specialist invited)."""
    patients = await session.scalars(
        select(User.id).where(User.patient_id == consultation.patient_id)
    )
    return {consultation.requester_id, *patients}


async def flag_completion(
    session: AsyncSession, consultation: Consultation, now: datetime
) -> list[ProofFlag]:
    """Flag a consultation being completed at ``now``, with each reason that applies."""
    connected: float | None = None
    if consultation.mode == "video":
        stays = await stays_of(session, consultation.id)
        others = await counterparts_of(session, consultation)
        connected = joint_seconds(stays, consultation.specialist_id, now, others)
    found = reasons(
        mode=consultation.mode,
        conclusion=consultation.conclusion,
        starts_at=consultation.starts_at,
        completed_at=now,
        connected=connected,
    )
    flags = [
        ProofFlag(
            id=uuid.uuid4(),
            consultation_id=consultation.id,
            reason=reason.value,
            facility_id=consultation.facility_id,
            specialist_id=consultation.specialist_id,
            completed_at=now,
            connected_seconds=connected,
            flagged_at=now,
        )
        for reason in found
    ]
    session.add_all(flags)
    return flags
