from __future__ import annotations

from typing import Any

from ..api import Ctx, Router
from .schemas import FhirQuery
from .service import export_bundle

router = Router("fhir")


@router.get(
    "/patients/{id}/fhir",
    summary="The patient's passport as a FHIR R4 Bundle, under consent",
    query=FhirQuery,
)
async def export(ctx: Ctx) -> dict[str, Any]:
    return await export_bundle(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        now=ctx.clock.now(),
        client=ctx.client,
        category=ctx.query.category,
        binary=ctx.query.binary,
        settings=ctx.settings,
    )
