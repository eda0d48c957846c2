from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
