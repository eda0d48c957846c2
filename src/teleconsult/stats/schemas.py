from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..codes import REGIONS
from ..errors import custom_error
from ..types import ClinicalDate
from .periods import Granularity

Suppressed = Literal["<5"]


@dataclass(frozen=True)
class StatsFilter:
    """A query with its defaults applied and its range checked (``service.resolve``): what
    a report is read for, and the key it is cached under (``cache.py``)."""

    first: date
    last: date
    region: str | None = None
    facility: str | None = None
    granularity: Granularity | None = None


class StatsQuery(BaseModel):
    """Days are national (UTC+5) calendar days; ``from`` and ``to`` are both included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: ClinicalDate | None = Field(default=None, alias="from")
    to: ClinicalDate | None = None
    region: str | None = None
    facility: uuid.UUID | None = None
    granularity: Granularity | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIONS:
            raise custom_error("unknown_region", "unknown region")
        return value


class SpecialtyStatsOut(BaseModel):
    """One specialty (in one period bucket). Counts of 1-4 are shown as "<5"; so are
    times and shares computed from fewer than 5 consultations. Times are in seconds."""

    specialty: str
    period: date | None
    requested: int | Suppressed
    completed: int | Suppressed
    cancelled: int | Suppressed
    no_show: int | Suppressed
    wait_median_s: float | Suppressed | None
    wait_p90_s: float | Suppressed | None
    duration_median_s: float | Suppressed | None
    turnaround_median_s: float | Suppressed | None
    answered_within_target: float | Suppressed | None


class PercentileError(BaseModel):
    relative: float
    absolute_seconds: float


class SpecialtyStatsReport(BaseModel):
    from_date: date
    to_date: date
    region: str | None
    facility: uuid.UUID | None
    granularity: Granularity | None
    targets_s: dict[str, float]
    percentile_error: PercentileError
    items: list[SpecialtyStatsOut]


class RegionStatsQuery(BaseModel):
    """Days are national (UTC+5) calendar days; ``from`` and ``to`` are both included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: ClinicalDate | None = Field(default=None, alias="from")
    to: ClinicalDate | None = None


class RegionStatsOut(BaseModel):
    """One specialty in one region (the patient's), suppressed like :class:`SpecialtyStatsOut`."""

    region: str
    specialty: str
    requested: int | Suppressed
    completed: int | Suppressed
    cancelled: int | Suppressed
    no_show: int | Suppressed
    wait_median_s: float | Suppressed | None
    wait_p90_s: float | Suppressed | None
    duration_median_s: float | Suppressed | None
    turnaround_median_s: float | Suppressed | None
    answered_within_target: float | Suppressed | None


class RegionStatsReport(BaseModel):
    from_date: date
    to_date: date
    suppressed_marker: str
    items: list[RegionStatsOut]
