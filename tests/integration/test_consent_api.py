from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from teleconsult.app import create_app
from teleconsult.appkeys import NOTIFIER
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.consent.notifier import DevelopmentNotifier, notifier_for

from ..conftest import Database, make_settings
from ..factories import availability
from .passport_support import clinic, grant, note, patient_account, relogin


def notifier(client: Any) -> DevelopmentNotifier:
    sent = client.app[NOTIFIER]
    assert isinstance(sent, DevelopmentNotifier)
    return sent


async def test_grant_validation(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    url = f"/patients/{c.patient_id}/consents"
    soon = (clock.now() + timedelta(days=30)).isoformat()
    cases = [
        ({"access": "read", "expires_at": soon}, "grantee_user_id"),
        (
            {
                "grantee_user_id": c.w.specialist.id,
                "grantee_facility_id": c.w.hospital,
                "access": "read",
                "expires_at": soon,
            },
            "grantee_user_id",
        ),
        (
            {
                "grantee_user_id": c.w.specialist.id,
                "access": "read",
                "expires_at": (clock.now() + timedelta(days=366)).isoformat(),
            },
            "expires_at",
        ),
        (
            {
                "grantee_user_id": c.w.specialist.id,
                "access": "read",
                "expires_at": (clock.now() - timedelta(minutes=1)).isoformat(),
            },
            "expires_at",
        ),
        ({"grantee_user_id": c.w.specialist.id, "access": "write", "expires_at": soon}, "access"),
        (
            {
                "grantee_user_id": c.w.specialist.id,
                "access": "read",
                "categories": ["x"],
                "expires_at": soon,
            },
            "categories.0",
        ),
        (
            {
                "grantee_user_id": c.w.specialist.id,
                "access": "read",
                "expires_at": "2030-01-01T00:00",
            },
            "expires_at",
        ),
        (
            {"grantee_user_id": c.patient.id, "access": "read", "expires_at": soon},
            "grantee_user_id",
        ),
    ]
    for payload, field in cases:
        status, body = await c.patient.post(url, payload)
        assert status == 422, (payload, body)
        assert field in body["fields"], (payload, body)
    # Only the patient grants, and only for themself.
    ok = {"grantee_user_id": c.w.specialist.id, "access": "read", "expires_at": soon}
    status, _ = await c.w.gp.post(url, ok)
    assert status == 403
    other = await patient_account(c.w.admin, await _another_patient(c))
    status, _ = await other.post(url, ok)
    assert status == 403
    status, created = await c.patient.post(
        url, ok | {"categories": ["notes", "notes", "diagnoses"]}
    )
    assert status == 201, created
    assert created["categories"] == ["diagnoses", "notes"] and created["active"] is True
    status, page = await c.patient.get(url)
    assert [g["id"] for g in page["items"]] == [created["id"]]
    status, _ = await c.w.specialist.get(url)
    assert status == 403


async def _another_patient(c: Any) -> str:
    from ..factories import patient

    return await patient(c.w.gp)


async def test_revocation_takes_effect_on_the_very_next_request(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    g = await grant(c, clock, facility_id=c.w.hospital, access="read")
    status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    status, _ = await c.patient.post(f"/patients/{c.patient_id}/consents/{g['id']}/revoke")
    assert status == 200
    status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 403
    # Revoking twice changes nothing; a stranger's grant id is not found.
    status, again = await c.patient.post(f"/patients/{c.patient_id}/consents/{g['id']}/revoke")
    assert status == 200 and again["revoked_at"] is not None
    status, _ = await c.patient.post(
        f"/patients/{c.patient_id}/consents/00000000-0000-0000-0000-000000000000/revoke"
    )
    assert status == 404


async def test_one_time_code_flow(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    payload = {
        "grantee_user_id": c.w.gp.id,
        "access": "read_write",
        "expires_at": (clock.now() + timedelta(days=7)).isoformat(),
    }
    status, request = await c.w.gp.post(f"/patients/{c.patient_id}/consent-requests", payload)
    assert status == 201, request
    assert request["status"] == "pending" and "code" not in request
    code = notifier(client).code_for(request["id"])
    assert code is not None and len(code) == 6 and code.isdigit()

    wrong = "000000" if code != "000000" else "111111"
    url = f"/consent-requests/{request['id']}/confirm"
    status, body = await c.w.gp.post(url, {"code": wrong})
    assert status == 422 and "code" in body["fields"], body
    assert "4 attempt" in body["fields"]["code"]
    status, body = await c.w.gp.post(url, {})
    assert status == 422 and "code" in body["fields"]
    # Strangers cannot see the request at all.
    status, _ = await c.other.post(url, {"code": code})
    assert status == 404

    status, granted = await c.w.gp.post(url, {"code": code})
    assert status == 200, granted
    assert granted["source"] == "one_time_code" and granted["grantee_user_id"] == c.w.gp.id
    status, _ = await c.w.gp.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    status, body = await c.w.gp.post(url, {"code": code})
    assert status == 409


async def _code_request(c: Any, clock: FakeClock) -> tuple[str, str]:
    payload = {
        "grantee_user_id": c.w.gp.id,
        "access": "read",
        "expires_at": (clock.now() + timedelta(days=7)).isoformat(),
    }
    status, request = await c.w.gp.post(f"/patients/{c.patient_id}/consent-requests", payload)
    assert status == 201, request
    return request["id"], f"/consent-requests/{request['id']}/confirm"


def _wrong(code: str | None) -> str:
    return "000000" if code != "000000" else "111111"


async def test_codes_expire_after_ten_minutes(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    request_id, url = await _code_request(c, clock)
    clock.advance(minutes=10, seconds=1)
    status, body = await c.w.gp.post(url, {"code": notifier(client).code_for(request_id)})
    assert status == 409 and "expired" in body["detail"]
    status, _ = await c.w.gp.post(f"/consent-requests/{request_id}/send-code")
    assert status == 200
    status, granted = await c.w.gp.post(url, {"code": notifier(client).code_for(request_id)})
    assert status == 200, granted


async def test_five_wrong_codes_lock_the_request_whatever_is_resent(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    request_id, url = await _code_request(c, clock)
    wrong = _wrong(notifier(client).code_for(request_id))
    # Parallel guesses cannot exceed the limit: the request row is locked per attempt.
    results = await asyncio.gather(*(c.w.gp.post(url, {"code": wrong}) for _ in range(3)))
    assert sorted(s for s, _ in results) == [422, 422, 422], results
    # A new code does not give new tries.
    for _ in range(5):
        status, _ = await c.w.gp.post(f"/consent-requests/{request_id}/send-code")
        assert status == 200
    status, body = await c.w.gp.post(url, {"code": _wrong(notifier(client).code_for(request_id))})
    assert status == 422 and "1 attempt" in body["fields"]["code"]
    status, body = await c.w.gp.post(url, {"code": _wrong(notifier(client).code_for(request_id))})
    assert status == 409 and "locked" in body["detail"]
    # Locked for good: even the right code, even after another send, is refused.
    status, _ = await c.w.gp.post(f"/consent-requests/{request_id}/send-code")
    assert status == 409
    status, body = await c.w.gp.post(url, {"code": notifier(client).code_for(request_id)})
    assert status == 409
    status, page = await c.patient.get(f"/patients/{c.patient_id}/consent-requests")
    [mine] = [r for r in page["items"] if r["id"] == request_id]
    assert mine["status"] == "locked"
    # The patient sees it in their access log.
    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log")
    assert status == 200
    assert any(e["action"] == "consent.request_locked" for e in log["items"]), log


async def test_wrong_codes_are_counted_per_patient_across_requests(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    for _ in range(2):
        request_id, url = await _code_request(c, clock)
        for _ in range(5):
            await c.w.gp.post(url, {"code": _wrong(notifier(client).code_for(request_id))})
    # Ten wrong codes on this patient today: a third request cannot be guessed at either.
    request_id, url = await _code_request(c, clock)
    status, body = await c.w.gp.post(url, {"code": notifier(client).code_for(request_id)})
    assert status == 429 and body["error"] == "TooManyRequests"
    # The patient can still confirm from their own account.
    status, granted = await c.patient.post(url, {})
    assert status == 200, granted
    clock.advance(hours=24, seconds=1)
    c.w.gp = await relogin(client, c.w.gp)
    request_id, url = await _code_request(c, clock)
    status, granted = await c.w.gp.post(url, {"code": notifier(client).code_for(request_id)})
    assert status == 200, granted


async def test_booking_asks_consent_for_the_specialist(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    booked = await _book_video(c, clock)
    status, requests = await c.patient.get(f"/patients/{c.patient_id}/consent-requests")
    assert status == 200
    [request] = [r for r in requests["items"] if r["consultation_id"] == booked["id"]]
    assert request["grantee_user_id"] == c.w.specialist.id
    assert request["access"] == "read_write" and request["status"] == "pending"
    ends_at = booked["ends_at"]
    assert datetime.fromisoformat(request["expires_at"]) == (
        datetime.fromisoformat(ends_at) + timedelta(hours=72)
    )
    # No access until the patient agrees.
    status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 403
    # The patient agrees from their own account, without a code.
    status, granted = await c.patient.post(f"/consent-requests/{request['id']}/confirm")
    assert status == 200, granted
    assert granted["source"] == "portal" and granted["access"] == "read_write"
    status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    status, _ = await note(c.w.specialist, c.consultation_id)
    assert status == 201

    # At the point of care the GP can send a code instead; patients cannot send codes.
    status, _ = await c.patient.post(f"/consent-requests/{request['id']}/send-code")
    assert status == 403


async def test_break_glass(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    url = f"/patients/{c.patient_id}/break-glass"
    status, body = await c.other.post(url, {"reason": "too short"})
    assert status == 422 and "reason" in body["fields"]
    status, body = await c.other.post(url, {"reason": "x" * 25, "minutes": 241})
    assert status == 422 and "minutes" in body["fields"]
    status, _ = await c.patient.post(url, {"reason": "Unconscious patient in the emergency room"})
    assert status == 403

    status, _ = await c.other.get(f"/patients/{c.patient_id}/passport")
    assert status == 403
    reason = "Unconscious patient admitted to the emergency room, allergies unknown"
    status, opened = await c.other.post(url, {"reason": reason})
    assert status == 201, opened
    assert datetime.fromisoformat(opened["ends_at"]) == clock.now() + timedelta(hours=4)
    status, _ = await c.other.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    status, _ = await c.other.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200
    # Emergency access reads; it never writes.
    await grant(c, clock, user_id=c.w.specialist.id, access="read")
    status, _ = await note(c.w.specialist, c.consultation_id)
    assert status == 403

    clock.advance(hours=4)
    other = await relogin(client, c.other)
    status, _ = await other.get(f"/patients/{c.patient_id}/passport")
    assert status == 403

    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log", limit="500")
    assert status == 200
    actions = [(e["action"], e["outcome"]) for e in log["items"] if e["actor_id"] == c.other.id]
    assert actions == [
        ("passport.read", "deny"),
        ("break_glass.start", "ok"),
        ("passport.read", "permit"),
        ("fhir.export", "permit"),
        ("break_glass.end", "ok"),
        ("passport.read", "deny"),
    ]
    start = next(e for e in log["items"] if e["action"] == "break_glass.start")
    assert reason in start["reason"]

    admin = await relogin(client, c.w.admin)
    status, sessions = await admin.get("/break-glass")
    assert status == 200
    [session] = sessions["items"]
    assert session["id"] == opened["id"]
    assert datetime.fromisoformat(session["ended_at"]) == datetime.fromisoformat(opened["ends_at"])
    status, _ = await other.get("/break-glass")
    assert status == 403


async def test_break_glass_ended_early(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    reason = "Patient collapsed during the call, need the medication list"
    status, opened = await c.other.post(
        f"/patients/{c.patient_id}/break-glass", {"reason": reason, "minutes": 30}
    )
    assert status == 201
    status, _ = await c.w.specialist.post(f"/break-glass/{opened['id']}/end")
    assert status == 404
    clock.advance(minutes=5)
    status, ended = await c.other.post(f"/break-glass/{opened['id']}/end")
    assert status == 200 and datetime.fromisoformat(ended["ended_at"]) == clock.now()
    status, _ = await c.other.get(f"/patients/{c.patient_id}/passport")
    assert status == 403


async def _book_video(c: Any, clock: FakeClock) -> dict[str, Any]:
    start = clock.now().replace(microsecond=0) + timedelta(hours=2)
    await availability(c.w.specialist, start, hours=1)
    _, slots = await c.w.gp.get("/slots", specialty="cardiology")
    status, booked = await c.w.gp.post(
        "/consultations",
        {
            "patient_id": c.patient_id,
            "specialty": "cardiology",
            "reason": "follow-up",
            "slot_id": slots["items"][0]["id"],
        },
    )
    assert status == 201, booked
    return booked


async def test_participants_see_the_requests_of_a_consultation(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    booked = await _book_video(c, clock)
    url = f"/consultations/{booked['id']}/consent-requests"
    seen = {}
    for who in (c.w.gp, c.w.specialist, c.patient):
        status, page = await who.get(url)
        assert status == 200, page
        seen[who.user["username"]] = [(r["id"], r["status"]) for r in page["items"]]
    [(request_id, status_text)] = seen[c.w.gp.user["username"]]
    assert status_text == "pending"
    assert len({tuple(items) for items in seen.values()}) == 1
    # Anyone else: no such consultation (the admin is not a party to consent either).
    assert (await c.other.get(url))[0] == 404
    assert (await c.w.admin.get(url))[0] == 403

    # The GP sends a code for the booking's request instead of making a second one.
    status, sent = await c.w.gp.post(f"/consent-requests/{request_id}/send-code")
    assert status == 200 and sent["code_expires_at"] is not None
    code = notifier(client).code_for(request_id)
    status, granted = await c.w.gp.post(f"/consent-requests/{request_id}/confirm", {"code": code})
    assert status == 200, granted
    assert granted["grantee_user_id"] == c.w.specialist.id
    _, page = await c.w.gp.get(url)
    assert [(r["id"], r["status"], r["grant_id"], r["grant_active"]) for r in page["items"]] == [
        (request_id, "confirmed", granted["id"], True)
    ]
    # The patient takes it back: the clinicians see that the grant no longer permits.
    status, _ = await c.patient.post(f"/patients/{c.patient_id}/consents/{granted['id']}/revoke")
    assert status == 200
    _, page = await c.w.specialist.get(url)
    assert [(r["status"], r["grant_active"]) for r in page["items"]] == [("confirmed", False)]


async def test_a_point_of_care_request_names_its_consultation(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    payload = {
        "grantee_user_id": c.w.specialist.id,
        "access": "read",
        "expires_at": (clock.now() + timedelta(days=3)).isoformat(),
        "consultation_id": c.consultation_id,
    }
    base = f"/patients/{c.patient_id}/consent-requests"
    status, request = await c.w.gp.post(base, payload)
    assert status == 201 and request["consultation_id"] == c.consultation_id
    _, page = await c.w.specialist.get(f"/consultations/{c.consultation_id}/consent-requests")
    assert request["id"] in [r["id"] for r in page["items"]]
    # A clinician who cannot see the patient learns nothing; the consultation of another
    # patient is refused by field.
    assert (await c.other.post(base, payload))[0] == 404
    other_patient = await _another_patient(c)
    status, body = await c.w.gp.post(f"/patients/{other_patient}/consent-requests", payload)
    assert status == 422 and set(body["fields"]) == {"consultation_id"}, body


async def test_withdraw_and_decline(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    payload = {
        "grantee_user_id": c.w.specialist.id,
        "access": "read",
        "expires_at": (clock.now() + timedelta(days=3)).isoformat(),
    }
    base = f"/patients/{c.patient_id}/consent-requests"
    _, first = await c.w.gp.post(base, payload)
    code = notifier(client).code_for(first["id"])
    # Only the clinicians involved withdraw; the patient declines instead; strangers see nothing.
    assert (await c.patient.post(f"/consent-requests/{first['id']}/withdraw"))[0] == 403
    assert (await c.other.post(f"/consent-requests/{first['id']}/withdraw"))[0] == 404
    status, withdrawn = await c.w.gp.post(f"/consent-requests/{first['id']}/withdraw")
    assert status == 200 and withdrawn["status"] == "withdrawn"
    # The code sent before stops working, and nothing can reopen the request.
    confirm = f"/consent-requests/{first['id']}/confirm"
    assert (await c.w.gp.post(confirm, {"code": code}))[0] == 409
    assert (await c.patient.post(confirm))[0] == 409
    assert (await c.w.gp.post(f"/consent-requests/{first['id']}/send-code"))[0] == 409
    assert (await c.w.gp.post(f"/consent-requests/{first['id']}/withdraw"))[0] == 409

    _, second = await c.w.gp.post(base, payload)
    assert (await c.w.gp.post(f"/consent-requests/{second['id']}/decline"))[0] == 403
    status, declined = await c.patient.post(f"/consent-requests/{second['id']}/decline")
    assert status == 200 and declined["status"] == "declined"
    assert (await c.patient.post(f"/consent-requests/{second['id']}/confirm"))[0] == 409
    assert (await c.w.specialist.get(f"/patients/{c.patient_id}/passport"))[0] == 403

    _, log = await c.patient.get(f"/patients/{c.patient_id}/access-log")
    actions = [entry["action"] for entry in log["items"]]
    assert "consent.request_withdrawn" in actions and "consent.request_declined" in actions


async def test_cancelling_a_consultation_withdraws_its_pending_request(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    booked = await _book_video(c, clock)
    url = f"/consultations/{booked['id']}/consent-requests"
    _, page = await c.w.gp.get(url)
    [request] = page["items"]
    await c.w.gp.post(f"/consent-requests/{request['id']}/send-code")
    code = notifier(client).code_for(request["id"])
    status, _ = await c.w.gp.post(f"/consultations/{booked['id']}/cancel")
    assert status == 200
    _, page = await c.patient.get(url)
    assert [r["status"] for r in page["items"]] == ["withdrawn"]
    status, _ = await c.w.gp.post(f"/consent-requests/{request['id']}/confirm", {"code": code})
    assert status == 409


async def test_codes_never_reach_the_log_outside_development(
    client: Any, database: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = await clinic(client, database.engine)
    request_id, _ = await _code_request(c, clock)
    code = notifier(client).code_for(request_id)
    assert code is not None
    assert code not in caplog.text


async def test_the_development_notifier_shows_codes_in_development_only() -> None:
    shown = notifier_for("development", "development")
    hidden = notifier_for("development", "test")
    assert isinstance(shown, DevelopmentNotifier) and shown.show_codes
    assert isinstance(hidden, DevelopmentNotifier) and not hidden.show_codes


def test_production_refuses_to_start_without_a_delivery_channel(tmp_path: Any) -> None:
    with pytest.raises(ValidationError, match="TELECONSULT_CONSENT_CODES"):
        Settings(env="production", secret_key="k" * 48, data_dir=tmp_path)
    Settings(env="production", secret_key="k" * 48, data_dir=tmp_path, consent_codes="off")


async def test_without_a_delivery_channel_patients_confirm_from_their_account(
    aiohttp_client: Any, database: Database, clock: FakeClock, tmp_path: Any
) -> None:
    settings = make_settings(database.url, tmp_path / "data", consent_codes="off")
    client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
    c = await clinic(client, database.engine)
    request_id, url = await _code_request(c, clock)
    status, body = await c.w.gp.post(f"/consent-requests/{request_id}/send-code")
    assert status == 409 and "confirms from their account" in body["detail"]
    status, body = await c.w.gp.post(url, {"code": "123456"})
    assert status == 409, body
    status, granted = await c.patient.post(url, {})
    assert status == 200, granted
