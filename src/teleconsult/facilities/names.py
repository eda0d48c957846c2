"""A facility's name in the language its reader chose: one source, the facility row.

``name`` is the English (or only) name; ``name_kk`` and ``name_ru`` the Kazakh and Russian
ones, each falling back to ``name`` where it is not given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiohttp import web

from ..appkeys import REQUEST_USER

LANGUAGES = ("en", "kk", "ru")
DEFAULT = "en"


def pick_language(account_language: str | None, accept_language: str | None) -> str:
    """The account's language, else the first of the request's ``Accept-Language`` that we
    speak, else English."""
    if account_language in LANGUAGES:
        return str(account_language)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return DEFAULT


def language_of(request: Any, user: Any) -> str:
    """The language a request's answer names facilities in."""
    headers = getattr(request, "headers", None) or {}
    return pick_language(getattr(user, "language", None), headers.get("Accept-Language"))


def localized(name: str, name_kk: str | None, name_ru: str | None, language: str) -> str:
    """The name in ``language``, or the English one where that is missing."""
    chosen = {"kk": name_kk, "ru": name_ru}.get(language)
    return chosen or name


def names_of(name: str, name_kk: str | None, name_ru: str | None) -> dict[str, str]:
    """All three names, each falling back to the English one."""
    return {"en": name, "kk": name_kk or name, "ru": name_ru or name}


# The request being answered, so that code far from the handler (naming people with their
# facility, accounts/directory.py) names facilities in its reader's language.
_REQUEST: ContextVar[web.Request | None] = ContextVar("facility_reader_request", default=None)


@web.middleware
async def reader_language(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    token = _REQUEST.set(request)
    try:
        return await handler(request)
    finally:
        _REQUEST.reset(token)


def current_language() -> str:
    """The language of the request being answered (English outside a request)."""
    request = _REQUEST.get()
    if request is None:
        return DEFAULT
    return language_of(request, request.get(REQUEST_USER))
