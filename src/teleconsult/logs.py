"""Structured logs: one JSON object a line, with the request id, never a secret or patient data.

The access log names the route (``/api/v1/patients/{id}/passport``), not the path or query
string: a path holds ids and a query can hold a search for a name, an IIN or a call ticket.
An error's message is left out too (a database error repeats the values it was given): its
type and where it happened are what an operator needs.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Set by the request id middleware, read by the access log and handlers that log.
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
# What a log call may add to its record (``extra=``) and the JSON line carries.
FIELDS = ("request_id", "method", "route", "status", "ms", "event")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["where"] = [
                f"{frame.filename}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])
            ][-8:]
        return json.dumps(line, ensure_ascii=False)


# Libraries that say at INFO what only their developers need (alembic names each plugin it
# sets up on every start).
QUIET = ("alembic.runtime.plugins",)


def quiet_libraries() -> None:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure(level: int = logging.INFO) -> None:
    """JSON lines on standard error for the whole process."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


def route_of(request: web.BaseRequest) -> str:
    """The route's template, or '-' for a path that matched none."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "-"


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "request",
            extra={
                "request_id": request.get(REQUEST_ID, "-"),
                "method": request.method,
                "route": route_of(request),
                "status": response.status,
                "ms": round(time * 1000, 1),
            },
        )


def new_request_id(offered: str | None) -> str:
    """The id a proxy gave the request (if it looks like one), or a new one."""
    if offered and _REQUEST_ID.match(offered):
        return offered
    return uuid.uuid4().hex


@web.middleware
async def request_id(request: web.Request, handler: Any) -> web.StreamResponse:
    request[REQUEST_ID] = rid = new_request_id(request.headers.get(REQUEST_ID_HEADER))
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        exc.headers[REQUEST_ID_HEADER] = rid
        raise
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = rid
    return response
