"""The patient's access log in plain words: who (name, role, facility), what, until when,
why; the technical record stays in ``reason``; no id in ``details``."""

from __future__ import annotations

import re
from typing import Any

from teleconsult.appkeys import NOTIFIER
from teleconsult.clock import FakeClock

from ..conftest import Database
from .passport_support import clinic, grant

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def test_the_access_log_in_plain_words(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    # A read refused, a grant to a doctor limited to notes, a read under it, a revocation.
    status, _ = await c.other.get(f"/patients/{c.patient_id}/passport")
    assert status == 403
    g = await grant(c, clock, user_id=c.other.id, access="read", categories=["notes"], hours=72)
    status, _ = await c.other.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    status, _ = await c.patient.post(f"/patients/{c.patient_id}/consents/{g['id']}/revoke")
    assert status == 200
    await grant(c, clock, facility_id=c.other_facility, access="read", hours=24)
    # A request locked after five wrong codes.
    status, request = await c.w.gp.post(
        f"/patients/{c.patient_id}/consent-requests",
        {"grantee_user_id": c.w.gp.id, "access": "read", "expires_at": g["expires_at"]},
    )
    assert status == 201, request
    code = client.app[NOTIFIER].code_for(request["id"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        status, body = await c.w.gp.post(
            f"/consent-requests/{request['id']}/confirm", {"code": wrong}
        )
    assert status == 409 and body["code"] == "consent_request_locked"

    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log", limit=100)
    assert status == 200, log
    by_event: dict[str, list[dict[str, Any]]] = {}
    for entry in log["items"]:
        by_event.setdefault(entry["event"], []).append(entry)
        assert not UUID.search(repr(entry["details"])), entry
    [denied] = by_event["passport_denied"]
    assert denied["details"] == {"wanted": "read", "denial": "no_consent"}
    assert denied["actor"]["name"] == "Test specialist"

    read = [e for e in by_event["passport_read"] if e["actor_id"] == c.other.id]
    assert read and read[0]["details"]["basis"] == "consent"
    assert read[0]["details"]["until"].startswith(g["expires_at"][:16].replace("Z", ""))

    to_doctor, to_facility = sorted(
        by_event["consent_grant"], key=lambda e: "grantee_facility" in e["details"]
    )
    assert to_doctor["details"]["grantee"]["name"] == "Test specialist"
    assert to_doctor["details"]["grantee"]["role"] == "specialist"
    assert to_doctor["details"]["grantee"]["facility"]
    assert to_doctor["details"]["access"] == "read"
    assert to_doctor["details"]["categories"] == ["notes"]
    assert to_doctor["details"]["via"] == "portal"
    assert to_facility["details"]["grantee_facility"].startswith("Clinic ")
    assert to_facility["details"]["categories"] is None
    assert f"grant {g['id']}" in to_doctor["reason"]  # the technical record, when asked

    [revoked] = by_event["consent_revoke"]
    assert revoked["details"]["grantee"]["name"] == "Test specialist"
    assert revoked["details"]["categories"] == ["notes"]

    [locked] = by_event["consent_request_locked"]
    assert locked["details"]["attempts"] == 5
    assert locked["details"]["grantee"]["role"] == "gp"
    assert locked["details"]["access"] == "read"
    wrong_codes = by_event["consent_wrong_code"]
    assert sorted(e["details"]["left"] for e in wrong_codes) == [0, 1, 2, 3, 4]
    assert {e["event"] for e in log["items"]} >= {"consent_request"}

    # The patient sees the locked request among their requests.
    status, page = await c.patient.get(f"/patients/{c.patient_id}/consent-requests")
    assert [r["status"] for r in page["items"] if r["id"] == request["id"]] == ["locked"]
