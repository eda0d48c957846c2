"""For benchmarks only: with ``TELECONSULT_COUNT_STATEMENTS=1`` in its environment,
``teleconsult serve`` answers every request with ``X-Statements``, the number of SQL
statements it sent for that request (BEGIN and COMMIT excluded). ``bench/load.py`` reads it;
otherwise nothing here is installed."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from aiohttp import web
from sqlalchemy import event
from sqlalchemy.engine import Engine

ENV = "TELECONSULT_COUNT_STATEMENTS"
HEADER = "X-Statements"

# The running request's counter (a list: the tasks a request starts share it).
_counter: ContextVar[list[int] | None] = ContextVar("statements", default=None)


def wanted() -> bool:
    return os.environ.get(ENV, "").lower() in {"1", "true", "yes"}


def count_statements(app: web.Application) -> None:
    """Count every statement of every engine, per request (the outermost middleware)."""
    if not event.contains(Engine, "before_cursor_execute", _count):
        event.listen(Engine, "before_cursor_execute", _count)
    app.middlewares.insert(0, _per_request)


def _count(*_: Any) -> None:
    counter = _counter.get()
    if counter is not None:
        counter[0] += 1


@web.middleware
async def _per_request(request: web.Request, handler: Any) -> web.StreamResponse:
    counter = [0]
    token = _counter.set(counter)
    try:
        response: web.StreamResponse = await handler(request)
    finally:
        _counter.reset(token)
    if not response.prepared:
        response.headers[HEADER] = str(counter[0])
    return response
