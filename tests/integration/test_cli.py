"""The command line, run as a user would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "teleconsult"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TELECONSULT_")}
    return base | {
        "TELECONSULT_DATA_DIR": str(tmp_path),
        "TELECONSULT_ARGON2_TIME_COST": "1",
        "TELECONSULT_ARGON2_MEMORY_KIB": "1024",
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=120)


def test_create_admin_is_non_interactive_and_refuses_a_duplicate(env: dict[str, str]) -> None:
    first = run(env, "create-admin", "--username", "chief", "--password", "long enough pass")
    assert first.returncode == 0, first.stderr
    assert "created administrator 'chief'" in first.stdout
    again = run(env, "create-admin", "--username", "chief", "--password", "long enough pass")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_production_refuses_the_development_secret(env: dict[str, str]) -> None:
    result = run(
        env | {"TELECONSULT_ENV": "production", "TELECONSULT_CONSENT_CODES": "off"}, "migrate"
    )
    assert result.returncode == 2
    assert "TELECONSULT_SECRET_KEY" in result.stderr


def test_several_workers_need_redis(env: dict[str, str]) -> None:
    result = run(env, "serve", "--port", "0", "--workers", "2")
    assert result.returncode == 2
    assert "TELECONSULT_REDIS_URL" in result.stderr


def test_backup_and_restore_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    made = run(env, "create-admin", "--username", "chief", "--password", "long enough pass")
    assert made.returncode == 0, made.stderr
    copy = tmp_path / "copy.db"
    result = run(env, "backup", "--output", str(copy))
    assert result.returncode == 0, result.stderr
    assert f"backup written to {copy}" in result.stdout
    again = run(env, "backup", "--output", str(copy))
    assert again.returncode == 1 and "never overwrites" in again.stderr

    other = run(env, "create-admin", "--username", "deputy", "--password", "long enough pass")
    assert other.returncode == 0, other.stderr
    restored = run(env, "restore", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert "the database it replaced is kept in" in restored.stdout
    # The restored database has the first administrator only: the second can be made again.
    assert (
        run(env, "create-admin", "--username", "deputy", "--password", "other long pass").returncode
        == 0
    )
    assert (
        run(env, "create-admin", "--username", "chief", "--password", "other long pass").returncode
        == 1
    )

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    refused = run(env, "restore", str(junk))
    assert refused.returncode == 1
    assert "nothing restored" in refused.stderr


def test_create_admin_names_the_bad_argument(env: dict[str, str]) -> None:
    result = run(env, "create-admin", "--username", "ab", "--password", "short")
    assert result.returncode == 2
    assert "--username:" in result.stderr and "--password:" in result.stderr
    assert "Traceback" not in result.stderr


def test_restore_refuses_while_serve_runs(env: dict[str, str], tmp_path: Path) -> None:
    made = run(env, "create-admin", "--username", "chief", "--password", "long enough pass")
    assert made.returncode == 0, made.stderr
    copy = tmp_path / "copy.db"
    assert run(env, "backup", "--output", str(copy)).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [BIN, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        refused = run(env, "restore", str(copy))
        assert refused.returncode == 1
        assert "a server is running" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
    restored = run(env, "restore", str(copy))
    assert restored.returncode == 0, restored.stderr
