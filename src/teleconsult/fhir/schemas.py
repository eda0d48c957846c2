from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..consent.policy import Category


class FhirQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    binary: bool = Field(
        default=False, description="Carry attached files as Binary resources (base64)"
    )
