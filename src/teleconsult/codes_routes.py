"""``GET /codes``: the specialties, regions and care levels of ``codes.py``, named in each
language."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .api import Ctx, Router
from .codes import CARE_LEVEL_NAMES, REGION_NAMES, SPECIALTY_NAMES, Language, Names

router = Router("codes")


class Code(BaseModel):
    code: str = Field(description="The slug the API takes and returns")
    name: str = Field(description="What people read, in English")
    names: dict[Language, str] = Field(description="What people read, per language (en, kk, ru)")


class CodesOut(BaseModel):
    """Every controlled vocabulary a client shows, in the order to show it."""

    specialties: list[Code]
    regions: list[Code]
    care_levels: list[Code]


def _codes(table: dict[str, Names]) -> list[Code]:
    return [
        Code(
            code=str(code),
            name=names[Language.en],
            names={Language(k): v for k, v in names.items()},
        )
        for code, names in table.items()
    ]


# The same for every caller and for the life of the process.
_ALL = CodesOut(
    specialties=_codes(SPECIALTY_NAMES),
    regions=_codes(REGION_NAMES),
    care_levels=_codes(CARE_LEVEL_NAMES),
)


@router.get(
    "/codes",
    summary="Specialties, regions and care levels, with their display names",
    response=CodesOut,
    public=True,
    read_only=True,
)
async def codes(_: Ctx) -> CodesOut:
    return _ALL
