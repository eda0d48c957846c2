"""The words of a message, from the same catalogues as the pages (web/i18n/<language>.json,
keys "notify.<kind>"), so that every text a person reads has one source per language."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("kk", "ru", "en")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A placeholder's value that is itself a catalogue key, said in the message's language.
TERM = "i18n:"


def term(key: str) -> str:
    """A placeholder value naming a catalogue key (a measurement's name, say)."""
    return TERM + key


@cache
def _catalogue(web_dir: Path, language: str) -> dict[str, Any]:
    return dict(json.loads((web_dir / "i18n" / f"{language}.json").read_text("utf-8")))


def render(web_dir: Path, kind: str, language: str, params: dict[str, str]) -> str:
    """The text of a message; an unknown language falls back to English."""
    if language not in LANGUAGES:
        language = "en"
    words = _catalogue(web_dir, language)
    key = f"notify.{kind}"
    text = words.get(key) or _catalogue(web_dir, "en")[key]

    def value(m: re.Match[str]) -> str:
        said = str(params.get(m.group(1), m.group(0)))
        if said.startswith(TERM):
            said = str(words.get(said[len(TERM) :], said[len(TERM) :]))
        return said

    return _PLACEHOLDER.sub(value, str(text))
