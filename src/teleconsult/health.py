"""What an operator asks the process: ``/healthz`` (it runs), ``/readyz`` (it can serve) and
``/metrics`` (``metrics.py``: requests by route, latency, websockets, calls, the pool).

A load balancer takes a process out of rotation while ``/readyz`` answers 503: the database
is not reachable, or storage ran out (a write failed for lack of space within the last
minute, or the SQLite database's disk has less free space than ``min_free_disk_mb``).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import make_url, text

from . import __version__
from .appkeys import CALL_HUB, ENGINE, HEALTH, METRICS, OUTBOX, SETTINGS
from .logs import route_of
from .metrics import Metrics, allowed, instruments

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


def metrics_for(app: web.Application) -> Metrics:
    """The app's instruments, reading its pool and its call hub at each scrape."""

    def in_use() -> float:
        engine = app.get(ENGINE)
        return float(getattr(engine.pool, "checkedout", lambda: 0)()) if engine else 0.0

    def calls() -> float:
        hub = app.get(CALL_HUB)
        return float(len(hub.rooms)) if hub is not None else 0.0

    def waiting() -> float:
        relay = app.get(OUTBOX)
        return float(relay.waiting) if relay is not None else 0.0

    def lag() -> float:
        relay = app.get(OUTBOX)
        return relay.lag_seconds() if relay is not None else 0.0

    return instruments(in_use, calls, waiting, lag)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request and time it, by route template; a websocket when it ends."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route, method = route_of(request), request.method
        watched = request.app[METRICS]
        watched.requests.labels(route, method, str(status)).inc()
        watched.latency.labels(route, method).observe(time.perf_counter() - started)


async def metrics(request: web.Request) -> web.Response:
    remote, authorization = request.remote, request.headers.get("Authorization", "")
    if not allowed(request.app[SETTINGS], remote, authorization):
        return web.json_response(
            {"error": "Forbidden", "detail": "Metrics are not served to this address."},
            status=403,
        )
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
