from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from teleconsult.clock import FakeClock
from teleconsult.ledger.chain import genesis, link
from teleconsult.passport.models import PassportEntry

from ..conftest import Database
from .passport_support import clinic, grant, note, prescription, relogin


async def test_specialist_writes_note_with_diagnoses_and_reads_it_back(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)

    status, entry = await note(
        c.w.specialist, c.consultation_id, "Chest pain ruled out", ["i10", "J45.9"]
    )
    assert status == 201, entry
    assert entry["kind"] == "note"
    assert entry["seq"] == 1
    assert entry["consultation_id"] == c.consultation_id
    assert entry["author_id"] == c.w.specialist.id
    assert [d["code"] for d in entry["body"]["diagnoses"]] == ["I10", "J45.9"]
    assert entry["body"]["diagnoses"][0]["title"] == "Essential (primary) hypertension"
    assert len(entry["hash"]) == 64

    status, page = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 200, page
    kinds = [(e["seq"], e["kind"]) for e in page["items"]]
    assert kinds == [(1, "note"), (2, "diagnosis"), (3, "diagnosis")]
    assert page["items"][1]["body"]["code"] == "I10"

    # The patient reads their own passport without any grant.
    status, own = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    assert [e["id"] for e in own["items"]] == [e["id"] for e in page["items"]]


async def test_unknown_icd10_code_is_a_422_naming_the_field(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    for bad in ("Q99.99", "A00-B99", "XX", "hello"):
        status, body = await note(c.w.specialist, c.consultation_id, "x", ["I10", bad])
        assert status == 422, body
        assert "diagnoses.1" in body["fields"]
    status, page = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert page["items"] == []


async def test_prescription_and_its_correction_show_the_amended_view(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, first = await prescription(c.w.specialist, c.consultation_id, "Amlodipin")
    assert status == 201, first
    assert first["body"]["duration_days"] == 30
    status, fixed = await prescription(
        c.w.specialist, c.consultation_id, "Amlodipine", amends=first["id"]
    )
    assert status == 201, fixed
    assert fixed["amends"] == first["id"]
    assert fixed["history"] == [first["id"]]
    status, again = await prescription(
        c.w.specialist, c.consultation_id, "Amlodipine besilate", amends=fixed["id"]
    )
    assert again["history"] == [fixed["id"], first["id"]]

    _, page = await c.patient.get(f"/patients/{c.patient_id}/passport")
    by_id = {e["id"]: e for e in page["items"]}
    assert by_id[first["id"]]["superseded_by"] == fixed["id"]
    assert by_id[fixed["id"]]["superseded_by"] == again["id"]
    assert by_id[again["id"]]["superseded_by"] is None
    _, current = await c.patient.get(f"/patients/{c.patient_id}/passport", current="true")
    assert [e["id"] for e in current["items"]] == [again["id"]]
    assert current["items"][0]["history"] == [fixed["id"], first["id"]]

    # A correction names an entry of this passport, of the same kind.
    status, body = await prescription(
        c.w.specialist, c.consultation_id, "x", amends=str(uuid.uuid4())
    )
    assert status == 422 and "amends" in body["fields"]
    _, n = await note(c.w.specialist, c.consultation_id)
    status, body = await prescription(c.w.specialist, c.consultation_id, "x", amends=n["id"])
    assert status == 422 and "amends" in body["fields"]


async def test_generic_entries_are_validated_by_kind(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    ok = [
        {"kind": "lab_result", "body": {"test": "HbA1c", "value": 6.1, "unit": "%"}},
        {"kind": "diagnosis", "body": {"code": "e119"}},
        {"kind": "referral", "body": {"specialty": "endocrinology", "reason": "HbA1c trend"}},
        {"kind": "attachment", "body": {"title": "ECG", "content_type": "application/pdf"}},
    ]
    for payload in ok:
        status, body = await c.w.specialist.post(
            f"/consultations/{c.consultation_id}/entries", payload
        )
        assert status == 201, body
    status, body = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries", {"kind": "diagnosis", "body": {"code": "Z"}}
    )
    assert status == 422 and "body.code" in body["fields"], body
    status, body = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries", {"kind": "lab_result", "body": {}}
    )
    assert status == 422 and "body.test" in body["fields"], body
    _, page = await c.patient.get(f"/patients/{c.patient_id}/passport", kind="diagnosis")
    assert [e["body"]["code"] for e in page["items"]] == ["E11.9"]
    _, found = await c.w.specialist.get(f"/patients/{c.patient_id}/passport", q="hba1c")
    assert {e["kind"] for e in found["items"]} == {"lab_result", "referral"}


async def test_only_the_specialist_or_requesting_gp_write_and_only_in_the_window(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id, hours=200)
    await grant(c, clock, user_id=c.w.gp.id)
    await grant(c, clock, user_id=c.other.id)
    status, _ = await note(c.w.gp, c.consultation_id)
    assert status == 201
    # Another specialist, even with consent, is not part of this consultation.
    status, body = await note(c.other, c.consultation_id)
    assert status in (403, 404), body
    # The patient does not write to the passport.
    status, _ = await note(c.patient, c.consultation_id)
    assert status == 403

    status, done = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/complete", {"conclusion": "Reviewed."}
    )
    assert status == 200, done
    clock.advance(hours=71)
    specialist = await relogin(client, c.w.specialist)
    status, _ = await note(specialist, c.consultation_id, "late lab letter")
    assert status == 201
    clock.advance(hours=2)
    status, body = await note(specialist, c.consultation_id, "too late")
    assert status == 409, body


