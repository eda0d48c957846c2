"""Controlled vocabularies: regions, care levels, specialties, roles."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    gp = "gp"
    specialist = "specialist"
    patient = "patient"


class CareLevel(StrEnum):
    primary = "primary"
    secondary = "secondary"
    tertiary = "tertiary"


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
