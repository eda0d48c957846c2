"""Liveness and readiness: ``/healthz`` says the process runs, ``/readyz`` whether it can serve.

A load balancer takes a process out of rotation while ``/readyz`` answers 503: the database
is not reachable, or storage ran out (a write failed for lack of space within the last
minute, or the SQLite database's disk has less free space than ``min_free_disk_mb``).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from aiohttp import web
from sqlalchemy import make_url, text

from . import __version__
from .appkeys import ENGINE, HEALTH, SETTINGS

DATABASE_CHECK_SECONDS = 3.0


def _not_ready(detail: str) -> web.Response:
    return web.json_response({"error": "NotReady", "detail": detail}, status=503)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True, "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    try:
        async with asyncio.timeout(DATABASE_CHECK_SECONDS):
            async with app[ENGINE].connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:
        return _not_ready("The database is not reachable.")
    if app[HEALTH].recently_full(time.monotonic()):
        return _not_ready("Storage is full: writes are failing.")
    url = make_url(app[SETTINGS].effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        free_mb = (await asyncio.to_thread(_free_bytes, url.database)) / 2**20
        if free_mb < app[SETTINGS].min_free_disk_mb:
            return _not_ready("Storage is nearly full.")
    return web.json_response({"ok": True})


def _free_bytes(database: str) -> int:
    return shutil.disk_usage(Path(database).resolve().parent).free
