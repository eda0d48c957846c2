"""Building blocks for the passport, consent and audit tests (through the public API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from teleconsult.clock import FakeClock

from ..factories import Api, World, facility, login, user, world

APPEND_ONLY = ("passport_entries", "audit_entries")


@dataclass
class Clinic:
    """A world plus the patient's own account, a second specialist elsewhere, and a
    consultation in progress between the GP, the specialist and the patient."""

    w: World
    patient: Api
    other: Api
    other_facility: str
    consultation_id: str

    @property
    def patient_id(self) -> str:
        return self.w.patient_id


async def patient_account(admin: Api, patient_id: str) -> Api:
    return await user(admin, "patient", patient_id=patient_id)


async def consultation_in_progress(w: World, patient_id: str | None = None) -> str:
    """An async case requested by the GP and claimed by the specialist."""
    status, case = await w.gp.post(
        "/consultations",
        {
            "patient_id": patient_id or w.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "urgency": "routine",
            "reason": "palpitations at night",
        },
    )
    assert status == 201, case
    status, claimed = await w.specialist.post(f"/consultations/{case['id']}/claim")
    assert status == 200, claimed
    return str(case["id"])


async def clinic(client: Any, engine: AsyncEngine) -> Clinic:
    w = await world(client, engine)
    patient = await patient_account(w.admin, w.patient_id)
    other_facility = await facility(w.admin, level="secondary", region="astana")
    other = await user(
        w.admin, "specialist", facility_id=other_facility, specialties=["cardiology"]
    )
    consultation_id = await consultation_in_progress(w)
    return Clinic(w, patient, other, other_facility, consultation_id)


async def grant(
    c: Clinic,
    clock: FakeClock,
    *,
    user_id: str | None = None,
    facility_id: str | None = None,
    access: str = "read_write",
    categories: list[str] | None = None,
    hours: float = 24,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "access": access,
        "expires_at": (clock.now() + timedelta(hours=hours)).isoformat(),
    }
    if user_id is not None:
        payload["grantee_user_id"] = user_id
    if facility_id is not None:
        payload["grantee_facility_id"] = facility_id
    if categories is not None:
        payload["categories"] = categories
    status, body = await c.patient.post(f"/patients/{c.patient_id}/consents", payload)
    assert status == 201, body
    return dict(body)


async def note(
    api: Api,
    consultation_id: str,
    text_: str = "BP 150/95, advised lifestyle",
    diagnoses: list[str] | None = None,
) -> tuple[int, Any]:
    return await api.post(
        f"/consultations/{consultation_id}/notes", {"text": text_, "diagnoses": diagnoses or []}
    )


async def prescription(
    api: Api, consultation_id: str, medication: str = "Amlodipine", amends: str | None = None
) -> tuple[int, Any]:
    payload: dict[str, Any] = {
        "medication": medication,
        "dose": "5 mg",
        "route": "oral",
        "frequency": "once daily",
        "duration_days": 30,
        "instructions": "in the morning",
    }
    if amends:
        payload["amends"] = amends
    return await api.post(f"/consultations/{consultation_id}/prescriptions", payload)


async def relogin(client: Any, api: Api) -> Api:
    """A fresh token (tests that move the clock far outlive the 12-hour sessions)."""
    return await login(client, api.user["username"])


async def without_guards(conn: AsyncConnection, backend: str) -> list[str]:
    """Switch off the append-only triggers for this connection's transaction (tampering).

    PostgreSQL skips ordinary triggers in replica mode; SQLite triggers are dropped and
    their saved definitions returned so :func:`restore_guards` can put them back.
    """
    if backend == "postgres":
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        return []
    rows = await conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
            "('passport_entries', 'audit_entries')"
        )
    )
    saved = []
    for name, sql in rows.all():
        saved.append(sql)
        await conn.execute(text(f'DROP TRIGGER "{name}"'))
    return saved


async def restore_guards(conn: AsyncConnection, saved: list[str]) -> None:
    for sql in saved:
        await conn.execute(text(sql))


def iso(dt: datetime) -> str:
    return dt.isoformat()
