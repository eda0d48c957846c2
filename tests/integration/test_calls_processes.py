"""Two ``teleconsult serve`` processes sharing PostgreSQL and Redis: a call across them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from teleconsult.calls.client import CallClient
from teleconsult.calls.models import CallParticipation
from teleconsult.clock import Clock

from ..callkit import booked_call, exchange_frames, leave_all, loopback_only, until, until_async
from ..conftest import REDIS_URL_ENV, Database, service_url

pytestmark = [
    pytest.mark.media,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.timeout(90),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "teleconsult",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited with {self.process.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError("server did not start")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def redis_url() -> str:
    return service_url(REDIS_URL_ENV, "Redis")


@pytest.fixture
def server_env(database: Database, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TELECONSULT_ENV": "test",
        "TELECONSULT_DATABASE_URL": database.url,
        "TELECONSULT_REDIS_URL": redis_url,
        "TELECONSULT_DATA_DIR": str(tmp_path / "data"),
        "TELECONSULT_ARGON2_TIME_COST": "1",
        "TELECONSULT_ARGON2_MEMORY_KIB": "1024",
        "TELECONSULT_STUN_URLS": "[]",
        "TELECONSULT_CALL_LOOPBACK_ONLY": "true",
        "TELECONSULT_CALL_HEARTBEAT_SECONDS": "0.3",
        "TELECONSULT_CALL_PRESENCE_TTL_SECONDS": "1.5",
    }


@pytest.fixture
async def servers(server_env: dict[str, str], tmp_path: Path) -> AsyncIterator[list[Server]]:
    started = [Server(server_env, tmp_path / f"server-{i}.log") for i in range(2)]
    try:
        await asyncio.gather(*(s.ready() for s in started))
        yield started
    finally:
        for s in started:
            s.stop()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_gp_on_one_process_and_specialist_on_another_meet(
    servers: list[Server], database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback_only(monkeypatch)
    a, b = servers
    engine = database.engine
    async with aiohttp.ClientSession(base_url=a.url) as http:
        w, cid = await booked_call(http, engine, Clock().now())
    gp = CallClient(a.url, cid, token=w.gp.token)
    specialist = CallClient(b.url, cid, token=w.specialist.token)
    try:
        await exchange_frames(gp, specialist)
        assert "connected" in gp.states and "connected" in specialist.states

        # Process B dies without a word: its participant expires from presence.
        b.kill()
        await until(lambda: any(e.get("type") == "peer-left" for e in gp.events))
        left = next(e for e in gp.events if e.get("type") == "peer-left")
        assert left["peer_id"] == specialist.peer_id
    finally:
        await leave_all(gp, specialist)

    async def specialist_stay_closed() -> bool:
        async with engine.connect() as conn:
            rows: list[Any] = list(
                (
                    await conn.execute(
                        select(CallParticipation).where(
                            CallParticipation.peer_id == specialist.peer_id
                        )
                    )
                ).all()
            )
        return bool(rows) and rows[0].left_at is not None

    # The surviving process closed the dead one's stay, so durations stay true.
    await until_async(specialist_stay_closed, within=15)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_relayed_call_through_a_served_process_carries_video_both_ways(
    servers: list[Server], database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` runs on uvloop where it is installed: its aiortc gateway works there.

    A relayed call's participants share one process's gateway (deploy/SCALING.md).
    """
    loopback_only(monkeypatch)
    a = servers[0]
    async with aiohttp.ClientSession(base_url=a.url) as http:
        w, cid = await booked_call(http, database.engine, Clock().now())
        status, options = await w.gp.post(f"/consultations/{cid}/call/options", {"mode": "relay"})
        assert status == 200 and options["mode"] == "relay", options
    gp = CallClient(a.url, cid, token=w.gp.token)
    specialist = CallClient(a.url, cid, token=w.specialist.token)
    try:
        await exchange_frames(gp, specialist)
        assert gp.mode == specialist.mode == "relay"
    finally:
        await leave_all(gp, specialist)
