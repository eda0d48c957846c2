"""Measurements by the GP and by the patient: passport observations in the chain, under
consent, with their trend and targets; out-of-target values on the GP's attention list."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from teleconsult.clock import FakeClock

from .passport_support import clinic, grant


async def test_measurements_trend_and_attention_list(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    gp, pid = c.w.gp, c.patient_id
    path = f"/patients/{pid}/measurements"

    # No consent yet: the GP writes nothing (and the denial is audited).
    status, body = await gp.post(path, {"measure": "bp", "value": 150, "value2": 95})
    assert status == 403 and body["code"] == "consent_denied"

    await grant(c, clock, user_id=gp.id, categories=["lab_results"])
    status, _ = await gp.post(f"/patients/{pid}/programmes", {"programme": "hypertension"})
    assert status == 201

    status, high = await gp.post(path, {"measure": "bp", "value": 150, "value2": 95})
    assert status == 201, high
    assert high["loinc"] == "85354-9" and high["unit"] == "mm[Hg]"
    assert high["out_of_target"] is True and high["source"] == "clinician"
    assert high["measured_by"] == gp.id

    clock.advance(hours=1)
    yesterday = (clock.now() - timedelta(days=1)).isoformat()
    status, home = await c.patient.post(
        path, {"measure": "bp", "value": 128, "value2": 82, "measured_at": yesterday}
    )
    assert status == 201, home
    assert home["out_of_target"] is False and home["source"] == "patient"
    status, pulse = await c.patient.post(path, {"measure": "pulse", "value": 72})
    assert status == 201 and pulse["loinc"] == "8867-4"

    # Values a person cannot have, a missing diastolic, a reading in the future: refused.
    for bad, field, code in [
        ({"measure": "bp", "value": 1500, "value2": 90}, "value", "measurement_implausible"),
        ({"measure": "bp", "value": 140}, "value2", "measurement_diastolic"),
        (
            {
                "measure": "spo2",
                "value": 97,
                "measured_at": (clock.now() + timedelta(days=1)).isoformat(),
            },
            "measured_at",
            "measurement_future",
        ),
        ({"measure": "cholesterol", "value": 5}, "measure", "unknown_measure"),
    ]:
        status, body = await c.patient.post(path, bad)
        assert status == 422 and body["field_codes"] == {field: code}, body

    # The trend, in time order, with the programme's target.
    status, trend = await c.patient.get(path, measure="bp")
    assert status == 200, trend
    assert [(p["value"], p["value2"]) for p in trend["points"]] == [(128, 82), (150, 95)]
    assert [p["out_of_target"] for p in trend["points"]] == [False, True]
    assert trend["targets"] == [{"measure": "bp", "low": None, "high": 140.0, "high2": 90.0}]
    status, trend = await gp.get(path, measure="bp")
    assert status == 200 and len(trend["points"]) == 2

    # Observations in the passport's chain, read under the same consent as lab results.
    status, passport = await c.patient.get(f"/patients/{pid}/passport", kind="observation")
    assert status == 200, passport
    bodies = [e["body"] for e in passport["items"]]
    assert [b["measure"] for b in bodies] == ["bp", "bp", "pulse"]
    assert bodies[0]["components"][0] == {"loinc": "8480-6", "value": 150.0, "unit": "mm[Hg]"}
    assert bodies[1]["measured_at"].startswith(yesterday[:16])
    status, verified = await c.patient.get(f"/patients/{pid}/passport/verify")
    assert status == 200 and verified["ok"] is True

    # Another specialist with no consent sees nothing.
    status, body = await c.other.get(path, measure="bp")
    assert status == 404 or body["code"] == "consent_denied"

    # The attention list: the patient once, for the reading that missed the target.
    status, attention = await gp.get("/attention")
    assert status == 200, attention
    [item] = attention["items"]
    assert item["patient_id"] == pid and item["measure"] == "bp" and item["value"] == 150
    assert item["programme"] == "hypertension"
    status, listed = await gp.get("/followup")
    assert listed["items"][0]["attention"] == 1
    status, _ = await gp.post(f"/attention/{item['id']}/resolve")
    assert status == 200
    status, attention = await gp.get("/attention")
    assert attention["items"] == []

    # A patient writes only their own readings.
    status, body = await c.patient.post(
        f"/patients/{uuid.uuid4()}/measurements", {"measure": "pulse", "value": 70}
    )
    assert status == 404


async def test_no_attention_without_a_programme(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    status, body = await c.patient.post(
        f"/patients/{c.patient_id}/measurements", {"measure": "glucose", "value": 14.2}
    )
    assert status == 201 and body["out_of_target"] is False and body["unit"] == "mmol/L"
    status, attention = await c.w.gp.get("/attention")
    assert attention["items"] == []


async def test_attention_list_names_a_run_of_readings(
    client: Any, database: Any, clock: FakeClock
) -> None:
    """Each open item says why: one reading outside the target, or the last three all outside
    it; a reading back within the target ends the run."""
    c = await clinic(client, database.engine)
    gp, pid = c.w.gp, c.patient_id
    status, _ = await gp.post(f"/patients/{pid}/programmes", {"programme": "copd"})
    assert status == 201
    path = f"/patients/{pid}/measurements"
    for hours, value in zip((30, 24, 18, 12, 6), (90, 95, 91, 89, 88), strict=True):
        at = (clock.now() - timedelta(hours=hours)).isoformat()
        status, body = await c.patient.post(
            path, {"measure": "spo2", "value": value, "measured_at": at}
        )
        assert status == 201, body
    status, attention = await gp.get("/attention")
    assert status == 200, attention
    why = [(i["value"], i["reason"], i["run"]) for i in attention["items"]]
    assert why == [(88, "run", 3), (89, "single", 2), (91, "single", 1), (90, "single", 1)]

    # A home reading entered late (measured before the others) counts where it was taken.
    early = (clock.now() - timedelta(days=2)).isoformat()
    status, _ = await c.patient.post(path, {"measure": "spo2", "value": 85, "measured_at": early})
    assert status == 201
    status, attention = await gp.get("/attention")
    why = [(i["value"], i["reason"], i["run"]) for i in attention["items"]]
    assert why[-2:] == [(90, "single", 2), (85, "single", 1)]
