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
import re
import secrets
import uuid
from datetime import datetime
from typing import cast

from aiohttp import web
from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from ..appkeys import CLOCK, REQUEST_CALL_ONLY, REQUEST_TOKEN, REQUEST_USER, SETTINGS
from ..config import Settings
from ..errors import Forbidden, Unauthorized
from .models import AuthToken, User

SESSION_COOKIE = "tc_session"
CSRF_COOKIE = "tc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CALL_ONLY = "teleconsult.call_only"
PREFIX = "/api/v1"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def set_session_cookies(
    response: web.StreamResponse, token: str, settings: Settings, max_age: int
) -> None:
    """The browser's session: the token in an HttpOnly cookie, and its CSRF twin."""
    for name, value, httponly in (
        (SESSION_COOKIE, token, True),
        (CSRF_COOKIE, csrf_for(token, settings.secret_key), False),
    ):
        response.set_cookie(
            name,
            value,
            httponly=httponly,
            samesite="Strict",
            secure=settings.secure_cookies,
            max_age=max_age,
            path="/",
        )


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
    select(_USERS, _TOKENS.c.expires_at, _TOKENS.c.revoked_at, _TOKENS.c.call_only)
    .join_from(_TOKENS, _USERS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)
_USER_COLUMNS = tuple(column.key for column in _USERS.c)


class CallOnlySession(Forbidden):
    default_detail = "This session opened by a call link serves only that consultation's call."
    default_code = "call_only_session"


_FILE_PATH = re.compile(r"/files/[0-9a-fA-F-]{36}(/thumbnail)?")


def call_only_allows(method: str, path: str, consultation_id: uuid.UUID) -> bool:
    """What a call-only session (a patient who followed a call link) may reach: their
    account's name, signing out, and its one consultation's call page (the consultation,
    the call's ticket, the chat, the files sent in the chat: ``files/service.py: may_read``
    refuses any other file to such a session). Never the passport, never another route."""
    own = f"{PREFIX}/consultations/{consultation_id}"
    if path == f"{PREFIX}/auth/logout":
        return method == "POST"
    if _FILE_PATH.fullmatch(path.removeprefix(PREFIX)):
        return method == "GET"
    if path == f"{own}/chat":
        return method in ("GET", "POST")
    return method == "GET" and path in (f"{PREFIX}/me", own, f"{own}/call")


async def user_for_token(session: AsyncSession, token: str, now: datetime) -> User | None:
    """The active user holding this unexpired, unrevoked token, or ``None``.

    The user becomes part of the session as if loaded by it, so ``session.get(User, id)``
    returns the same object. A call-only session's consultation is ``session.info[CALL_ONLY]``.
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
    session.info[CALL_ONLY] = values["call_only"]
    return user


async def authenticate(request: web.Request, session: AsyncSession) -> User:
    """The caller, or 401; cookie callers must also pass the CSRF check on unsafe methods."""
    token, from_cookie = bearer_token(request)
    if token is None:
        raise Unauthorized(code="unauthorized")
    user = await user_for_token(session, token, request.app[CLOCK].now())
    if user is None:
        raise Unauthorized("The session is invalid or has expired.", code="session_expired")
    call_only = session.info.pop(CALL_ONLY, None)
    if call_only is not None and not call_only_allows(request.method, request.path, call_only):
        raise CallOnlySession()
    if from_cookie and request.method not in SAFE_METHODS:
        expected = csrf_for(token, request.app[SETTINGS].secret_key)
        if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), expected):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    request[REQUEST_USER] = user
    request[REQUEST_TOKEN] = token
    request[REQUEST_CALL_ONLY] = call_only
    return user
