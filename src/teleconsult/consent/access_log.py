"""The patient's access log as it is read: by the patient themself, or by an administrator,
whose look is itself audited. Emergency sessions that ran out are closed first
(:func:`breakglass.close_expired_break_glass`), so that their end shows in the log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.directory import facilities, people
from ..accounts.models import User
from ..audit.service import access_log
from ..audit.wording import Wording, word
from ..codes import Role
from ..errors import Forbidden, NotFound
from .breakglass import close_expired_break_glass
from .models import BreakGlassSession, ConsentGrant, ConsentRequest
from .trail import audit_event


async def read_access_log(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    cursor_seq: int | None,
    limit: int,
    now: datetime,
    client: str | None,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    """The patient reads their own access log; an administrator's look is itself audited."""
    if user.role == Role.patient and user.patient_id != patient_id:
        raise NotFound(code="patient_not_found")
    if user.role not in (Role.patient, Role.admin):
        raise Forbidden(
            "Only the patient and administrators read the access log.", code="access_log_forbidden"
        )
    await close_expired_break_glass(session, patient_id, now=now, client=client)
    if user.role == Role.admin:
        await audit_event(
            session,
            patient_id,
            "access_log.read",
            "administrator review",
            actor_id=user.id,
            at=now,
            client=client,
            outcome="permit",
            durable=True,
        )
    items, last = await access_log(
        session, patient_id, cursor_seq=cursor_seq, limit=limit, newest_first=newest_first
    )
    await in_plain_words(session, patient_id, items)
    return items, last


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def in_plain_words(
    session: AsyncSession, patient_id: uuid.UUID, items: list[dict[str, Any]]
) -> None:
    """Give each entry its ``event`` and ``details`` (``audit.wording``), with the people,
    facilities, grants, requests and emergency sessions it mentions named, never by id: who
    (name, role, facility), what (access, parts of the passport), until when, and why.
    A handful of statements for a whole page, whatever its length."""
    wordings = [word(i["action"], i["outcome"], i["reason"]) for i in items]
    grant_ids = {g for w in wordings for g in w.grants}
    request_ids = {r for w in wordings for r in w.requests}
    session_ids = {s for w in wordings for s in w.sessions}
    grants = {
        g.id: g
        for g in (
            await session.scalars(
                select(ConsentGrant).where(
                    ConsentGrant.id.in_(grant_ids), ConsentGrant.patient_id == patient_id
                )
            )
            if grant_ids
            else []
        )
    }
    asked = {
        r.id: r
        for r in (
            await session.scalars(
                select(ConsentRequest).where(
                    ConsentRequest.id.in_(request_ids), ConsentRequest.patient_id == patient_id
                )
            )
            if request_ids
            else []
        )
    }
    emergencies = {
        b.id: b
        for b in (
            await session.scalars(
                select(BreakGlassSession).where(
                    BreakGlassSession.id.in_(session_ids),
                    BreakGlassSession.patient_id == patient_id,
                )
            )
            if session_ids
            else []
        )
    }
    user_ids = {u for w in wordings for u in w.users}
    user_ids |= {g.grantee_user_id for g in grants.values() if g.grantee_user_id}
    user_ids |= {r.grantee_user_id for r in asked.values()}
    facility_ids = {f for w in wordings for f in w.facilities}
    facility_ids |= {g.grantee_facility_id for g in grants.values() if g.grantee_facility_id}
    named = await people(session, user_ids, patient_id=patient_id)
    places = await facilities(session, facility_ids)

    def grantee(user_id: uuid.UUID | None, facility_id: uuid.UUID | None) -> dict[str, Any]:
        if user_id is not None and user_id in named:
            return {"grantee": named[user_id].model_dump(mode="json", exclude={"id"})}
        if facility_id is not None and facility_id in places:
            return {"grantee_facility": places[facility_id].name}
        return {}

    def grant_words(grant: ConsentGrant) -> dict[str, Any]:
        return {
            **grantee(grant.grantee_user_id, grant.grantee_facility_id),
            "access": grant.access,
            "categories": grant.categories,
            "until": _iso(grant.expires_at),
        }

    for item, w in zip(items, wordings, strict=True):
        details = dict(w.details)
        details.update(_named(w, grantee, grant_words, grants, asked, emergencies))
        item["event"] = w.event
        item["details"] = details


def _named(
    w: Wording,
    grantee: Any,
    grant_words: Any,
    grants: dict[uuid.UUID, ConsentGrant],
    asked: dict[uuid.UUID, ConsentRequest],
    emergencies: dict[uuid.UUID, BreakGlassSession],
) -> dict[str, Any]:
    """The names and ends behind the ids an entry mentions."""
    extra: dict[str, Any] = {}
    if w.event in ("consent_grant", "consultation_invite"):
        extra.update(
            grantee(w.users[0] if w.users else None, w.facilities[0] if w.facilities else None)
        )
    known = [grants[g] for g in w.grants if g in grants]
    if w.event == "consent_revoke" and known:
        extra.update(grant_words(known[0]))
    elif known:
        # A read under consent: until when the consents it used run.
        extra["until"] = _iso(max(g.expires_at for g in known))
    for request_id in w.requests:
        if (r := asked.get(request_id)) is not None:
            extra.update(grantee(r.grantee_user_id, None))
            extra.update(
                {"access": r.access, "categories": r.categories, "until": _iso(r.expires_at)}
            )
    for session_id in w.sessions:
        if (b := emergencies.get(session_id)) is not None:
            extra.update({"until": _iso(b.ends_at), "why": b.reason})
    return extra
