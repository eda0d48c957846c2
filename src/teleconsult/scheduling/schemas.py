from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..codes import RegionSlug, SpecialtySlug
from ..types import ClinicalDate, IsoDateTime
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


ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WeeklyHoursCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    starts: ClockTime = Field(description="local time, HH:MM")
    ends: ClockTime = Field(description="local time, HH:MM")
    time_zone: TimeZoneName = Field(description="IANA time zone, e.g. Asia/Almaty")
    slot_minutes: int | None = Field(default=None, ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES)


class WeeklyHoursOut(BaseModel):
    id: uuid.UUID
    weekday: int
    starts: str
    ends: str
    time_zone: str
    slot_minutes: int
    slots: int
    booked: int


class LeaveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_day: ClinicalDate
    last_day: ClinicalDate
    time_zone: TimeZoneName


class LeaveOut(BaseModel):
    id: uuid.UUID
    first_day: date
    last_day: date
    time_zone: str
    slots_removed: int = 0


class WindowOut(BaseModel):
    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    slot_minutes: int
    slots: int
    booked: int
    weekly_id: uuid.UUID | None


class AvailabilityOverview(BaseModel):
    """A specialist's weekly hours, coming windows (one-off and cut from weekly hours) and
    leave."""

    weekly: list[WeeklyHoursOut]
    windows: list[WindowOut]
    leave: list[LeaveOut]


class Removed(BaseModel):
    id: uuid.UUID
    slots_removed: int
