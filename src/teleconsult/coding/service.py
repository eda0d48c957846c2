"""Coding help for a consultation: suggestions for its specialist, and what was chosen.

Neither function logs or stores the note's text: suggestions are computed and forgotten, and
the feedback keeps codes only.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..consultations.service import get_consultation
from ..errors import Forbidden, NotFound, field_error
from ..passport.models import PassportEntry
from . import index as coding_index
from .models import CodingFeedback
from .schemas import FeedbackOut, SuggestionOut, SuggestionsOut
from .text import Language, detect_language

LONG_NOTE = 2000


async def _index() -> coding_index.CodingIndex:
    # Built as the app starts (routes.warm_index); a request that comes first waits for it
    # away from the event loop.
    index = coding_index.built()
    if index is None:
        coding_index.icd_library()  # imported here, in the event loop's thread
        index = await asyncio.to_thread(coding_index.get_index)
    return index


async def suggest_for_consultation(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    text: str,
    language: Language | None = None,
) -> SuggestionsOut:
    """Up to five ICD-10 codes for a note of the consultation; its specialist only (someone
    else's consultation is a 404, a specialist who may only claim it gets a 403)."""
    consultation = await get_consultation(session, actor, consultation_id)
    if consultation.specialist_id != actor.id:
        raise Forbidden("Only the consultation's specialist gets coding suggestions.")
    index = await _index()
    language = language or detect_language(text)
    if len(text) > LONG_NOTE:
        # About 5 ms a thousand characters: a long note is read beside the event loop.
        found = await asyncio.to_thread(index.suggest, text, language)
    else:
        found = index.suggest(text, language)
    return SuggestionsOut(
        language=language,
        items=[SuggestionOut(code=s.code, title=s.title, why=s.why, score=s.score) for s in found],
    )


def _codes(field: str, codes: Sequence[str], known: dict[str, str]) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(codes):
        code = raw.strip().upper()
        if len(code) > 3 and "." not in code:
            code = f"{code[:3]}.{code[3:]}"
        if code not in known:
            raise field_error(f"{field}.{i}", "unknown ICD-10 code")
        if code not in out:
            out.append(code)
    return out


async def record_feedback(
    session: AsyncSession,
    *,
    entry_id: uuid.UUID,
    consultation_id: uuid.UUID,
    author_id: uuid.UUID,
    suggested: Sequence[str],
    chosen: Sequence[str],
    now: datetime,
) -> CodingFeedback:
    """Keep, with a note, the codes suggested and the ones chosen (a second call for the same
    note replaces them). For the note write to call; checks nothing but the codes."""
    known = (await _index()).titles["en"]
    suggested_codes = _codes("suggested", suggested, known)
    chosen_codes = _codes("chosen", chosen, known)
    row = await session.scalar(select(CodingFeedback).where(CodingFeedback.entry_id == entry_id))
    if row is None:
        row = CodingFeedback(
            entry_id=entry_id,
            consultation_id=consultation_id,
            author_id=author_id,
            created_at=now,
        )
        session.add(row)
    row.suggested = suggested_codes
    row.chosen = chosen_codes
    await session.flush()
    return row


async def feedback_for_note(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    entry_id: uuid.UUID,
    suggested: Sequence[str],
    chosen: Sequence[str],
    now: datetime,
) -> FeedbackOut:
    """The pages' way to record feedback after writing a note: only the note's author, for a
    note of this consultation they can see."""
    consultation = await get_consultation(session, actor, consultation_id)
    entry = await session.get(PassportEntry, entry_id)
    doc = json.loads(entry.document) if entry is not None else {}
    if (
        entry is None
        or entry.patient_id != consultation.patient_id
        or doc.get("kind") != "note"
        or doc.get("consultation_id") != str(consultation.id)
        or doc.get("author_id") != str(actor.id)
    ):
        raise NotFound()
    row = await record_feedback(
        session,
        entry_id=entry_id,
        consultation_id=consultation.id,
        author_id=actor.id,
        suggested=suggested,
        chosen=chosen,
        now=now,
    )
    return FeedbackOut(
        entry_id=row.entry_id,
        consultation_id=row.consultation_id,
        suggested=row.suggested,
        chosen=row.chosen,
        chosen_from_suggestions=len(set(row.chosen) & set(row.suggested)),
    )
