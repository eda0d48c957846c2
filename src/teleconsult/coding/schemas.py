from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..types import ClinicalDate

Code = Annotated[str, StringConstraints(min_length=1, max_length=10)]


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(max_length=20000)] = Field(
        description="The note as written so far (never stored, never logged)"
    )
    language: Literal["en", "kk", "ru"] | None = Field(
        default=None, description="The titles' language; the note's own when not given"
    )


class SuggestionOut(BaseModel):
    code: str = Field(description="ICD-10 code, dotted")
    title: str = Field(description="Its title, in the language asked for where the project has one")
    why: list[str] = Field(description="The note's words that matched, in the note's order")
    score: float


class SuggestionsOut(BaseModel):
    language: Literal["en", "kk", "ru"]
    items: list[SuggestionOut] = Field(description="Up to five, best first")


class FeedbackIn(BaseModel):
    """What the pages send once a note is written with coding help."""

    model_config = ConfigDict(extra="forbid")

    entry_id: uuid.UUID = Field(description="The note's passport entry")
    suggested: list[Code] = Field(max_length=50, description="The codes offered, best first")
    chosen: list[Code] = Field(max_length=20, description="The codes the note carries")


class FeedbackOut(BaseModel):
    entry_id: uuid.UUID
    consultation_id: uuid.UUID
    suggested: list[str]
    chosen: list[str]
    chosen_from_suggestions: int = Field(description="How many chosen codes had been suggested")


class QualityQuery(BaseModel):
    """National (UTC+5) days, both included; the twelve months up to today's by default."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: ClinicalDate | None = Field(default=None, alias="from")
    to: ClinicalDate | None = None


class QualityRow(BaseModel):
    month: date | None = Field(description="The month's first day; null for the whole period")
    notes: int = Field(description="Notes written with coding help (feedback kept)")
    notes_without_suggestions: int = Field(description="Of them, notes nothing was suggested for")
    top1: int = Field(description="Notes whose first suggestion was chosen")
    top3: int = Field(description="Notes with one of the first three suggestions chosen")
    top5: int = Field(description="Notes with any suggestion chosen")
    top1_share: float | None = Field(description="top1 over the notes with suggestions")
    top3_share: float | None
    top5_share: float | None
    chosen_codes: int = Field(description="Codes the notes carry")
    chosen_from_suggestions: int = Field(description="Of them, codes that had been suggested")
    chosen_from_suggestions_share: float | None


class QualityOut(BaseModel):
    from_date: date
    to_date: date
    total: QualityRow
    months: list[QualityRow] = Field(description="Newest first; months with no notes left out")
