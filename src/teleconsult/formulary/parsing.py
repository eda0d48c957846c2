"""Reading what a clinician types: a dose ("5 mg", "2,5 мг", "1 tablet"), a route ("po",
"внутривенно") and a frequency ("twice daily", "every 8 hours", "2 раза в день", "1-0-1",
"күніне 2 рет"), in English, Russian or Kazakh. Pure functions: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .catalogue import ROUTES

# --- dose -----------------------------------------------------------------------------------

# Unit spellings → (canonical unit, factor to it). Mass goes to mg.
_UNITS: dict[str, tuple[str, float]] = {}
for _spellings, _unit, _factor in (
    (("mg", "мг", "milligram", "milligrams"), "mg", 1.0),
    (("g", "г", "gram", "grams", "гр"), "mg", 1000.0),
    (("mcg", "µg", "μg", "ug", "мкг", "microgram", "micrograms"), "mg", 0.001),
    (("iu", "u", "unit", "units", "ед", "me", "ме", "бірлік"), "IU", 1.0),
    (("ml", "мл"), "ml", 1.0),
    (
        ("tablet", "tablets", "tab", "tabs", "таб", "табл", "таблетка", "таблетки", "таблеток"),
        "tablet",
        1.0,
    ),
    (("capsule", "capsules", "caps", "капс", "капсула", "капсулы", "капсул"), "capsule", 1.0),
    (
        (
            "puff",
            "puffs",
            "inhalation",
            "inhalations",
            "dose",
            "doses",
            "вдох",
            "вдоха",
            "вдохов",
            "ингаляция",
            "ингаляции",
            "ингаляций",
            "доза",
            "дозы",
            "доз",
            "ингаляция",
        ),
        "inhalation",
        1.0,
    ),
):
    for _s in _spellings:
        _UNITS[_s] = (_unit, _factor)

_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.,])|\d+(?:[.,]\d+)?"
_DOSE = re.compile(
    rf"^\s*(?:(?P<low>{_NUMBER})\s*[-–]\s*)?(?P<value>{_NUMBER})\s*(?P<unit>[^\d\s/]+)?"
)


def parse_number(text: str) -> float:
    """``5,000`` and ``5 000`` are five thousand; ``2,5`` is two and a half."""
    text = re.sub(r"[ \u00a0\u202f]", "", text)
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


@dataclass(frozen=True)
class Dose:
    value: float  # in ``unit``
    unit: str | None  # mg, IU, ml, tablet, capsule, inhalation; None when not given


def parse_dose(text: str) -> Dose | None:
    """The amount given at one time (the upper end of a range); None if there is no number."""
    m = _DOSE.match(text.lower())
    if m is None:
        return None
    value = parse_number(m.group("value"))
    unit_text = (m.group("unit") or "").strip(".")
    if not unit_text:
        return Dose(value, None)
    unit, factor = _UNITS.get(unit_text, (unit_text, 1.0))
    return Dose(value * factor, unit)


def in_unit(dose: Dose, unit: str) -> float | None:
    """The dose expressed in ``unit`` (mg, g, mcg, IU, ml, tablet, inhalation), or None
    when the two cannot be compared."""
    target, factor = _UNITS.get(unit.lower(), (unit, 1.0))
    if dose.unit != target:
        return None
    return dose.value / factor


# --- route ----------------------------------------------------------------------------------

_ROUTE_WORDS: dict[str, str] = {r: r for r in ROUTES}
for _route, _words in {
    "oral": (
        "po",
        "p o",
        "per os",
        "by mouth",
        "orally",
        "mouth",
        "внутрь",
        "перорально",
        "per oral",
        "ішке",
        "ауыз арқылы",
    ),
    "sublingual": ("sl", "under the tongue", "под язык", "сублингвально", "тіл астына"),
    "inhaled": (
        "inhalation",
        "inh",
        "inhal",
        "nebulised",
        "nebulized",
        "ингаляционно",
        "ингаляция",
        "ингаляциялық",
        "ингаляция арқылы",
    ),
    "topical": ("external", "on the skin", "наружно", "местно", "сыртқа", "жергілікті"),
    "intravenous": ("iv", "i v", "в в", "внутривенно", "венаға", "көктамырға", "тамырішілік"),
    "intramuscular": ("im", "i m", "в м", "внутримышечно", "бұлшықетке", "бұлшықет ішіне"),
    "subcutaneous": (
        "sc",
        "s c",
        "sq",
        "subcut",
        "п к",
        "подкожно",
        "тері астына",
    ),
    "rectal": ("pr", "per rectum", "rectally", "ректально", "тік ішекке", "ректальды"),
}.items():
    for _w in _words:
        _ROUTE_WORDS[_w] = _route


def parse_route(text: str) -> str | None:
    """The route code for a route as typed, or None for one the service does not know."""
    key = " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
    return _ROUTE_WORDS.get(key)


# --- frequency ------------------------------------------------------------------------------

_WORD_NUMBERS = {
    "once": "1",
    "one": "1",
    "twice": "2",
    "two": "2",
    "thrice": "3",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "однократно": "1",
    "один": "1",
    "одна": "1",
    "дважды": "2",
    "два": "2",
    "трижды": "3",
    "три": "3",
    "четыре": "4",
    "бір": "1",
    "екі": "2",
    "үш": "3",
    "төрт": "4",
}

_ABBREVIATIONS = {
    "od": 1.0,
    "qd": 1.0,
    "daily": 1.0,
    "once daily": 1.0,
    "once a day": 1.0,
    "every day": 1.0,
    "at night": 1.0,
    "nightly": 1.0,
    "in the morning": 1.0,
    "qhs": 1.0,
    "mane": 1.0,
    "nocte": 1.0,
    "ежедневно": 1.0,
    "на ночь": 1.0,
    "утром": 1.0,
    "күн сайын": 1.0,
    "күніне": 1.0,
    "bid": 2.0,
    "bd": 2.0,
    "tid": 3.0,
    "tds": 3.0,
    "qid": 4.0,
    "qds": 4.0,
    "hourly": 24.0,
    "every hour": 24.0,
    "ежечасно": 24.0,
    "каждый час": 24.0,
    "әр сағат сайын": 24.0,
    "әр сағат": 24.0,
    "weekly": 1 / 7,
    "once weekly": 1 / 7,
    "once a week": 1 / 7,
    "every week": 1 / 7,
    "еженедельно": 1 / 7,
    "раз в неделю": 1 / 7,
    "апта сайын": 1 / 7,
    "every other day": 0.5,
    "on alternate days": 0.5,
    "через день": 0.5,
    "күнара": 0.5,
}

_AS_NEEDED = ("as needed", "prn", "when needed", "по требованию", "при необходимости", "қажет")

_NUM = r"(\d+(?:[.,]\d+)?)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # every 8 hours, q8h, каждые 8 часов, әр 8 сағат сайын
    (
        re.compile(
            rf"(?:every|each|q|каждые|каждый|әр)\s*{_NUM}\s*(?:-\s*\d+\s*)?(?:hours?|hrs?|h|час\w*|ч|сағат\w*)"
        ),
        "hours",
    ),
    # every 2 days, каждые 2 дня, әр 2 күн сайын
    (
        re.compile(rf"(?:every|each|каждые|каждый|әр)\s*{_NUM}\s*(?:days?|дн\w*|сут\w*|күн\w*)"),
        "days",
    ),
    # 3 times a week, 3 раза в неделю, аптасына 3 рет
    (
        re.compile(rf"{_NUM}\s*(?:x|×|times?|раза?|рет)\s*(?:a|per|in|/|в)?\s*(?:week|неделю|нед)"),
        "week",
    ),
    (re.compile(rf"(?:аптасына|апта\s+сайын)\s*{_NUM}\s*рет"), "week"),
    # 2 times a day, 2x/day, 2 раза в день, 2 р/д, күніне 2 рет
    (
        re.compile(
            rf"{_NUM}\s*(?:x|×|times?|раза?|р|рет)?\s*(?:a|per|in|/|в)?\s*"
            r"(?:day|daily|d|сутки|день|сут|д|күн\w*)\b"
        ),
        "day",
    ),
    (re.compile(rf"(?:күніне|тәулігіне)\s*{_NUM}\s*рет"), "day"),
    (re.compile(rf"^{_NUM}\s*(?:x|×|times?|раза?|рет)$"), "day"),
]

# 1-0-1 (morning, midday, evening[, night])
_SCHEME = re.compile(r"^(\d+(?:[.,]\d+)?)(?:\s*[-–/]\s*(\d+(?:[.,]\d+)?)){2,3}$")


@dataclass(frozen=True)
class Frequency:
    per_day: float | None  # None: as needed, with no number of times given
    as_needed: bool = False


def parse_frequency(text: str) -> Frequency | None:
    """How many times a day, or None when the text says nothing the service understands."""
    raw = text.lower().replace("ё", "е").strip()
    as_needed = any(word in raw for word in _AS_NEEDED)
    scheme = raw.replace(" ", "")
    if _SCHEME.match(scheme):
        parts = re.split(r"[-–/]", scheme)
        return Frequency(sum(parse_number(p) for p in parts), as_needed)
    words = " ".join(_WORD_NUMBERS.get(w, w) for w in re.split(r"[\s,;()]+", raw) if w)
    for pattern, kind in _PATTERNS:
        m = pattern.search(words)
        if m is None:
            continue
        n = parse_number(m.group(1))
        if kind == "hours":
            return Frequency(24 / n if n > 0 else 0.0, as_needed)
        if kind == "days":
            return Frequency(1 / n if n > 0 else 0.0, as_needed)
        if kind == "week":
            return Frequency(n / 7, as_needed)
        return Frequency(n, as_needed)
    bare = " ".join(re.sub(r"[^\w\s]+", " ", words).split())
    for phrase, per_day in sorted(_ABBREVIATIONS.items(), key=lambda item: -len(item[0])):
        if re.search(rf"(?:^|\s){re.escape(phrase)}(?:\s|$)", bare):
            return Frequency(per_day, as_needed)
    if as_needed:
        return Frequency(None, True)
    return None
