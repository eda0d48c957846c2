"""Opaque bearer tokens and browser cookies.

The token is 256 random bits, handed to the client once; the server keeps only its SHA-256,
so a stolen database does not yield usable sessions. Each request looks the token up, so
logout and disabling a user take effect on the very next request. Browsers get the token in
an HttpOnly SameSite cookie plus a readable CSRF cookie whose value must be echoed in the
``X-CSRF-Token`` header on every unsafe request (double submit, bound to the token by HMAC).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import cast

from aiohttp import web
from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from ..appkeys import CLOCK, REQUEST_TOKEN, REQUEST_USER, SETTINGS
from ..errors import Forbidden, Unauthorized
from .models import AuthToken, User

SESSION_COOKIE = "tc_session"
CSRF_COOKIE = "tc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def bearer_token(request: web.Request) -> tuple[str | None, bool]:
    """The presented token and whether it came from the cookie."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie or None), True


_USERS = cast(Table, User.__table__)
_TOKENS = cast(Table, AuthToken.__table__)
# Built once: a per-request ORM select of (User, AuthToken) cost more than the database
# round trip itself (statement construction, then entity loading; see bench/stats.py).
_TOKEN_LOOKUP = (
    select(_USERS, _TOKENS.c.expires_at, _TOKENS.c.revoked_at)
    .join_from(_TOKENS, _USERS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)
_USER_COLUMNS = tuple(column.key for column in _USERS.c)


async def user_for_token(session: AsyncSession, token: str, now: datetime) -> User | None:
    """The active user holding this unexpired, unrevoked token, or ``None``.

    The user becomes part of the session as if loaded by it, so ``session.get(User, id)``
    returns the same object.
    """
    connection = await session.connection()
    row = (await connection.execute(_TOKEN_LOOKUP, {"token_hash": token_hash(token)})).first()
    if row is None:
        return None
    values = row._mapping
    if values["revoked_at"] is not None or values["expires_at"] <= now or not values["is_active"]:
        return None
    user = User(**{key: values[key] for key in _USER_COLUMNS})
    make_transient_to_detached(user)
    session.add(user)
    return user


async def authenticate(request: web.Request, session: AsyncSession) -> User:
    """The caller, or 401; cookie callers must also pass the CSRF check on unsafe methods."""
    token, from_cookie = bearer_token(request)
    if token is None:
        raise Unauthorized(code="unauthorized")
    user = await user_for_token(session, token, request.app[CLOCK].now())
    if user is None:
        raise Unauthorized("The session is invalid or has expired.", code="session_expired")
    if from_cookie and request.method not in SAFE_METHODS:
        expected = csrf_for(token, request.app[SETTINGS].secret_key)
        if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), expected):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    request[REQUEST_USER] = user
    request[REQUEST_TOKEN] = token
    return user
