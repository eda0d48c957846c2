from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..consent.policy import Category


class FhirQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
