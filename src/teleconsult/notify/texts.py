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


@cache
def _catalogue(web_dir: Path, language: str) -> dict[str, Any]:
    return dict(json.loads((web_dir / "i18n" / f"{language}.json").read_text("utf-8")))


def render(web_dir: Path, kind: str, language: str, params: dict[str, str]) -> str:
    """The text of a message; an unknown language falls back to English."""
    if language not in LANGUAGES:
        language = "en"
    key = f"notify.{kind}"
    text = _catalogue(web_dir, language).get(key) or _catalogue(web_dir, "en")[key]
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), str(text))
