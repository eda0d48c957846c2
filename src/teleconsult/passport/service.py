"""Writing to and reading the health passport, always through the consent decision point."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit import service as audit
from ..coding.service import record_feedback
from ..config import Settings
from ..consent.decision import authorize, authorize_then_record
from ..consent.policy import Access
from ..consultations.models import Consultation
from ..consultations.service import get_consultation
from ..db.uow import commit_while
from ..errors import Conflict, Forbidden, field_error
from ..files import service as files_service
from ..files.store import store_for
from ..ledger.checkpoint import CheckpointInvalid, load_latest
from ..ledger.store import append
from ..ledger.tables import AUDIT, PASSPORT
from ..ledger.verify import checkpoint_problem, verify_chains, verify_files
from .drafts import Draft, note_drafts, prescription_draft
from .entries import parse_entry
from .models import PassportEntry
from .pages import PassportPage, page
from .prescriptions import apply_checks
from .rules import may_author, may_write_now
from .schemas import (
    KIND_CATEGORY,
    BadEntryOut,
    Kind,
    NoteIn,
    PrescriptionIn,
    VerifyOut,
)

# --- writing -------------------------------------------------------------------------------


async def _amended_entries(
    session: AsyncSession, patient_id: uuid.UUID, drafts: list[Draft]
) -> None:
    """A correction must name an earlier entry of the same patient and the same kind."""
    wanted = {d.amends for d in drafts if d.amends is not None}
    if not wanted:
        return
    rows = await session.execute(
        select(PassportEntry.id, PassportEntry.document).where(
            PassportEntry.patient_id == patient_id, PassportEntry.id.in_(wanted)
        )
    )
    kinds = {row[0]: json.loads(row[1])["kind"] for row in rows}
    for draft in drafts:
        if draft.amends is None:
            continue
        if draft.amends not in kinds:
            raise field_error("amends", "no such entry in this passport", "amends_unknown")
        if kinds[draft.amends] != draft.kind:
            raise field_error(
                "amends", "a correction has the kind of the entry it corrects", "amends_kind"
            )


async def write_entries(
    session: AsyncSession,
    user: User,
    consultation_id: uuid.UUID,
    drafts: list[Draft],
    *,
    now: datetime,
    client: str | None,
    prepare: Callable[[uuid.UUID], Awaitable[None]] | None = None,
) -> list[dict[str, Any]]:
    """Append entries to the passport of a consultation's patient.

    Only the assigned specialist or the requesting GP, while the consultation is in progress
    or up to 72 hours after it ends, and only with write consent for every category written.
    ``prepare`` (given the patient's id) runs once the write is authorised, before anything
    is appended: the prescription checks.
    """
    consultation = await get_consultation(session, user, consultation_id)
    if not may_author(user.id, consultation.specialist_id, consultation.requester_id):
        raise Forbidden(
            "Only the consultation's specialist or requesting GP writes for it.",
            code="passport_writer_only",
        )
    if not may_write_now(consultation.status, consultation.ended_at, now):
        raise Conflict(
            "The passport is written while the consultation is in progress "
            "or up to 72 hours after it ends.",
            code="passport_write_closed",
        )
    patient_id = consultation.patient_id
    needed = frozenset(KIND_CATEGORY[d.kind].value for d in drafts)
    await authorize(
        session,
        user,
        patient_id,
        access=Access.write,
        needed=needed,
        action="passport.write",
        now=now,
        client=client,
    )
    await _amended_entries(session, patient_id, drafts)
    if prepare is not None:
        await prepare(patient_id)
    # An uploaded file's hash goes into its entry's document: the chain covers the file.
    files = []
    for i, draft in enumerate(drafts):
        if draft.kind == Kind.attachment and draft.body.get("file_id"):
            body, stored = await files_service.attachment_body(
                session, user, consultation.id, draft.body
            )
            drafts[i] = Draft(draft.kind, body, draft.amends)
            files.append((i, stored))
    written = await _append_drafts(
        session, patient_id, user.id, consultation.id, drafts, now=now, client=client
    )
    for i, stored in files:
        assert stored is not None
        stored.entry_id = uuid.UUID(str(written[i]["id"]))
        stored.patient_id = patient_id
        stored.consultation_id = consultation.id
    if files:
        await session.flush()
    for entry in written:
        entry["superseded_by"] = None
        entry["history"] = await _history(session, patient_id, entry["amends"])
    return written


async def write_note(
    session: AsyncSession,
    user: User,
    consultation_id: uuid.UUID,
    data: NoteIn,
    *,
    now: datetime,
    client: str | None,
) -> dict[str, Any]:
    """Write a note and its diagnoses; with ``suggested``, the codes coding help offered and
    the ones the note carries are kept with it in the same transaction (codes only)."""
    written = await write_entries(
        session, user, consultation_id, note_drafts(data), now=now, client=client
    )
    note = written[0]
    if data.suggested is not None:
        await record_feedback(
            session,
            entry_id=uuid.UUID(str(note["id"])),
            consultation_id=consultation_id,
            author_id=user.id,
            suggested=data.suggested,
            chosen=[d["code"] for d in note["body"]["diagnoses"]],
            now=now,
        )
    return note


async def write_prescription(
    session: AsyncSession,
    user: User,
    consultation_id: uuid.UUID,
    data: PrescriptionIn,
    *,
    now: datetime,
    client: str | None,
) -> dict[str, Any]:
    """Write a prescription once it passes its checks (or is confirmed with a reason)."""
    draft = prescription_draft(data)

    async def prepare(patient_id: uuid.UUID) -> None:
        await apply_checks(session, user, patient_id, data, draft.body, now=now, client=client)

    [entry] = await write_entries(
        session, user, consultation_id, [draft], now=now, client=client, prepare=prepare
    )
    return entry


async def _append_drafts(
    session: AsyncSession,
    patient_id: uuid.UUID,
    author_id: uuid.UUID,
    consultation_id: uuid.UUID | None,
    drafts: list[Draft],
    *,
    now: datetime,
    client: str | None,
) -> list[dict[str, Any]]:
    """Chain each draft onto the patient's passport and audit the append."""
    written = []
    for draft in drafts:
        fields = {
            "patient_id": str(patient_id),
            "kind": draft.kind.value,
            "author_id": str(author_id),
            "consultation_id": str(consultation_id) if consultation_id is not None else None,
            "amends": str(draft.amends) if draft.amends is not None else None,
            "created_at": now.isoformat(),
            "body": draft.body,
        }

        def build(seq: int, entry_id: uuid.UUID, fields: dict[str, Any] = fields) -> dict[str, Any]:
            return {**fields, "seq": seq, "id": str(entry_id)}

        appended = await append(
            session,
            PASSPORT,
            str(patient_id),
            build,
            {"kind": draft.kind.value, "amends": draft.amends},
        )
        await audit.record(
            session,
            patient_id=patient_id,
            actor_id=author_id,
            action="passport.append",
            outcome="ok",
            reason=f"{draft.kind.value} entry {appended.seq} ({appended.id})",
            at=now,
            client=client,
        )
        written.append(parse_entry(appended.document, appended.hash))
    return written


async def append_outside_consultation(
    session: AsyncSession,
    patient_id: uuid.UUID,
    author_id: uuid.UUID,
    kind: Kind,
    bodies: list[dict[str, Any]],
    *,
    now: datetime,
    client: str | None,
) -> list[dict[str, Any]]:
    """Entries written outside a consultation (measurements, results pushed by another
    system): the caller has passed the consent decision for them already; each is chained
    and audited like any other entry."""
    drafts = [Draft(kind, body) for body in bodies]
    return await _append_drafts(
        session, patient_id, author_id, None, drafts, now=now, client=client
    )


def _describe_file(path: Path, data_dir: Path) -> tuple[str, str] | None:
    """SHA-256 and data-folder-relative location of a file (blocking: run in a thread)."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    try:
        location = str(path.resolve().relative_to(data_dir.resolve()))
    except ValueError:
        location = path.name
    return digest.hexdigest(), location


async def attach_recording(
    session: AsyncSession, consultation_id: uuid.UUID, path: Path, data_dir: Path, now: datetime
) -> dict[str, Any] | None:
    """File a finished call recording in the patient's passport as an attachment.

    The recording exists only because the patient allowed it for this call, so that consent
    covers the entry; it is authored by the consultation's specialist and audited.
    """
    consultation = await session.get(Consultation, consultation_id)
    if consultation is None or consultation.specialist_id is None:
        return None
    described = await asyncio.to_thread(_describe_file, path, data_dir)
    if described is None:
        return None
    digest, location = described
    draft = Draft(
        kind=Kind.attachment,
        body={
            "title": f"Call recording ({path.stem})",
            "content_type": "video/x-matroska",
            "sha256": digest,
            "url": f"data:{location}",
        },
    )
    [entry] = await _append_drafts(
        session,
        consultation.patient_id,
        consultation.specialist_id,
        consultation.id,
        [draft],
        now=now,
        client=None,
    )
    return entry


async def _history(session: AsyncSession, patient_id: uuid.UUID, amends: str | None) -> list[str]:
    history: list[str] = []
    while amends is not None and amends not in history and len(history) < 1000:
        history.append(amends)
        document = await session.scalar(
            select(PassportEntry.document).where(
                PassportEntry.patient_id == patient_id, PassportEntry.id == uuid.UUID(amends)
            )
        )
        amends = json.loads(document)["amends"] if document is not None else None
    return history


# --- reading -------------------------------------------------------------------------------


async def read_passport(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
    kind: Kind | None = None,
    text: str | None = None,
    current_only: bool = False,
    after_seq: int = 0,
    limit: int | None = None,
) -> PassportPage:
    """The passport as the caller may see it: permitted categories only, with corrections,
    in chain order from ``after_seq`` on, ``limit`` entries at most (all without one).

    Reading and searching both pass the consent decision point and are audited; a denial
    raises before anything is read. On a permit, the decision's audit entry is written and
    committed while the entries are fetched on a reader connection beside it, and the page
    is returned only once both are done: no entry leaves before its audit entry is durable.
    """
    searching = kind is not None or text is not None
    # Asking for one kind asks for its category: a grant that does not cover it denies.
    needed = frozenset({KIND_CATEGORY[kind].value}) if kind is not None else None
    permit = await authorize_then_record(
        session,
        user,
        patient_id,
        access=Access.read,
        needed=needed,
        action="passport.search" if searching else "passport.read",
        now=now,
        client=client,
    )
    decision = permit.decision
    shown: set[str] | None = None
    if decision.categories is not None:
        shown = {k.value for k, c in KIND_CATEGORY.items() if c.value in decision.categories}
    if kind is not None:
        shown = {kind.value} if shown is None or kind.value in shown else set()
    # The permit's audit entry is written and committed while the entries are fetched.
    return await commit_while(
        session,
        lambda conn: page(conn, patient_id, shown, text, current_only, after_seq, limit),
        first=permit.record,
    )


# --- verifying -----------------------------------------------------------------------------


async def verify_patient(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    settings: Settings,
    *,
    now: datetime,
    client: str | None,
) -> VerifyOut:
    """The patient's passport and audit chains walked again and compared with the newest
    checkpoint (as ``teleconsult verify --patient``), under consent: a read of the passport.

    A reader whose grant covers some categories only learns whether the chains are intact
    and how many entries they may read: not how many others there are, nor the audit's."""
    decision = await authorize(
        session,
        user,
        patient_id,
        access=Access.read,
        needed=None,
        action="passport.verify",
        now=now,
        client=client,
    )
    try:
        checkpoint = await asyncio.to_thread(load_latest, settings.data_dir, settings.secret_key)
    except CheckpointInvalid as exc:
        reports = [checkpoint_problem(exc)]
        checkpoint = None
    else:
        reports = []
    reports += await verify_chains(session, checkpoint, patient_id=patient_id)
    reports += await verify_files(session, store_for(settings, session), patient_id)
    counts = {r.ledger: r.entries for r in reports}
    first_bad = next((r.first_bad for r in reports if r.first_bad is not None), None)
    if decision.categories is not None:
        kinds = [k.value for k, c in KIND_CATEGORY.items() if c.value in decision.categories]
        readable = await session.scalar(
            select(func.count())
            .select_from(PassportEntry)
            .where(PassportEntry.patient_id == patient_id, PassportEntry.kind.in_(kinds))
        )
        return VerifyOut(ok=first_bad is None, entries=int(readable or 0), audit_entries=None)
    return VerifyOut(
        ok=first_bad is None,
        entries=counts.get(PASSPORT.name, 0),
        audit_entries=counts.get(AUDIT.name, 0),
        first_bad=BadEntryOut(**first_bad.as_dict()) if first_bad is not None else None,
    )
