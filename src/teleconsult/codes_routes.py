"""``GET /codes``: the specialties, regions and care levels of ``codes.py``, with their names."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .api import Ctx, Router
from .codes import CARE_LEVELS, REGIONS, SPECIALTIES

router = Router("codes")


class Code(BaseModel):
    code: str = Field(description="The slug the API takes and returns")
    name: str = Field(description="What people read")


class CodesOut(BaseModel):
    """Every controlled vocabulary a client shows, in the order to show it."""

    specialties: list[Code]
    regions: list[Code]
    care_levels: list[Code]


def _codes(table: dict[str, str]) -> list[Code]:
    return [Code(code=str(code), name=name) for code, name in table.items()]


# The same for every caller and for the life of the process.
_ALL = CodesOut(
    specialties=_codes(SPECIALTIES), regions=_codes(REGIONS), care_levels=_codes(CARE_LEVELS)
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
