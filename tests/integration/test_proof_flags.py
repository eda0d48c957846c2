"""Proof of service: completions flagged from real calls, the report, its CSV, resolving."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from teleconsult.audit.models import AuditEntry
from teleconsult.calls.client import CallClient
from teleconsult.calls.models import CallParticipation
from teleconsult.clock import FakeClock

from ..callkit import booked_call, exchange_frames, leave_all, loopback_only, until_async
from ..conftest import Database
from ..factories import World, patient, user

pytestmark = [pytest.mark.media, pytest.mark.timeout(90)]


def base_url(client: Any) -> str:
    return str(client.make_url("")).rstrip("/")


async def _all_left(database: Database, cid: str) -> None:
    async def left() -> bool:
        async with database.engine.connect() as conn:
            stays = (
                await conn.execute(
                    select(CallParticipation.left_at).where(
                        CallParticipation.consultation_id == uuid.UUID(cid)
                    )
                )
            ).all()
        return bool(stays) and all(s.left_at is not None for s in stays)

    await until_async(left, within=15)


async def _flags(w: World, **params: Any) -> list[dict[str, Any]]:
    status, page = await w.admin.get("/proof/flags", **params)
    assert status == 200, page
    return list(page["items"])


async def _complete(
    w: World, cid: str, conclusion: str = "Reviewed the ECG; no arrhythmia."
) -> None:
    status, body = await w.specialist.post(
        f"/consultations/{cid}/complete", {"conclusion": conclusion}
    )
    assert status == 200, body


@pytest.mark.parametrize("seconds", [70, 30])
async def test_a_call_is_flagged_unless_both_were_connected_a_minute(
    client: Any,
    database: Database,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    seconds: int,
) -> None:
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    status, booked = await w.gp.get(f"/consultations/{cid}")
    assert status == 200, booked
    starts_at = datetime.fromisoformat(booked["starts_at"])
    gp = CallClient(base_url(client), cid, token=w.gp.token)
    specialist = CallClient(base_url(client), cid, token=w.specialist.token)
    joined = clock.now()
    try:
        await exchange_frames(gp, specialist)
        clock.advance(seconds=seconds)
    finally:
        await leave_all(gp, specialist)
    await _all_left(database, cid)
    clock.advance(seconds=(starts_at - clock.now()).total_seconds() + 60)
    await _complete(w, cid)

    flags = await _flags(w)
    if seconds >= 60:
        assert flags == []
        return
    [flag] = flags
    assert flag["reason"] == "no_joint_minute"
    assert flag["connected_seconds"] == seconds
    # The evidence: who joined and left when, by name, never by an id alone.
    assert sorted(s["role"] for s in flag["stays"]) == ["gp", "specialist"]
    for stay in flag["stays"]:
        assert datetime.fromisoformat(stay["joined_at"]) == joined
        assert datetime.fromisoformat(stay["left_at"]) == joined + timedelta(seconds=seconds)
        assert stay["person"]["name"]
    assert flag["specialist"]["name"]
    assert flag["facility"]


@pytest.mark.parametrize("who", ["patient", "invited_specialist"])
async def test_the_patient_proves_the_call_and_an_invited_specialist_does_not(
    client: Any,
    database: Database,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    who: str,
) -> None:
    """70 s of the specialist with the patient (invited by the GP) is a delivered call; 70 s
    of the specialist with a specialist they invited, the GP and the patient away, is not."""
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    status, booked = await w.gp.get(f"/consultations/{cid}")
    assert status == 200, booked
    if who == "patient":
        other = await user(w.admin, "patient", patient_id=w.patient_id)
        status, body = await w.gp.post(
            f"/consultations/{cid}/call/options", {"invite_patient": True}
        )
    else:
        other = await user(w.admin, "specialist", facility_id=w.hospital, specialties=["neurology"])
        status, body = await w.specialist.post(
            f"/consultations/{cid}/participants", {"user_id": other.id}
        )
    assert status in (200, 201), body
    them = CallClient(base_url(client), cid, token=other.token)
    specialist = CallClient(base_url(client), cid, token=w.specialist.token)
    try:
        await exchange_frames(them, specialist)
        clock.advance(seconds=70)
    finally:
        await leave_all(them, specialist)
    await _all_left(database, cid)
    starts_at = datetime.fromisoformat(booked["starts_at"])
    clock.advance(seconds=(starts_at - clock.now()).total_seconds() + 60)
    await _complete(w, cid)

    flags = await _flags(w)
    if who == "patient":
        assert flags == []
        return
    [flag] = flags
    assert flag["reason"] == "no_joint_minute" and flag["connected_seconds"] == 0
    # The evidence still shows both stays.
    assert sorted(s["role"] for s in flag["stays"]) == ["specialist", "specialist"]


async def test_completions_without_a_call_before_the_slot_or_without_a_conclusion(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now(), minutes_ahead=10)
    # Started 10 minutes early (allowed) and completed at once: no call, before its slot.
    status, body = await w.specialist.post(f"/consultations/{cid}/start")
    assert status == 200, body
    await _complete(w, cid)

    async def async_case(conclusion: str) -> str:
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": await patient(w.gp),
                "specialty": "cardiology",
                "mode": "async",
                "reason": "ECG to read",
            },
        )
        assert status == 201, body
        status, claimed = await w.specialist.post(f"/consultations/{body['id']}/claim")
        assert status == 200, claimed
        await _complete(w, body["id"], conclusion)
        return str(body["id"])

    terse = await async_case("ok.")
    await async_case("Sinus rhythm, rate 72; no ischaemic changes. Continue the treatment.")

    flags = await _flags(w)
    assert sorted((f["consultation_id"], f["reason"]) for f in flags) == sorted(
        [(cid, "no_joint_minute"), (cid, "before_slot"), (terse, "no_conclusion")]
    )
    video = next(f for f in flags if f["reason"] == "no_joint_minute")
    assert video["connected_seconds"] == 0 and video["stays"] == []

    # The report: one row for the clinic's patients with this specialist this month.
    status, report = await w.admin.get("/proof/report")
    assert status == 200, report
    [row] = report["items"]
    assert row["consultations"] == 2
    assert (row["no_joint_minute"], row["no_conclusion"], row["before_slot"]) == (1, 1, 1)
    assert (row["open"], row["resolved"]) == (3, 0)
    assert row["facility"] and row["specialist"]
    assert row["month"].endswith("-01")

    resp = await client.get("/api/v1/proof/report.csv", headers=w.admin.headers())
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    [line] = list(csv.DictReader(io.StringIO(await resp.text())))
    assert line["month"] == row["month"][:7]
    assert line["facility"] == row["facility"] and line["specialist"] == row["specialist"]
    assert (line["consultations"], line["open"], line["before_slot"]) == ("2", "3", "1")

    status, body = await w.admin.get("/proof/report", **{"from": "2031-02-01", "to": "2031-01-31"})
    assert status == 422 and body["field_codes"] == {"to": "range_reversed"}, body
    status, body = await w.admin.get("/proof/report", **{"from": "2001-01-01", "to": "2001-12-31"})
    assert status == 200 and body["items"] == [], body

    # Only administrators see it.
    for caller in (w.gp, w.specialist):
        status, body = await caller.get("/proof/report")
        assert status == 403 and body["code"] == "role_forbidden"
        status, body = await caller.get("/proof/flags")
        assert status == 403
        resp = await client.get("/api/v1/proof/report.csv", headers=caller.headers())
        assert resp.status == 403


async def test_a_flag_is_resolved_with_a_reason_and_audited(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    status, body = await w.specialist.post(f"/consultations/{cid}/start")
    assert status == 200, body
    clock.advance(minutes=20)
    await _complete(w, cid)
    [flag] = await _flags(w)
    assert flag["reason"] == "no_joint_minute" and flag["resolved_at"] is None

    why = "The video failed; the consultation was held by phone for 20 minutes."
    # Not for anyone else, nor without a reason.
    for caller in (w.gp, w.specialist):
        status, body = await caller.post(f"/proof/flags/{flag['id']}/resolve", {"reason": why})
        assert status == 403, body
    status, body = await w.admin.post(f"/proof/flags/{flag['id']}/resolve", {"reason": " "})
    assert status == 422 and "reason" in body["fields"], body
    status, body = await w.admin.post(f"/proof/flags/{cid}/resolve", {"reason": why})
    assert status == 404 and body["code"] == "proof_flag_not_found", body

    status, resolved = await w.admin.post(f"/proof/flags/{flag['id']}/resolve", {"reason": why})
    assert status == 200, resolved
    assert resolved["resolution"] == why
    assert datetime.fromisoformat(resolved["resolved_at"]) == clock.now()
    assert resolved["resolved_by"]["role"] == "admin"
    status, body = await w.admin.post(f"/proof/flags/{flag['id']}/resolve", {"reason": why})
    assert status == 409 and body["code"] == "proof_flag_resolved", body

    assert await _flags(w, status="open") == []
    [shown] = await _flags(w, status="resolved")
    assert shown["resolution"] == why
    status, report = await w.admin.get("/proof/report", status="open")
    assert status == 200 and report["items"] == []
    status, report = await w.admin.get("/proof/report")
    assert [(r["open"], r["resolved"]) for r in report["items"]] == [(0, 1)]

    async with database.engine.connect() as conn:
        documents = (await conn.scalars(select(AuditEntry.document))).all()
    audited = [json.loads(d) for d in documents if "proof_flag_resolved" in d]
    [entry] = audited
    assert entry["actor_id"] == w.admin.id
    assert entry["outcome"] == "success"
    assert cid in entry["reason"] and why in entry["reason"]
