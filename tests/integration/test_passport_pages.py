"""Passport pages: every combination of kinds shown, newest versions only, cursor and page
size gives the amended view of the whole passport (``passport.rules.amended_view``, the
pure rule), filtered and cut as asked, in chain order, as valid JSON.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from teleconsult.clock import FakeClock
from teleconsult.db.engine import make_sessionmaker, readers
from teleconsult.db.uow import unit_of_work
from teleconsult.passport import pages
from teleconsult.passport.entries import entries_of
from teleconsult.passport.rules import amended_view

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


def _expected(
    whole: list[dict[str, Any]],
    shown: set[str] | None,
    current: bool,
    after: int,
    limit: int | None,
    text: str | None = None,
) -> list[dict[str, Any]]:
    chosen = [
        e
        for e in whole
        if (shown is None or e["kind"] in shown)
        and not (current and e["superseded_by"] is not None)
        and e["seq"] > after
        and (
            text is None or text.casefold() in json.dumps(e["body"], ensure_ascii=False).casefold()
        )
    ]
    return chosen if limit is None else chosen[:limit]


async def test_pages_are_the_amended_view_filtered_and_cut(
    client: Any, database: Database, clock: FakeClock
) -> None:
    patient_id, total = await _passport(client, database, clock)
    assert total == 15
    async with unit_of_work(make_sessionmaker(database.engine)) as session:
        whole = amended_view(await entries_of(session, patient_id))
    # Three entries were corrected, three corrections name what they replace (one of them
    # two versions back).
    assert sum(e["superseded_by"] is not None for e in whole) == 3
    assert sorted(len(e["history"]) for e in whole)[-3:] == [1, 1, 2]
    compared = 0
    async with readers(database.engine).connect() as conn:
        for shown, current, after, limit, text in itertools.product(
            KINDS,
            [False, True],
            [0, 1, 5, total - 2, total + 3],
            [None, 1, 4, 7, total],
            [None, "{", "150/95", "ҚАН"],
        ):
            made = await pages.page(conn, patient_id, shown, text, current, after, limit)
            case = f"shown={shown} current={current} after={after} limit={limit} text={text}"
            body = json.loads(made.body)
            expected = _expected(whole, shown, current, after, limit, text)
            assert body["items"] == expected, case
            assert made.count == len(expected), case
            more = len(_expected(whole, shown, current, after, None, text))
            if limit is not None and more > limit:
                assert made.last_seq == expected[-1]["seq"], case
                assert body["next"] is not None, case
            else:
                assert made.last_seq is None and body["next"] is None, case
            compared += 1
    assert compared == len(KINDS) * 2 * 5 * 5 * 4


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
