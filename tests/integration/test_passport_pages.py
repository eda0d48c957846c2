"""The ways of making a passport page give the same bytes.

The database makes a page's entries (``pages._sqlite_items``: the whole list in one value;
``pages._postgres_items``: one value per entry); a text search makes them in Python from the
rows (``pages._searched_items``), and a search for ``{`` matches every entry (each body is a
JSON object). Over a passport with several kinds, text outside ASCII and corrections of
corrections, every combination of kinds shown, newest versions only, cursor and page size
must come out byte for byte the same both ways, as valid JSON in chain order.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from teleconsult.clock import FakeClock
from teleconsult.db.engine import readers
from teleconsult.passport import pages

from ..conftest import Database
from .passport_support import clinic, grant, note, prescription

KINDS: list[set[str] | None] = [
    None,
    set(),
    {"note"},
    {"prescription"},
    {"note", "diagnosis"},
    {"diagnosis", "prescription", "lab_result"},
]


async def _passport(client: Any, database: Database, clock: FakeClock) -> tuple[uuid.UUID, int]:
    """A passport of notes (some in Kazakh and Russian), diagnoses, and prescriptions
    corrected once and twice, the corrections spread over the chain."""
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    gp, case = c.w.specialist, c.consultation_id
    status, first = await prescription(gp, case, "Amlodipine")
    assert status == 201, first
    texts = ["Қан қысымы 150/95", "Давление 150/95 мм рт. ст.", "BP 150/95 \u2014 review", "ok"]
    for i, text in enumerate(texts):
        status, _ = await note(gp, case, text, diagnoses=["I10"] if i % 2 else [])
        assert status == 201
    status, fixed = await prescription(gp, case, "Amlodipine 10 mg", amends=first["id"])
    assert status == 201, fixed
    status, other = await prescription(gp, case, "Bisoprolol")
    assert status == 201, other
    for text in texts:
        await note(gp, case, text)
    status, again = await prescription(gp, case, "Amlodipine 5 mg", amends=fixed["id"])
    assert status == 201, again
    status, _ = await prescription(gp, case, "Bisoprolol 2.5 mg", amends=other["id"])
    assert status == 201
    status, body = await gp.get(f"/patients/{c.patient_id}/passport?limit=500")
    assert status == 200, body
    return uuid.UUID(c.patient_id), len(body["items"])


async def test_the_database_makes_the_same_pages_as_python(
    client: Any, database: Database, clock: FakeClock
) -> None:
    patient_id, total = await _passport(client, database, clock)
    assert total == 15
    compared = 0
    async with readers(database.engine).connect() as conn:
        for shown, current, after, limit in itertools.product(
            KINDS, [False, True], [0, 1, 5, total - 2, total + 3], [None, 1, 4, 7, total]
        ):
            made = await pages.page(conn, patient_id, shown, None, current, after, limit)
            searched = await pages.page(conn, patient_id, shown, "{", current, after, limit)
            case = f"shown={shown} current={current} after={after} limit={limit}"
            assert made == searched, case
            items = json.loads(made.body)["items"]
            seqs = [item["seq"] for item in items]
            assert seqs == sorted(seqs) and all(s > after for s in seqs), case
            assert len(items) == made.count
            if shown is None and not current and after == 0 and limit is None:
                # The corrections show on both sides: three entries were corrected, three
                # corrections name what they replace (one of them two versions back).
                assert sum(item["superseded_by"] is not None for item in items) == 3
                assert sorted(len(item["history"]) for item in items)[-3:] == [1, 1, 2]
            compared += 1
    assert compared == len(KINDS) * 2 * 5 * 5


async def test_pages_chained_by_their_cursors_are_the_whole_passport(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """Through the API: pages chained by their cursors hold every entry once, in order,
    with the corrections' links, as a single page of them all does."""
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    gp = c.w.specialist
    status, first = await prescription(gp, c.consultation_id, "Amlodipine")
    assert status == 201
    for i in range(5):
        await note(gp, c.consultation_id, f"Визит {i}: жалоб нет")
    status, fixed = await prescription(gp, c.consultation_id, "Amlodipine", amends=first["id"])
    assert status == 201
    status, whole = await gp.get(f"/patients/{c.patient_id}/passport?limit=500")
    assert status == 200 and whole["next"] is None
    paged: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, body = await gp.get(f"/patients/{c.patient_id}/passport?limit=2{cursor}")
        assert status == 200
        paged += body["items"]
        if body["next"] is None:
            break
        cursor = f"&cursor={body['next']}"
    assert paged == whole["items"]
    assert [e["seq"] for e in paged] == list(range(1, 8))
    assert paged[0]["superseded_by"] == fixed["id"]
    assert paged[-1]["history"] == [first["id"]]
    assert paged[2]["body"]["text"] == "Визит 1: жалоб нет"
