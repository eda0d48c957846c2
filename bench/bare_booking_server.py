"""The baseline: a bare aiohttp + asyncpg handler doing the booking's INSERT and nothing else."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from teleconsult.eventloop import new_event_loop

DSN = sys.argv[1]
PORT = int(sys.argv[2])
POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool")


async def book(request: web.Request) -> web.Response:
    body = await request.json()
    try:
        row = await request.app[POOL].fetchrow(
            "INSERT INTO bare_bookings (id, slot_id, patient_id, reason, created_at) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            uuid.uuid4(),
            uuid.UUID(body["slot_id"]),
            uuid.UUID(body["patient_id"]),
            body["reason"],
            datetime.now(UTC),
        )
    except asyncpg.UniqueViolationError:
        return web.json_response({"error": "SlotTaken"}, status=409)
    return web.Response(
        text=json.dumps({"id": str(row["id"]), "status": "scheduled"}),
        status=201,
        content_type="application/json",
    )


async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    app[POOL] = await asyncpg.create_pool(DSN, min_size=5, max_size=10)
    await app[POOL].execute(
        "CREATE TABLE IF NOT EXISTS bare_bookings (id uuid PRIMARY KEY, slot_id uuid UNIQUE, "
        "patient_id uuid, reason text, created_at timestamptz)"
    )
    yield
    await app[POOL].close()


app = web.Application()
app.cleanup_ctx.append(pool_ctx)
app.router.add_post("/book", book)
# The same event loop as `teleconsult serve` (uvloop where installed): a fair baseline.
web.run_app(
    app, host="127.0.0.1", port=PORT, print=None, access_log=None, loop=new_event_loop("auto")
)
