"""``GET /formulary?q=``: search the shipped formulary (any signed-in clinician)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..api import Ctx, Page, Router
from ..codes import Role
from ..passport.schemas import DrugOut
from .catalogue import formulary

router = Router("formulary")


class FormularyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = (
        Field(description="Part of a name in English, Russian or Kazakh, or an ATC code prefix")
    )
    limit: int = Field(default=20, ge=1, le=100)


@router.get(
    "/formulary",
    summary="Search the formulary's drugs by name (three languages) or ATC code",
    query=FormularyQuery,
    response=Page[DrugOut],
    roles=[Role.gp, Role.specialist],
    read_only=True,
)
async def search(ctx: Ctx) -> Page[DrugOut]:
    q: FormularyQuery = ctx.query
    found = formulary().search(q.q, limit=q.limit)
    return Page[DrugOut](items=[DrugOut.model_validate(d.as_dict()) for d in found], next=None)
