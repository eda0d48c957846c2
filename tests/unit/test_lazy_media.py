"""A server that only signals peer-to-peer calls never loads aiortc and PyAV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROGRAM = """
import asyncio, sys
from pathlib import Path
from aiohttp.test_utils import TestClient, TestServer
from teleconsult.app import create_app
from teleconsult.config import Settings

async def main() -> None:
    settings = Settings(env="test", data_dir=Path(sys.argv[1]),
                        database_url="sqlite+aiosqlite:///" + sys.argv[1] + "/t.db")
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await client.get("/healthz")).status == 200
    print(sorted(m for m in ("aiortc", "av") if m in sys.modules))

asyncio.run(main())
"""


def test_the_media_stack_loads_only_with_the_first_relay_call(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
