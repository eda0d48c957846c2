"""What a failure of the database itself means to the caller.

A request that meets a database which is away (refused, restarted, shutting down, pool
exhausted) is answered 503 with Retry-After, and one that meets a full disk 507: both say
that nothing was saved, so a client may try again. Errors that are the request's own
(constraint violations) are not these: services turn them into 409 or 422 themselves.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from ..errors import DomainError

RETRY_AFTER_SECONDS = 5

# PostgreSQL's SQLSTATE classes for a connection that failed or a server going away.
_AWAY_SQLSTATES = ("08", "57P")
_DISK_FULL_SQLSTATE = "53100"
_CONNECTION_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


# How long a write that failed for lack of space keeps the process not ready (/readyz).
STORAGE_FULL_SECONDS = 60.0


@dataclass
class Health:
    """What requests have learnt about the database since the process started."""

    storage_full_at: float | None = None

    def storage_full(self, at: float) -> None:
        self.storage_full_at = at

    def recently_full(self, now: float) -> bool:
        return self.storage_full_at is not None and now - self.storage_full_at < (
            STORAGE_FULL_SECONDS
        )


class DatabaseUnavailable(DomainError):
    status = 503
    default_detail = "The database is not reachable; nothing was saved. Try again shortly."
    default_code = "database_unavailable"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = RETRY_AFTER_SECONDS


class StorageFull(DomainError):
    status = 507
    default_detail = "The server has run out of storage; nothing was saved. Try again later."
    default_code = "storage_full"


def _sqlstate(error: BaseException | None) -> str:
    while error is not None:
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str):
            return state
        error = error.__cause__
    return ""


def database_failure(error: BaseException) -> DomainError | None:
    """The 503 or 507 that ``error`` stands for, or None if it is not the database's own."""
    if isinstance(error, sa_exc.IntegrityError):
        return None
    original = getattr(error, "orig", None) or error
    state = _sqlstate(original)
    message = str(original).lower()
    if state == _DISK_FULL_SQLSTATE or "disk is full" in message or "no space left" in message:
        return StorageFull()
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return StorageFull()
    if state.startswith(_AWAY_SQLSTATES):
        return DatabaseUnavailable()
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return DatabaseUnavailable()
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return DatabaseUnavailable()
    if isinstance(error, ConnectionError) or (
        isinstance(error, OSError) and (error.errno is None or error.errno in _CONNECTION_ERRNOS)
    ):
        return DatabaseUnavailable()
    return None
