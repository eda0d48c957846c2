"""Middlewares: every error rendered the same way, and security headers."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from .appkeys import HEALTH, SETTINGS
from .db.failures import DatabaseUnavailable, StorageFull, database_failure
from .errors import DomainError, TooManyRequests, validation_failed
from .logs import REQUEST_ID, route_of

log = logging.getLogger("teleconsult.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
    429: "TooManyRequests",
}


def error_response(status: int, body: dict[str, object]) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
    )


def _where(request: web.Request) -> dict[str, str]:
    # The route's template, not the path: paths hold ids.
    return {
        "request_id": request.get(REQUEST_ID, "-"),
        "method": request.method,
        "route": route_of(request),
    }


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render DomainError, aiohttp HTTP errors and validation errors as JSON; never HTML."""
    try:
        return await handler(request)
    except DomainError as exc:
        response = error_response(exc.status, exc.to_json())
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except ValidationError as exc:
        failed = validation_failed(exc)
        return error_response(failed.status, failed.to_json())
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        name = _HTTP_NAMES.get(exc.status, "HTTPError")
        detail = exc.reason if exc.status != 413 else "The request body is too large."
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        response = error_response(exc.status, {"error": name, "code": code, "detail": detail})
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception as exc:
        failure = database_failure(exc)
        if failure is not None:
            log.warning("database failure: %s", type(exc).__name__, extra=_where(request))
            if isinstance(failure, StorageFull):
                request.app[HEALTH].storage_full(time.monotonic())
            response = error_response(failure.status, failure.to_json())
            if isinstance(failure, DatabaseUnavailable):
                response.headers["Retry-After"] = str(failure.retry_after)
            return response
        log.exception("unhandled error", extra=_where(request))
        return error_response(
            500,
            {
                "error": "InternalError",
                "code": "internal",
                "detail": "Something went wrong on our side.",
            },
        )


# Pages load only their own scripts and styles and talk only to this origin (HTTP and
# websockets); camera streams play from blob:/mediastream: URLs.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HSTS = "max-age=31536000; includeSubDomains"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.app[SETTINGS].env == "production":
            # Production is served over HTTPS only (deploy/nginx.conf): never fall back.
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        else:
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    return response
