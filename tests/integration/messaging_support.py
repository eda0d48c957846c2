"""What the messaging tests share: a stand-in SMS gateway (a small aiohttp server of the
test's own) and settings that send through it, a patient with a phone, a bookable world."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from teleconsult.appkeys import MESSAGES, SESSIONMAKER
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.uow import unit_of_work
from teleconsult.notify.models import Message

from ..conftest import Database, free_port, make_settings
from ..factories import PASSWORD, availability, valid_iin, world

CALL_LINK = re.compile(r"/call/([\w-]+)#link=([\w-]+)")

PHONE = "+77011234567"


class Gateway:
    """An SMS provider's HTTP endpoint: it records what it is given, or is away."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.away = False
        self.port = free_port()
        app = web.Application()
        app.router.add_post("/send", self.send)
        self.server = TestServer(app, port=self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    async def send(self, request: web.Request) -> web.Response:
        if self.away:
            return web.json_response({"error": "maintenance"}, status=503)
        body = await request.json()
        self.received.append(
            body
            | {
                "key": request.headers.get("Idempotency-Key"),
                "auth": request.headers.get("Authorization"),
            }
        )
        self.arrived.set()
        return web.json_response({"queued": True})

    async def wait_for(self, count: int, seconds: float = 10) -> None:
        async with asyncio.timeout(seconds):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def gateway() -> Any:
    g = Gateway()
    await g.server.start_server()
    yield g
    await g.server.close()


@pytest.fixture
def sms_settings(database: Database, tmp_path: Path, gateway: Gateway) -> Settings:
    return make_settings(
        database.url,
        tmp_path / "data",
        consent_codes="sms",
        sms_url=gateway.url,
        sms_token="gateway-token",
    )


async def patient_with_phone(gp: Any, phone: str = PHONE) -> str:
    status, body = await gp.post(
        "/patients",
        {
            "iin": valid_iin(),
            "full_name": "Test Patient",
            "birth_date": "1985-04-12",
            "sex": "female",
            "phone": phone,
        },
    )
    assert status == 201, body
    return str(body["id"])


async def recorded(client: Any, count: int) -> None:
    """Wait until ``count`` SMS or e-mails are recorded as sent (the relay runs in the
    background)."""
    async with asyncio.timeout(10):
        while True:
            async with unit_of_work(client.app[SESSIONMAKER]) as session:
                rows = (await session.scalars(select(Message))).all()
            # Messages in the pages are delivered as they are written: not counted here.
            if sum(row.sent_at is not None and row.channel != "page" for row in rows) >= count:
                return
            await asyncio.sleep(0.05)


async def bookable(client: Any, database: Database, clock: FakeClock) -> tuple[Any, Any, str]:
    """A world whose specialist has free slots in two days, and a patient with a phone."""
    w = await world(client, database.engine)
    starts = (clock.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    await availability(w.specialist, starts, hours=2)
    return w, starts, await patient_with_phone(w.gp)


async def book(w: Any, patient_id: str, starts_at: Any) -> dict[str, Any]:
    status, body = await w.gp.post(
        "/consultations",
        {
            "patient_id": patient_id,
            "specialty": "cardiology",
            "mode": "video",
            "urgency": "routine",
            "reason": "chest pain on exertion",
            "specialist_id": w.specialist.id,
            "starts_at": starts_at.isoformat(),
        },
    )
    assert status == 201, body
    return dict(body)


class Inbox:
    """A real SMTP server (aiosmtpd) that keeps what it is given."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.mails: list[Any] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            # The SMTP server runs its own loop in a thread: look, don't wait on an event.
            while len(self.mails) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.05)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    box.controller.start()
    yield box
    box.controller.stop()


async def new_gp(admin: Any, facility_id: str, **contact: str) -> dict[str, Any]:
    username = f"gp-{uuid.uuid4().hex[:8]}"
    payload = {
        "username": username,
        "password": PASSWORD,
        "full_name": "Test GP",
        "role": "gp",
        "facility_id": facility_id,
        **contact,
    }
    status, body = await admin.post("/users", payload)
    assert status == 201, body
    return dict(body)


async def link_for(client: Any, gateway: Gateway, consultation_id: str) -> str:
    """Wait for the SMS carrying the consultation's call link; its token."""
    await client.app[MESSAGES].nudge()
    async with asyncio.timeout(10):
        while True:
            for sms in gateway.received:
                found = CALL_LINK.search(sms["text"])
                if found and found.group(1) == consultation_id:
                    assert "қосылыңыз" in sms["text"]  # in Kazakh
                    return found.group(2)
            gateway.arrived.clear()
            await gateway.arrived.wait()


async def open_link(client: Any, consultation_id: str, token: str) -> tuple[int, Any]:
    resp = await client.post(
        f"/api/v1/consultations/{consultation_id}/call-link", json={"token": token}
    )
    return resp.status, await resp.json()
