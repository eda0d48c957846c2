"""Schemathesis over the generated OpenAPI document: no input may produce a server error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from teleconsult.db.engine import make_engine

from ..conftest import run_async, truncate_all
from ..factories import PASSWORD

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A real server process on SQLite, or on PostgreSQL (the test session's database)."""
    env = {
        **os.environ,
        "TELECONSULT_ENV": "test",
        "TELECONSULT_DATA_DIR": str(tmp_path),
        "TELECONSULT_ARGON2_TIME_COST": "1",
        "TELECONSULT_ARGON2_MEMORY_KIB": "1024",
    }
    env.pop("TELECONSULT_DATABASE_URL", None)
    env.pop("TELECONSULT_REDIS_URL", None)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        run_async(_emptied(url))
        env["TELECONSULT_DATABASE_URL"] = url
    subprocess.run(
        [BIN / "teleconsult", "create-admin", "--username", "fuzz", "--password", PASSWORD],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        [BIN / "teleconsult", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        output = log.read_text(errors="replace")
        # Every unhandled error is logged by the error middleware; none may appear.
        assert "unhandled error" not in output, output[-4000:]


async def _emptied(url: str) -> None:
    engine = make_engine(url)
    try:
        await truncate_all(engine)
    finally:
        await engine.dispose()


def test_no_input_produces_a_server_error(live_server: str, tmp_path: Path) -> None:
    login = urllib.request.Request(
        f"{live_server}/api/v1/auth/login",
        data=json.dumps({"username": "fuzz", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=10) as resp:
        token = json.load(resp)["token"]
    result = subprocess.run(
        [
            BIN / "schemathesis",
            "run",
            f"{live_server}/api/v1/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "12",
            "--seed",
            "20261123",
            "--request-timeout",
            "10",
            "--header",
            f"Authorization: Bearer {token}",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=420,
        cwd=tmp_path,  # schemathesis keeps a cache folder in its working directory
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
