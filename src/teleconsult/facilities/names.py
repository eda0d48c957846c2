"""A facility's name in the language its reader chose: one source, the facility row.

``name`` is the English (or only) name; ``name_kk`` and ``name_ru`` the Kazakh and Russian
ones, each falling back to ``name`` where it is not given.
"""

from __future__ import annotations

from typing import Any

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
