"""Pages name people, not ids: who looked at a passport, who asks for access, who was granted
it, who broke the glass; a patient account is never named to anyone but its own patient."""

from __future__ import annotations

import uuid
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import Api, patient
from .passport_support import Clinic, clinic, grant, patient_account


async def _facility_names(admin: Api) -> dict[str, str]:
    status, body = await admin.get("/facilities", limit=500)
    assert status == 200, body
    return {f["id"]: f["name"] for f in body["items"]}


def _person(api: Api, facility: str | None) -> dict[str, Any]:
    """What the API should say of the user behind ``api``."""
    me = api.user
    return {
        "id": me["id"],
        "name": me["full_name"],
        "role": me["role"],
        "facility": facility,
        "specialties": me.get("specialties", []),
    }


async def _specialist(c: Clinic) -> dict[str, Any]:
    names = await _facility_names(c.w.admin)
    return _person(c.w.specialist, names[c.w.hospital])


async def test_the_access_log_names_who_acted(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 403
    status, _ = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    # Another patient's account tries the same passport: refused, and not named in the log.
    stranger = await patient_account(c.w.admin, await patient(c.w.gp))
    status, _ = await stranger.get(f"/patients/{c.patient_id}/passport")
    assert status == 403

    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log")
    assert status == 200
    reads = [e for e in log["items"] if e["action"] == "passport.read"]
    by_actor = {e["actor_id"]: e["actor"] for e in reads}
    assert by_actor[c.w.specialist.id] == await _specialist(c)
    # The patient's own account is named to the patient's own log.
    assert by_actor[c.patient.id] == _person(c.patient, None)
    if stranger.id in by_actor:
        assert by_actor[stranger.id] == {**_person(stranger, None), "name": None}
    assert "Test patient" not in str([e for e in log["items"] if e["actor_id"] == stranger.id])

    # The administrator's review names the same people.
    status, reviewed = await c.w.admin.get(f"/patients/{c.patient_id}/access-log")
    assert status == 200
    assert {e["actor_id"]: e["actor"] for e in reviewed["items"]}[c.w.specialist.id] == (
        await _specialist(c)
    )


async def test_grants_and_requests_name_the_people_and_places(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    names = await _facility_names(c.w.admin)
    to_user = await grant(c, clock, user_id=c.other.id, access="read")
    assert to_user["grantee"] == _person(c.other, names[c.other_facility])
    assert to_user["grantee_facility"] is None
    to_place = await grant(c, clock, facility_id=c.w.clinic)
    assert to_place["grantee"] is None
    assert to_place["grantee_facility"] == {
        "id": c.w.clinic,
        "name": names[c.w.clinic],
        "region": "karaganda",
    }
    status, listed = await c.patient.get(f"/patients/{c.patient_id}/consents")
    assert status == 200
    by_id = {g["id"]: g for g in listed["items"]}
    assert by_id[to_user["id"]]["grantee"]["name"] == c.other.user["full_name"]
    assert by_id[to_place["id"]]["grantee_facility"]["name"] == names[c.w.clinic]
    status, revoked = await c.patient.post(
        f"/patients/{c.patient_id}/consents/{to_user['id']}/revoke"
    )
    assert status == 200 and revoked["grantee"]["id"] == c.other.id

    # Claiming the case asked consent for the specialist, on behalf of the GP who requested
    # the consultation: the patient sees who asks, for whom, and for which consultation.
    status, requests = await c.patient.get(f"/patients/{c.patient_id}/consent-requests")
    assert status == 200
    [request] = requests["items"]
    specialist = await _specialist(c)
    assert request["grantee"] == specialist
    gp = _person(c.w.gp, names[c.w.clinic])
    assert request["requester"] == gp
    assert request["consultation"]["id"] == c.consultation_id
    assert request["consultation"]["specialty"] == "cardiology"
    status, seen = await c.w.gp.get(f"/consultations/{c.consultation_id}/consent-requests")
    assert status == 200 and seen["items"][0]["grantee"] == specialist

    # A request made at the point of care names the GP who asks.
    status, asked = await c.w.gp.post(
        f"/patients/{c.patient_id}/consent-requests",
        {
            "grantee_user_id": c.w.gp.id,
            "access": "read",
            "expires_at": to_user["expires_at"],
        },
    )
    assert status == 201, asked
    assert asked["grantee"] == gp and asked["requester"] == gp
    assert asked["consultation"] is None


async def test_break_glass_names_who_opened_it(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    names = await _facility_names(c.w.admin)
    reason = "Unconscious patient admitted to the emergency room, allergies unknown"
    status, opened = await c.other.post(f"/patients/{c.patient_id}/break-glass", {"reason": reason})
    assert status == 201, opened
    other = _person(c.other, names[c.other_facility])
    assert opened["actor"] == other
    status, review = await c.w.admin.get("/break-glass")
    assert status == 200
    assert [s["actor"] for s in review["items"] if s["id"] == opened["id"]] == [other]
    # Whose passport, by name, for the reviewer.
    assert [s["patient_name"] for s in review["items"] if s["id"] == opened["id"]] == [
        "Test Patient"
    ]


async def test_people_names_staff_only(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    names = await _facility_names(c.w.admin)
    ids = [c.w.specialist.id, c.w.gp.id, c.patient.id, str(uuid.uuid4())]
    status, found = await c.patient.get("/people", ids=",".join(ids))
    assert status == 200, found
    by_id = {p["id"]: p for p in found["items"]}
    assert by_id[c.w.specialist.id] == await _specialist(c)
    assert by_id[c.w.gp.id] == _person(c.w.gp, names[c.w.clinic])
    # The caller's own account is there; an unknown id is not.
    assert set(by_id) == {c.w.specialist.id, c.w.gp.id, c.patient.id}
    # To anyone else, a patient account is not in the directory at all.
    status, found = await c.w.specialist.get("/people", ids=",".join(ids))
    assert status == 200
    assert {p["id"] for p in found["items"]} == {c.w.specialist.id, c.w.gp.id}

    for bad in ("not-a-uuid", ",".join(str(uuid.uuid4()) for _ in range(101)), ""):
        status, body = await c.w.gp.get("/people", ids=bad)
        assert status == 422, body
        assert "ids" in body["fields"]
    status, body = await c.w.gp.get("/people")
    assert status == 422 and "ids" in body["fields"]
    client.session.cookie_jar.clear()  # the logins above left a session cookie
    resp = await client.get("/api/v1/people", params={"ids": c.w.gp.id})
    assert resp.status == 401


async def _staff(admin: Api, full_name: str, role: str, facility_id: str) -> str:
    payload: dict[str, Any] = {
        "username": f"{role}-{uuid.uuid4().hex[:8]}",
        "password": "a long enough password",
        "full_name": full_name,
        "role": role,
        "facility_id": facility_id,
    }
    if role == "specialist":
        payload["specialties"] = ["neurology"]
    status, body = await admin.post("/users", payload)
    assert status == 201, body
    return str(body["id"])


async def test_a_patient_finds_a_doctor_by_name(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    kazakh = await _staff(c.w.admin, "Айгерим Сейтқали", "specialist", c.w.hospital)
    retired = await _staff(c.w.admin, "Айгерим Бекова", "gp", c.w.clinic)
    status, _ = await c.w.admin.post(f"/users/{retired}/status", {"is_active": False})
    assert status == 200

    # Any case, any script; active clinicians only.
    for typed in ("айгерим", "АЙГЕРИМ", "сейтқали", "Герим С"):
        status, found = await c.patient.get("/people", q=typed)
        assert status == 200, found
        assert [p["id"] for p in found["items"]] == [kazakh], typed
    [doctor] = found["items"]
    assert doctor["role"] == "specialist" and doctor["specialties"] == ["neurology"]

    # Clinicians, not administrators or patients (whose accounts are named "Test …" too).
    status, found = await c.patient.get("/people", q="test")
    assert status == 200
    assert {p["id"] for p in found["items"]} == {c.w.gp.id, c.w.specialist.id, c.other.id}
    # LIKE's wildcards are matched as typed.
    status, found = await c.patient.get("/people", q="%_")
    assert status == 200 and found["items"] == []

    # The one found can be granted access, and the grant names them.
    to_doctor = await grant(c, clock, user_id=kazakh, access="read")
    assert to_doctor["grantee"]["name"] == "Айгерим Сейтқали"

    for params in ({"q": "a"}, {"q": "x" * 81}, {"q": "test", "ids": c.w.gp.id}):
        status, body = await c.patient.get("/people", **params)
        assert status == 422, (params, body)
        assert {"q", "ids"} & set(body["fields"]), body
