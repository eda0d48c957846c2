"""Call links: "the call is open now" by SMS, with a one-time link that lets the invited
patient join from a phone without a password.

The link is minted only as its SMS is sent (:func:`mint`, the messages relay's hook), so its
token exists nowhere but in that SMS: the database keeps its SHA-256. It works once, only
inside the consultation's call window, and opens a call-only session (``AuthToken.call_only``,
checked by ``accounts/auth.py``): that consultation's call and nothing else, never the
passport.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.auth import new_token, token_hash
from ..accounts.models import AuthToken, User
from ..audit.service import record
from ..consultations.lifecycle import JOIN_EARLY, Status
from ..consultations.models import Consultation
from ..errors import DomainError
from ..notify.models import Message
from .models import CallLink, CallOptions
from .rules import JOIN_LATE, call_is_open, new_ticket
from .service import CallNotOpen

JOINABLE = (Status.scheduled, Status.in_progress)
LINK_PATH = "/call/{consultation}#link={token}"


class CallLinkInvalid(DomainError):
    status = 400
    default_detail = "This call link is not valid: used, for another consultation, or unknown."
    default_code = "call_link_invalid"


@dataclass(frozen=True)
class CallSession:
    token: str
    expires_at: datetime
    consultation_id: uuid.UUID


def window(consultation: Consultation) -> tuple[datetime, datetime] | None:
    """When the consultation's call can be joined (see ``rules.call_is_open``)."""
    if consultation.starts_at is None:
        return None
    return (
        consultation.starts_at - JOIN_EARLY,
        (consultation.ends_at or consultation.starts_at) + JOIN_LATE,
    )


async def mint(session: AsyncSession, message: Message, now: datetime) -> dict[str, str] | None:
    """A fresh one-time link for the message's patient, as its SMS is sent; ``None`` when
    the call is no longer theirs to join (cancelled, closed, invitation withdrawn)."""
    if message.consultation_id is None or message.user_id is None:
        return None
    consultation = await session.get(Consultation, message.consultation_id)
    options = await session.get(CallOptions, message.consultation_id)
    user = await session.get(User, message.user_id)
    if consultation is None or options is None or not options.patient_invited:
        return None
    if user is None or not user.is_active or user.patient_id != consultation.patient_id:
        return None
    span = window(consultation)
    if span is None or now > span[1] or consultation.status not in JOINABLE:
        return None
    # An earlier link of this patient for this call stops working.
    await session.execute(
        update(CallLink)
        .where(
            CallLink.consultation_id == consultation.id,
            CallLink.user_id == user.id,
            CallLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = new_ticket()
    session.add(
        CallLink(
            token_hash=token_hash(token),
            consultation_id=consultation.id,
            user_id=user.id,
            created_at=now,
            valid_from=span[0],
            valid_until=span[1],
        )
    )
    base = message.params.get("base", "")
    return {"link": base + LINK_PATH.format(consultation=consultation.id, token=token)}


async def redeem(
    session: AsyncSession,
    consultation_id: uuid.UUID,
    token: str,
    *,
    now: datetime,
    client: str | None,
) -> CallSession:
    """Open a call-only session with a call link: once (400 after), for its own consultation
    (400 for another), inside the call's window (403 before or after; not spent then)."""
    link = await session.scalar(select(CallLink).where(CallLink.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.consultation_id != consultation_id:
        raise CallLinkInvalid()
    consultation = await session.get(Consultation, consultation_id)
    user = await session.get(User, link.user_id)
    if consultation is None or user is None or not user.is_active:
        raise CallLinkInvalid()
    inside = link.valid_from <= now <= link.valid_until
    if not inside or not call_is_open(
        consultation.status, consultation.starts_at, consultation.ends_at, now
    ):
        raise CallNotOpen()
    claimed = await session.execute(
        update(CallLink)
        .where(CallLink.token_hash == link.token_hash, CallLink.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise CallLinkInvalid()
    session_token = new_token()
    session.add(
        AuthToken(
            token_hash=token_hash(session_token),
            user_id=user.id,
            created_at=now,
            expires_at=link.valid_until,
            call_only=consultation_id,
        )
    )
    await record(
        session,
        patient_id=None,
        actor_id=user.id,
        action="call.link_used",
        outcome="ok",
        reason=f"consultation {consultation_id}",
        at=now,
        client=client,
    )
    await session.flush()
    return CallSession(session_token, link.valid_until, consultation_id)