async def test_the_database_refuses_update_and_delete_of_passport_and_audit_rows(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, _ = await note(c.w.specialist, c.consultation_id)
    assert status == 201
    for statement in (
        "UPDATE passport_entries SET document = '{}'",
        "DELETE FROM passport_entries",
        "UPDATE audit_entries SET document = '{}'",
        "DELETE FROM audit_entries",
    ):
        with pytest.raises(DBAPIError) as caught:
            async with database.engine.begin() as conn:
                await conn.execute(text(statement))
        assert "append-only" in str(caught.value)
    async with database.engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM passport_entries"))
    assert count == 1


async def test_a_hundred_concurrent_appends_make_one_linear_chain(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)

    statuses = await asyncio.gather(
        *(note(c.w.specialist, c.consultation_id, f"observation {i}") for i in range(100))
    )
    assert [s for s, _ in statuses] == [201] * 100, [b for s, b in statuses if s != 201][:3]

    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    PassportEntry.seq,
                    PassportEntry.document,
                    PassportEntry.prev_hash,
                    PassportEntry.hash,
                )
                .where(PassportEntry.patient_id == uuid.UUID(c.patient_id))
                .order_by(PassportEntry.seq)
            )
        ).all()
    assert [r.seq for r in rows] == list(range(1, 101))
    prev = genesis("passport", c.patient_id)
    for row in rows:
        assert row.prev_hash == prev
        assert link(prev, row.document) == row.hash
        prev = row.hash
    texts = sorted(e["body"]["text"] for _, e in statuses)
    assert texts == sorted(f"observation {i}" for i in range(100))
    status, verdict = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200 and verdict["ok"] and verdict["entries"] == 100, verdict


async def test_passport_pages_with_a_cursor(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    for i in range(5):
        await note(c.w.specialist, c.consultation_id, f"n{i}")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = await c.patient.get(f"/patients/{c.patient_id}/passport", **params)
        assert status == 200
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5]


async def test_writes_expire_with_the_grant(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id, hours=1)
    status, _ = await note(c.w.specialist, c.consultation_id)
    assert status == 201
    clock.advance(hours=1)
    status, body = await note(c.w.specialist, c.consultation_id)
    assert status == 403, body
    assert body["error"] == "ConsentDenied"
    clock.advance(minutes=-1)
    status, _ = await note(c.w.specialist, c.consultation_id)
    assert status == 201
    assert timedelta(hours=1)  # the boundary is exclusive: expires_at itself is denied


async def test_pages_keep_corrections_and_filters(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """A page shows who corrects its entries even when the correction is on a later page;
    ``current`` and ``kind`` pages are full pages of what they ask for."""
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, first = await prescription(c.w.specialist, c.consultation_id, "Amlodipin")
    assert status == 201, first
    for i in range(3):
        await note(c.w.specialist, c.consultation_id, f"n{i}")
    status, fixed = await prescription(
        c.w.specialist, c.consultation_id, "Amlodipine", amends=first["id"]
    )
    assert status == 201, fixed
    await note(c.w.specialist, c.consultation_id, "n3")

    async def pages(**params: str) -> list[list[dict[str, Any]]]:
        found: list[list[dict[str, Any]]] = []
        cursor = None
        while True:
            query = {"limit": "2", **params} | ({"cursor": cursor} if cursor else {})
            status, page = await c.patient.get(f"/patients/{c.patient_id}/passport", **query)
            assert status == 200, page
            found.append(page["items"])
            cursor = page["next"]
            if cursor is None:
                return found

    every = await pages()
    assert [[e["seq"] for e in p] for p in every] == [[1, 2], [3, 4], [5, 6]]
    assert every[0][0]["superseded_by"] == fixed["id"]
    assert every[2][0]["history"] == [first["id"]]
    assert all(e["superseded_by"] is None for p in every for e in p if e["seq"] != 1)

    current = await pages(current="true")
    assert [[e["seq"] for e in p] for p in current] == [[2, 3], [4, 5], [6]]

    prescriptions = await pages(kind="prescription")
    assert [[e["id"] for e in p] for p in prescriptions] == [[first["id"], fixed["id"]]]
    assert prescriptions[0][0]["superseded_by"] == fixed["id"]


async def test_chain_heads_follow_every_append(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """The head appenders lock is advanced by the database with each INSERT."""
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    for i in range(3):
        status, _ = await note(c.w.specialist, c.consultation_id, f"n{i}", ["I10"])
        assert status == 201
    status, _ = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    pid = uuid.UUID(c.patient_id)
    async with database.engine.connect() as conn:
        heads = {
            row.ledger: (row.seq, row.hash)
            for row in await conn.execute(
                text("SELECT ledger, seq, hash FROM chain_heads WHERE key = :k"),
                {"k": c.patient_id},
            )
        }
        last = (
            await conn.execute(
                select(PassportEntry.seq, PassportEntry.hash)
                .where(PassportEntry.patient_id == pid)
                .order_by(PassportEntry.seq.desc())
                .limit(1)
            )
        ).one()
        last_audit = (
            await conn.execute(
                text(
                    "SELECT seq, hash FROM audit_entries WHERE chain = :k ORDER BY seq DESC LIMIT 1"
                ),
                {"k": c.patient_id},
            )
        ).one()
    assert heads["passport"] == (6, last.hash) and last.seq == 6
    assert heads["audit"] == (last_audit.seq, last_audit.hash)
