"""ICD-10 search for picking diagnoses: codes and titles, in Kazakh or Russian where the
project has a translation (:mod:`.titles`), else the WHO English title."""

from __future__ import annotations

from functools import cache

from ..passport.icd10 import _codes
from .titles import TITLES

LANGUAGES = ("en", "kk", "ru")


@cache
def _index() -> list[tuple[str, str, str]]:
    """Every category and subcategory: (dotted code, code without dot, English title)."""
    icd = _codes()
    out = []
    for code in icd.get_all_codes(with_dots=True):
        if icd.is_category_or_subcategory(code):
            out.append((code, code.replace(".", ""), str(icd.get_description(code))))
    return out


def title(code: str, english: str, language: str) -> tuple[str, bool]:
    """The title in ``language`` and whether it is translated (False: the English one)."""
    if language in ("kk", "ru") and code in TITLES:
        kk, ru = TITLES[code]
        return (kk if language == "kk" else ru), True
    return english, language == "en"


def search(query: str, language: str = "en", limit: int = 20) -> list[dict[str, str | bool]]:
    """Codes whose code starts with the query, then codes whose title (translated or English)
    contains it; translated and shorter codes first."""
    needle = query.strip()
    if not needle:
        return []
    upper = needle.upper().replace(".", "")
    lower = needle.casefold()
    by_code: list[tuple[int, str, str]] = []
    by_title: list[tuple[int, str, str]] = []
    for code, bare, english in _index():
        text, translated = title(code, english, language)
        if bare.startswith(upper):
            by_code.append((0 if code in TITLES else 1, code, english))
        elif lower in text.casefold() or (translated and lower in english.casefold()):
            starts = text.casefold().startswith(lower)
            by_title.append(((0 if code in TITLES else 2) + (0 if starts else 1), code, english))
    by_code.sort(key=lambda r: (len(r[1]), r[0], r[1]))
    by_title.sort(key=lambda r: (r[0], len(r[1]), r[1]))
    results: list[dict[str, str | bool]] = []
    for _, code, english in (by_code + by_title)[:limit]:
        text, translated = title(code, english, language)
        results.append({"code": code, "title": text, "translated": translated})
    return results


@cache
def _english() -> dict[str, str]:
    """Every category's and subcategory's English title by its dotted code."""
    return {code: english for code, _bare, english in _index()}


def titles(codes: list[str], language: str = "en") -> list[dict[str, str | bool]]:
    """The title of each known code (dotted or not) in ``language`` where the project has a
    translation, else the WHO English one; unknown codes are left out, each code once."""
    english = _english()
    results: list[dict[str, str | bool]] = []
    seen: set[str] = set()
    for raw in codes:
        code = raw.strip().upper()
        if code not in english and len(code) > 3:
            code = f"{code[:3]}.{code[3:]}"
        if code in seen or code not in english:
            continue
        seen.add(code)
        text, translated = title(code, english[code], language)
        results.append({"code": code, "title": text, "translated": translated})
    return results
