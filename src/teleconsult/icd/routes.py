from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..api import Ctx, Router
from . import search, titles

router = Router("icd10")


class Icd10Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=100)
    lang: Literal["en", "kk", "ru"] = "en"
    limit: int = Field(default=20, ge=1, le=50)


class Icd10TitlesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: str = Field(
        min_length=1,
        max_length=600,
        pattern=r"^[A-Za-z0-9.]+(,[A-Za-z0-9.]+)*$",
        description="Comma-separated ICD-10 codes, dotted or not",
    )
    lang: Literal["en", "kk", "ru"] = "en"


class Icd10Item(BaseModel):
    code: str
    title: str
    translated: bool = Field(description="False: the title is the WHO English one")


class Icd10Page(BaseModel):
    items: list[Icd10Item]


@router.get(
    "/icd10",
    summary="Search ICD-10 diagnoses by code or title",
    read_only=True,
    query=Icd10Query,
    response=Icd10Page,
)
async def icd10(ctx: Ctx) -> Icd10Page:
    found = search(ctx.query.q, ctx.query.lang, ctx.query.limit)
    return Icd10Page(items=[Icd10Item.model_validate(item) for item in found])


@router.get(
    "/icd10/titles",
    summary="The titles of ICD-10 codes in a language (a passport's diagnoses, named)",
    read_only=True,
    query=Icd10TitlesQuery,
    response=Icd10Page,
)
async def icd10_titles(ctx: Ctx) -> Icd10Page:
    found = titles(ctx.query.codes.split(","), ctx.query.lang)
    return Icd10Page(items=[Icd10Item.model_validate(item) for item in found])
