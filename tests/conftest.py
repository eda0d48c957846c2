"""Shared fixtures: a migrated database per backend, an app with a controllable clock.

Integration tests run on SQLite always and on PostgreSQL when TELECONSULT_TEST_DATABASE_URL
is set (CI sets it). With CI=true a missing PostgreSQL or Redis is an error, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.engine import make_engine
from teleconsult.db.migrate import upgrade
from teleconsult.db.models import Base
from teleconsult.programmes.catalogue import SHIPPED
from teleconsult.programmes.models import Programme

PG_URL_ENV = "TELECONSULT_TEST_DATABASE_URL"
REDIS_URL_ENV = "TELECONSULT_TEST_REDIS_URL"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_url(env: str, what: str) -> str:
    """The URL of an external test service, or skip (fail in CI) when it is not configured."""
    url = os.environ.get(env)
    if url:
        return url
    if IN_CI:
        pytest.fail(f"{env} must be set in CI: the {what} tests may not be skipped there")
    pytest.skip(f"{what} tests skipped: set {env} to run them")


# --- database templates (once per test session) ---------------------------------------------


def run_async(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"

    async def build() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    run_async(build())
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database on the test server, dropped at the end of the session."""
    base = service_url(PG_URL_ENV, "PostgreSQL")
    name = f"tc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_url = make_url(base)
    url = admin_url.set(database=name).render_as_string(hide_password=False)

    async def create() -> None:
        admin = make_engine(base)
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    async def drop() -> None:
        admin = make_engine(base)
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    run_async(create())
    yield url
    run_async(drop())


@dataclass
class Database:
    backend: str
    url: str
    engine: AsyncEngine


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table of the PostgreSQL test database, as a new database is.

    One script of DELETEs, sent unprepared (asyncpg runs several statements that way): on
    tables this small it takes a few ms, where TRUNCATE of every table took about 150.
    """
    script = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    async with engine.begin() as conn:
        # Replica role skips the triggers that protect append-only tables from changes.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(script)
        # Reference data the migrations ship (migration 0027): as a new database has it.
        await conn.execute(Programme.__table__.insert(), [dict(p) for p in SHIPPED])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "teleconsult.db"
        shutil.copy(template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url, pool_size=20)
    if request.param == "postgres":
        await truncate_all(engine)
    yield Database(request.param, url, engine)
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """06:00 UTC today (11:00 in Almaty and Aqtobe): a test that books minutes or hours ahead
    stays within the day, as "today" in a queue expects, whenever the suite runs."""
    return FakeClock(datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0))


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an app under test: cheap password hashing, and no STUN or TURN server
    (nothing listens for one here, and media tests would wait for it to answer)."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "stun_urls": [],
    }
    return Settings(**(values | overrides))


def production_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings as production runs: a real secret key, no development code notifier."""
    values: dict[str, Any] = {"env": "production", "secret_key": "k" * 48, "consent_codes": "off"}
    return make_settings(database_url, data_dir, **(values | overrides))


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return make_settings(database.url, tmp_path / "data")


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, clock: FakeClock, database: Database
) -> Any:
    from teleconsult.app import create_app

    app = create_app(settings, clock=clock, engine=database.engine)
    return await aiohttp_client(app)


# --- a Redis server of a test's own -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis() -> Iterator[tuple[str, Any]]:
    """A Redis server of this test's own, which it may stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]

    class Server:
        process: subprocess.Popen[bytes] | None = None

        def start(self) -> None:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)

        def stop(self) -> None:
            if self.process is not None:
                self.process.terminate()
                self.process.wait(timeout=10)
                self.process = None

    server = Server()
    server.start()
    yield f"redis://127.0.0.1:{port}/0", server
    server.stop()


async def app_on_redis(
    url: str, aiohttp_client: Any, database: Database, clock: FakeClock, tmp_path: Path
) -> Any:
    """A test client of an app on the Redis at ``url`` (a test's own, see :func:`own_redis`),
    once that server answers (it may still be starting)."""
    from teleconsult.app import create_app

    await redis_answers(url)
    settings = make_settings(database.url, tmp_path / "data", redis_url=url)
    return await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))


async def redis_answers(url: str, within: float = 10.0) -> None:
    """Wait (bounded) until the Redis at ``url`` answers a ping."""
    from teleconsult.bus import BusUnavailable
    from teleconsult.bus.redis import RedisBus

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        probe = RedisBus(url)
        try:
            await probe.ping()
            return
        except BusUnavailable:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)
        finally:
            await probe.close()
