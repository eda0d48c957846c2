"""A measurement outside the patient's programme target is told to the GP who enrolled the
patient: a message in the service, in the GP's language, written with the measurement (the
patient's name and the value in its words, never in a log)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from teleconsult.clock import FakeClock
from teleconsult.logs import JsonFormatter

from ..factories import Api, user
from .passport_support import clinic, grant


async def _language(api: Api, language: str) -> None:
    resp = await api.client.patch("/api/v1/me", json={"language": language}, headers=api.headers())
    assert resp.status == 200, await resp.json()


async def _told(api: Api) -> list[dict[str, Any]]:
    status, mine = await api.get("/me/messages")
    assert status == 200, mine
    return [m for m in mine["items"] if m["kind"].startswith("reading_off_target")]


async def test_the_enrolling_gp_is_told_in_their_language(
    client: Any, database: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    c = await clinic(client, database.engine)
    gp, pid = c.w.gp, c.patient_id
    colleague = await user(c.w.admin, "gp", facility_id=c.w.clinic)
    await _language(gp, "ru")
    status, patient = await gp.get(f"/patients/{pid}")
    name = patient["full_name"]
    await grant(c, clock, user_id=gp.id, categories=["lab_results"])
    status, _ = await gp.post(f"/patients/{pid}/programmes", {"programme": "hypertension"})
    assert status == 201
    path = f"/patients/{pid}/measurements"

    # Within the target: nobody is told.
    status, _ = await c.patient.post(path, {"measure": "bp", "value": 128, "value2": 82})
    assert status == 201
    assert await _told(gp) == []

    # Outside it, entered at home: one message to the GP who enrolled the patient, in Russian.
    clock.advance(minutes=1)
    status, body = await c.patient.post(path, {"measure": "bp", "value": 152, "value2": 96})
    assert status == 201 and body["out_of_target"] is True
    [told] = await _told(gp)
    assert told["kind"] == "reading_off_target" and told["channel"] == "page"
    assert told["sent_at"] is not None
    assert told["text"] == (
        f"Teleconsult: {name}: Артериальное давление 152/96 mmHg — вне цели программы. "
        "Откройте «Наблюдение»."
    )
    # Nobody else: a colleague who did not enrol the patient, the patient themself.
    assert await _told(colleague) == []
    assert await _told(c.patient) == []

    # Three readings in a row outside the target (the GP's own included): a run, in Kazakh.
    await _language(gp, "kk")
    for systolic in (145, 160):
        clock.advance(minutes=1)
        status, _ = await gp.post(path, {"measure": "bp", "value": systolic, "value2": 85})
        assert status == 201
    told = await _told(gp)
    assert [m["kind"] for m in told] == [
        "reading_off_target_run",
        "reading_off_target",
        "reading_off_target",
    ]
    assert told[0]["text"] == (
        f"Teleconsult: {name}: Артериялық қысым, соңғы 3 көрсеткіш бағдарлама мақсатынан тыс "
        "(соңғысы 160/85 mmHg). «Бақылау» бетін қараңыз."
    )

    # The patient's name and the values are in the messages, never in a log.
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "/measurements" in everything
    for secret in (name, "152/96", "160/85", "152.0"):
        assert secret not in everything


async def test_a_refused_measurement_tells_nobody(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    gp, pid = c.w.gp, c.patient_id
    status, _ = await gp.post(f"/patients/{pid}/programmes", {"programme": "copd"})
    assert status == 201
    # No consent: the GP's reading is refused, and its message with it.
    status, body = await gp.post(f"/patients/{pid}/measurements", {"measure": "spo2", "value": 85})
    assert status == 403 and body["code"] == "consent_denied"
    assert await _told(gp) == []
    status, _ = await c.patient.post(
        f"/patients/{pid}/measurements", {"measure": "spo2", "value": 85}
    )
    assert status == 201
    assert [m["kind"] for m in await _told(gp)] == ["reading_off_target"]
