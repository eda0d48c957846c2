from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..codes import RegionSlug, SpecialtySlug
from ..types import IsoDateTime
from .slots import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES


class AvailabilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: IsoDateTime
    ends_at: IsoDateTime
    slot_minutes: int | None = Field(default=None, ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES)


class SlotOut(BaseModel):
    id: uuid.UUID
    specialist_id: uuid.UUID
    specialty: str
    starts_at: datetime
    ends_at: datetime
    facility_id: uuid.UUID | None
    region: str | None


class AvailabilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    specialist_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    slot_minutes: int
    slots: int


class SlotQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specialty: SpecialtySlug | None = None
    region: RegionSlug | None = None
    specialist_id: uuid.UUID | None = None
    from_: IsoDateTime | None = Field(default=None, alias="from")
    to: IsoDateTime | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
