from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import custom_error
from ..programmes.catalogue import MEASURES
from ..programmes.schemas import TargetIn
from ..types import IsoDateTime


def _known(value: str) -> str:
    if value not in MEASURES:
        raise custom_error("unknown_measure", "unknown measurement")
    return value


class MeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: str = Field(description="bp, pulse, glucose, hba1c, spo2, weight, peak_flow")
    value: float = Field(allow_inf_nan=False, description="The value; systolic for bp")
    value2: float | None = Field(default=None, allow_inf_nan=False, description="Diastolic")
    measured_at: IsoDateTime | None = Field(default=None, description="Now when left out")

    _measure = field_validator("measure")(_known)


class TrendQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: str

    _measure = field_validator("measure")(_known)


class MeasurementOut(BaseModel):
    entry_id: uuid.UUID
    measure: str
    loinc: str
    unit: str
    value: float
    value2: float | None
    measured_at: datetime
    measured_by: uuid.UUID | None
    source: str
    out_of_target: bool = False


class TrendOut(BaseModel):
    measure: str
    loinc: str
    unit: str
    points: list[MeasurementOut]
    targets: list[TargetIn]


class AttentionOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    measure: str
    programme: str
    value: float
    value2: float | None
    unit: str
    measured_at: datetime
    created_at: datetime
    reason: str = Field(
        description="single: this reading is outside the target; run: it ends a run of them"
    )
    run: int = Field(description="Readings in a row outside the target, ending with this one")


class AttentionList(BaseModel):
    items: list[AttentionOut]
