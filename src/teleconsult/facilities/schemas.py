from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..codes import CareLevel, RegionSlug


class FacilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    region: RegionSlug
    level: CareLevel


class FacilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    region: str
    level: CareLevel
    created_at: datetime


class FacilityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionSlug | None = None
    level: CareLevel | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
