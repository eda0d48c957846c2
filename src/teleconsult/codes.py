"""Controlled vocabularies: regions, care levels, specialties, roles.

The one source of the codes and their display names: the API validates with them and
serves them (``GET /api/v1/codes``), and the web app reads them from there.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema


class Role(StrEnum):
    admin = "admin"
    gp = "gp"
    specialist = "specialist"
    patient = "patient"


class CareLevel(StrEnum):
    primary = "primary"
    secondary = "secondary"
    tertiary = "tertiary"


CARE_LEVELS: dict[str, str] = {
    CareLevel.primary: "Primary",
    CareLevel.secondary: "Secondary",
    CareLevel.tertiary: "Tertiary",
}


# The three cities of republican significance, then the 17 regions (oblys).
REGIONS: dict[str, str] = {
    "astana": "Astana",
    "almaty_city": "Almaty",
    "shymkent": "Shymkent",
    "abai": "Abai Region",
    "akmola": "Akmola Region",
    "aktobe": "Aktobe Region",
    "almaty_region": "Almaty Region",
    "atyrau": "Atyrau Region",
    "east_kazakhstan": "East Kazakhstan Region",
    "jambyl": "Jambyl Region",
    "jetisu": "Jetisu Region",
    "karaganda": "Karaganda Region",
    "kostanay": "Kostanay Region",
    "kyzylorda": "Kyzylorda Region",
    "mangystau": "Mangystau Region",
    "north_kazakhstan": "North Kazakhstan Region",
    "pavlodar": "Pavlodar Region",
    "turkistan": "Turkistan Region",
    "ulytau": "Ulytau Region",
    "west_kazakhstan": "West Kazakhstan Region",
}

SPECIALTIES: dict[str, str] = {
    "cardiology": "Cardiology",
    "pulmonology": "Pulmonology",
    "neurology": "Neurology",
    "endocrinology": "Endocrinology",
    "pediatrics": "Pediatrics",
    "oncology": "Oncology",
    "nephrology": "Nephrology",
    "gastroenterology": "Gastroenterology",
    "psychiatry": "Psychiatry",
    "dermatology": "Dermatology",
    "obstetrics": "Obstetrics and gynaecology",
    "ophthalmology": "Ophthalmology",
    "traumatology": "Traumatology",
    "infectious_diseases": "Infectious diseases",
    "rheumatology": "Rheumatology",
}


def _one_of(known: dict[str, str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"unknown {what}")
        return value

    return check


# Slugs as pydantic types: validated, and published as enums in the OpenAPI document.
RegionSlug = Annotated[
    str,
    AfterValidator(_one_of(REGIONS, "region")),
    WithJsonSchema({"type": "string", "enum": list(REGIONS)}),
]
SpecialtySlug = Annotated[
    str,
    AfterValidator(_one_of(SPECIALTIES, "specialty")),
    WithJsonSchema({"type": "string", "enum": list(SPECIALTIES)}),
]
