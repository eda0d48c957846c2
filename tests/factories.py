"""Async factories that build test data through the public HTTP API."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.codes import Role
from teleconsult.db.engine import make_sessionmaker
from teleconsult.db.uow import unit_of_work
from teleconsult.patients.iin import make_iin

PASSWORD = "correct horse battery"
_serial = itertools.count(1000)


class Api:
    """A logged-in caller: ``await api.post(path, json)`` returns (status, body)."""

    def __init__(self, client: Any, token: str, user: dict[str, Any]) -> None:
        self.client = client
        self.token = token
        self.user = user

    @property
    def id(self) -> str:
        return str(self.user["id"])

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        resp = await self.client.get(f"/api/v1{path}", params=params, headers=self.headers())
        return resp.status, await resp.json()

    async def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        resp = await self.client.post(f"/api/v1{path}", json=json, headers=self.headers(headers))
        return resp.status, await resp.json()


async def login(client: Any, username: str, password: str = PASSWORD) -> Api:
    resp = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    body = await resp.json()
    assert resp.status == 200, body
    return Api(client, body["token"], body["user"])


async def bootstrap_admin(engine: AsyncEngine, client: Any, username: str = "root") -> Api:
    """The first administrator is made from the command line; do the same here."""
    async with unit_of_work(make_sessionmaker(engine)) as session:
        await create_user(
            session,
            Passwords(1, 1024),
            UserCreate(username=username, password=PASSWORD, full_name="Admin", role=Role.admin),
        )
    return await login(client, username)


async def facility(admin: Api, *, region: str = "karaganda", level: str = "primary") -> str:
    status, body = await admin.post(
        "/facilities", {"name": f"Clinic {uuid.uuid4().hex[:6]}", "region": region, "level": level}
    )
    assert status == 201, body
    return str(body["id"])


async def user(
    admin: Api,
    role: str,
    *,
    facility_id: str | None = None,
    specialties: list[str] | None = None,
    patient_id: str | None = None,
    on_call: bool = False,
) -> Api:
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    payload: dict[str, Any] = {
        "username": username,
        "password": PASSWORD,
        "full_name": f"Test {role}",
        "role": role,
        "on_call": on_call,
    }
    if facility_id:
        payload["facility_id"] = facility_id
    if specialties:
        payload["specialties"] = specialties
    if patient_id:
        payload["patient_id"] = patient_id
    status, body = await admin.post("/users", payload)
    assert status == 201, body
    return await login(admin.client, username)


def valid_iin(born: date = date(1985, 4, 12), sex: str = "female") -> str:
    while True:
        iin = make_iin(born, sex, next(_serial))
        if iin is not None:
            return iin


async def patient(gp: Api, *, born: date = date(1985, 4, 12), sex: str = "female") -> str:
    status, body = await gp.post(
        "/patients",
        {
            "iin": valid_iin(born, sex),
            "full_name": "Test Patient",
            "birth_date": born.isoformat(),
            "sex": sex,
        },
    )
    assert status == 201, body
    return str(body["id"])


async def availability(
    specialist: Api, starts_at: datetime, hours: float = 1, slot_minutes: int = 20
) -> dict[str, Any]:
    status, body = await specialist.post(
        f"/specialists/{specialist.id}/availability",
        {
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=hours)).isoformat(),
            "slot_minutes": slot_minutes,
        },
    )
    assert status == 201, body
    return dict(body)


class World:
    """A small clinic network: admin, a rural clinic with a GP and a patient, a specialist."""

    admin: Api
    clinic: str
    hospital: str
    gp: Api
    specialist: Api
    patient_id: str


async def world(client: Any, engine: AsyncEngine, specialty: str = "cardiology") -> World:
    w = World()
    w.admin = await bootstrap_admin(engine, client)
    w.clinic = await facility(w.admin, level="primary")
    w.hospital = await facility(w.admin, level="secondary")
    w.gp = await user(w.admin, "gp", facility_id=w.clinic)
    w.specialist = await user(
        w.admin, "specialist", facility_id=w.hospital, specialties=[specialty]
    )
    w.patient_id = await patient(w.gp)
    return w


async def book(
    w: Any, *, slot_id: str | None = None, reason: str = "Palpitations"
) -> dict[str, Any]:
    """The GP's patient booked in cardiology into ``slot_id``, or else into the earliest free
    slot; the booking as answered."""
    request = {"patient_id": w.patient_id, "specialty": "cardiology", "reason": reason}
    if slot_id is not None:
        request["slot_id"] = slot_id
    status, body = await w.gp.post("/consultations", request)
    assert status == 201, body
    return dict(body)


async def booked_call(w: Any, starts_at: datetime, reason: str = "Palpitations") -> dict[str, Any]:
    """The specialist free for an hour from ``starts_at``, and the GP's patient booked into
    its first slot (cardiology); the booking as answered."""
    await availability(w.specialist, starts_at, hours=1)
    return await book(w, reason=reason)


async def book_video_calls(w: Any, count: int, specialty: str = "cardiology") -> list[str]:
    """Book ``count`` routine video calls for new patients into the earliest free slots."""
    ids = []
    for i in range(count):
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": await patient(w.gp),
                "specialty": specialty,
                "mode": "video",
                "urgency": "routine",
                "reason": f"case {i}",
            },
        )
        assert status == 201, body
        ids.append(body["id"])
    return ids
