from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..codes import CareLevel, RegionSlug

FacilityName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


class FacilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: FacilityName
    name_kk: FacilityName | None = None
    name_ru: FacilityName | None = None
    region: RegionSlug
    level: CareLevel


class FacilityUpdate(BaseModel):
    """The fields to change; a Kazakh or Russian name set to ``null`` falls back to ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: FacilityName | None = None
    name_kk: FacilityName | None = None
    name_ru: FacilityName | None = None
    region: RegionSlug | None = None
    level: CareLevel | None = None


class FacilityOut(BaseModel):
    """A facility; ``name`` is in the reader's language, ``names`` holds all three (each
    falling back to the English one) and ``name_kk``/``name_ru`` what was entered."""

    id: uuid.UUID
    name: str
    names: dict[str, str]
    name_en: str
    name_kk: str | None
    name_ru: str | None
    region: str
    level: CareLevel
    created_at: datetime


class FacilityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionSlug | None = None
    level: CareLevel | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
