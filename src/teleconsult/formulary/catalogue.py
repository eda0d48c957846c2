"""The formulary the project ships (``formulary.json``): loading, lookup and search.

Each drug has its WHO ATC code, its INN in English, Russian and Kazakh (with common
synonyms), its forms and routes, the usual maximum adult dose a day (or a week, for drugs
taken weekly), whether it is taken long term, and how many times a day it is usually given.
Sources are listed in the file and in ``README.md`` beside this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "ru", "kk")

# The routes of administration the service knows (the pages offer these).
ROUTES = (
    "oral",
    "sublingual",
    "inhaled",
    "topical",
    "intravenous",
    "intramuscular",
    "subcutaneous",
    "rectal",
)


@dataclass(frozen=True)
class MaxDose:
    value: float
    unit: str
    per: str  # "day" or "week"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "per": self.per}


@dataclass(frozen=True)
class Drug:
    atc: str
    name: dict[str, str]
    synonyms: tuple[str, ...]
    forms: tuple[str, ...]
    routes: tuple[str, ...]
    max_dose: MaxDose
    chronic: bool
    max_times_per_day: int
    max_dose_by_route: dict[str, MaxDose] = field(default_factory=dict)
    weekly_only: bool = False

    @property
    def atc_class(self) -> str:
        """ATC level 4 (chemical subgroup), e.g. C09AA for the ACE inhibitors."""
        return self.atc[:5]

    def max_for(self, route: str | None) -> MaxDose:
        return self.max_dose_by_route.get(route or "", self.max_dose)

    def names(self) -> tuple[str, ...]:
        return tuple(self.name[lang] for lang in LANGUAGES) + self.synonyms

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "atc": self.atc,
            "name": dict(self.name),
            "synonyms": list(self.synonyms),
            "forms": list(self.forms),
            "routes": list(self.routes),
            "max_dose": self.max_dose.as_dict(),
            "max_dose_by_route": {r: d.as_dict() for r, d in self.max_dose_by_route.items()},
            "chronic": self.chronic,
            "max_times_per_day": self.max_times_per_day,
            "weekly_only": self.weekly_only,
        }
        return out


def _dose(raw: dict[str, Any]) -> MaxDose:
    return MaxDose(float(raw["value"]), str(raw["unit"]), str(raw.get("per", "day")))


def _drug(raw: dict[str, Any]) -> Drug:
    return Drug(
        atc=raw["atc"],
        name={lang: raw["name"][lang] for lang in LANGUAGES},
        synonyms=tuple(raw.get("synonyms", ())),
        forms=tuple(raw["forms"]),
        routes=tuple(raw["routes"]),
        max_dose=_dose(raw["max_dose"]),
        chronic=bool(raw.get("chronic", False)),
        max_times_per_day=int(raw["max_times_per_day"]),
        max_dose_by_route={r: _dose(d) for r, d in raw.get("max_dose_by_route", {}).items()},
        weekly_only=bool(raw.get("weekly_only", False)),
    )


def normalise(text: str) -> str:
    """Lower case, ё as е, one space between words, no punctuation but ``+``."""
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[^\w+]+", " ", text)
    text = re.sub(r"\s*\+\s*", " + ", text)
    return " ".join(text.split())


class Formulary:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw.get("version", "")
        self.sources: list[str] = list(raw.get("sources", []))
        self.drugs: tuple[Drug, ...] = tuple(_drug(d) for d in raw["drugs"])
        self.by_atc: dict[str, Drug] = {d.atc: d for d in self.drugs}
        # Every name in every language, normalised, longest first (a longer name wins).
        names: dict[str, Drug] = {}
        for drug in self.drugs:
            for name in drug.names():
                names.setdefault(normalise(name), drug)
        self._names = sorted(names.items(), key=lambda item: -len(item[0]))

    def get(self, atc: str) -> Drug | None:
        return self.by_atc.get(atc.strip().upper())

    def match(self, medication: str) -> Drug | None:
        """The drug a free-text medication names: a formulary name, alone or followed by a
        strength or form ("Amlodipine 5 mg tablets"); None when it names none."""
        text = normalise(medication)
        for name, drug in self._names:
            if text == name or text.startswith(name + " "):
                return drug
        return None

    def search(self, query: str, limit: int = 20) -> list[Drug]:
        """Drugs whose ATC code starts with the query or whose names contain it; those whose
        name starts with it come first."""
        q = normalise(query)
        if not q:
            return []
        code = query.strip().upper()
        first: list[Drug] = []
        then: list[Drug] = []
        for drug in self.drugs:
            names = [normalise(n) for n in drug.names()]
            if drug.atc.startswith(code) or any(n.startswith(q) for n in names):
                first.append(drug)
            elif any(q in n for n in names):
                then.append(drug)
        return (first + then)[:limit]


@cache
def formulary() -> Formulary:
    """The shipped formulary, read once."""
    text = resources.files(__package__).joinpath("formulary.json").read_text("utf-8")
    return Formulary(json.loads(text))
