"""Controlled vocabularies: regions, care levels, specialties, roles.

The one source of the codes and their display names in each language (English, Kazakh,
Russian): the API validates with them and serves them (``GET /api/v1/codes``), and the web
app reads them from there.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from .errors import custom_error


class Role(StrEnum):
    admin = "admin"
    gp = "gp"
    specialist = "specialist"
    patient = "patient"


class Language(StrEnum):
    """The languages the pages speak (web/i18n/<code>.json)."""

    en = "en"
    kk = "kk"
    ru = "ru"


class CareLevel(StrEnum):
    primary = "primary"
    secondary = "secondary"
    tertiary = "tertiary"


Names = dict[str, str]
"""A display name per language: {"en": …, "kk": …, "ru": …} (every Language, always)."""


def _names(en: str, kk: str, ru: str) -> Names:
    return {Language.en: en, Language.kk: kk, Language.ru: ru}


CARE_LEVEL_NAMES: dict[str, Names] = {
    CareLevel.primary: _names("Primary", "Алғашқы", "Первичный"),
    CareLevel.secondary: _names("Secondary", "Екінші", "Вторичный"),
    CareLevel.tertiary: _names("Tertiary", "Үшінші", "Третичный"),
}


# The three cities of republican significance, then the 17 regions (oblys).
REGION_NAMES: dict[str, Names] = {
    "astana": _names("Astana", "Астана", "Астана"),
    "almaty_city": _names("Almaty", "Алматы", "Алматы"),
    "shymkent": _names("Shymkent", "Шымкент", "Шымкент"),
    "abai": _names("Abai Region", "Абай облысы", "Абайская область"),
    "akmola": _names("Akmola Region", "Ақмола облысы", "Акмолинская область"),
    "aktobe": _names("Aktobe Region", "Ақтөбе облысы", "Актюбинская область"),
    "almaty_region": _names("Almaty Region", "Алматы облысы", "Алматинская область"),
    "atyrau": _names("Atyrau Region", "Атырау облысы", "Атырауская область"),
    "east_kazakhstan": _names(
        "East Kazakhstan Region", "Шығыс Қазақстан облысы", "Восточно-Казахстанская область"
    ),
    "jambyl": _names("Jambyl Region", "Жамбыл облысы", "Жамбылская область"),
    "jetisu": _names("Jetisu Region", "Жетісу облысы", "Область Жетісу"),
    "karaganda": _names("Karaganda Region", "Қарағанды облысы", "Карагандинская область"),
    "kostanay": _names("Kostanay Region", "Қостанай облысы", "Костанайская область"),
    "kyzylorda": _names("Kyzylorda Region", "Қызылорда облысы", "Кызылординская область"),
    "mangystau": _names("Mangystau Region", "Маңғыстау облысы", "Мангистауская область"),
    "north_kazakhstan": _names(
        "North Kazakhstan Region", "Солтүстік Қазақстан облысы", "Северо-Казахстанская область"
    ),
    "pavlodar": _names("Pavlodar Region", "Павлодар облысы", "Павлодарская область"),
    "turkistan": _names("Turkistan Region", "Түркістан облысы", "Туркестанская область"),
    "ulytau": _names("Ulytau Region", "Ұлытау облысы", "Область Ұлытау"),
    "west_kazakhstan": _names(
        "West Kazakhstan Region", "Батыс Қазақстан облысы", "Западно-Казахстанская область"
    ),
}

SPECIALTY_NAMES: dict[str, Names] = {
    "cardiology": _names("Cardiology", "Кардиология", "Кардиология"),
    "pulmonology": _names("Pulmonology", "Пульмонология", "Пульмонология"),
    "neurology": _names("Neurology", "Неврология", "Неврология"),
    "endocrinology": _names("Endocrinology", "Эндокринология", "Эндокринология"),
    "pediatrics": _names("Pediatrics", "Педиатрия", "Педиатрия"),
    "oncology": _names("Oncology", "Онкология", "Онкология"),
    "nephrology": _names("Nephrology", "Нефрология", "Нефрология"),
    "gastroenterology": _names("Gastroenterology", "Гастроэнтерология", "Гастроэнтерология"),
    "psychiatry": _names("Psychiatry", "Психиатрия", "Психиатрия"),
    "dermatology": _names("Dermatology", "Дерматология", "Дерматология"),
    "obstetrics": _names(
        "Obstetrics and gynaecology", "Акушерлік және гинекология", "Акушерство и гинекология"
    ),
    "ophthalmology": _names("Ophthalmology", "Офтальмология", "Офтальмология"),
    "traumatology": _names("Traumatology", "Травматология", "Травматология"),
    "infectious_diseases": _names("Infectious diseases", "Жұқпалы аурулар", "Инфекционные болезни"),
    "rheumatology": _names("Rheumatology", "Ревматология", "Ревматология"),
}


def _english(table: dict[str, Names]) -> dict[str, str]:
    return {code: names[Language.en] for code, names in table.items()}


# The English names, for the command line and for validation by membership.
CARE_LEVELS: dict[str, str] = _english(CARE_LEVEL_NAMES)
REGIONS: dict[str, str] = _english(REGION_NAMES)
SPECIALTIES: dict[str, str] = _english(SPECIALTY_NAMES)


def _one_of(known: dict[str, str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in known:
            raise custom_error(f"unknown_{what}", f"unknown {what}")
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
