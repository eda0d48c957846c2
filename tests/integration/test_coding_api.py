"""Coding help through the API: the consultation's specialist gets suggestions for a note in
any of the three languages; nobody else does; what was suggested and chosen is kept with the
note."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from teleconsult.clock import FakeClock
from teleconsult.coding.models import CodingFeedback

from ..conftest import Database
from ..factories import user
from .passport_support import clinic, grant, note


async def suggestions(api: Any, consultation_id: str, text: str, **extra: Any) -> Any:
    status, body = await api.post(
        f"/consultations/{consultation_id}/coding-suggestions", {"text": text, **extra}
    )
    assert status == 200, body
    return body


async def test_the_specialist_gets_codes_for_notes_in_each_language(
    client: Any, database: Database
) -> None:
    c = await clinic(client, database.engine)
    spec, cid = c.w.specialist, c.consultation_id

    ru = await suggestions(
        spec, cid, "Пароксизм фибрилляции предсердий, ЧСС 130, на фоне гипертонической болезни."
    )
    assert ru["language"] == "ru"
    top = [s["code"] for s in ru["items"]]
    assert top[0] == "I48.0"
    assert "I10" in top[:3]
    assert ru["items"][0]["title"] == "Пароксизмальная фибрилляция предсердий"
    assert ru["items"][0]["why"] == ["Пароксизм", "фибрилляции", "предсердий"]
    assert len(ru["items"]) <= 5

    kk = await suggestions(spec, cid, "Созылмалы жүрек жеткіліксіздігі, аяқтың ісінуі, ентігу.")
    assert kk["language"] == "kk"
    assert kk["items"][0]["code"] == "I50.0"
    assert kk["items"][0]["title"] == "Іркілісті жүрек жеткіліксіздігі"

    en = await suggestions(spec, cid, "Stable angina on exertion, relieved by GTN.")
    assert en["language"] == "en"
    assert en["items"][0]["code"] == "I20.8"
    assert en["items"][0]["title"] == "Other forms of angina pectoris"

    # Titles in the page's language when it asks.
    asked = await suggestions(spec, cid, "Stable angina on exertion.", language="ru")
    assert asked["items"][0]["title"] == "Другие формы стенокардии"

    assert (await suggestions(spec, cid, ""))["items"] == []

    # A long note (read beside the event loop) and a pathological one.
    long = await suggestions(spec, cid, "Самочувствие удовлетворительное. " * 100 + "Астма.")
    assert long["items"][0]["code"] == "J45.9"
    assert (await suggestions(spec, cid, "ы" * 20000))["items"] == []


# Typical teleconsultation notes, none of them from bench/data: (note, the code expected first,
# a word of the note that must be named as matching it).
NOTES = {
    "kk": [
        ("Бронх демікпесі, түнгі ұстамалар, сальбутамол жиі қажет.", "J45", "демікпесі"),
        ("Қант диабеті 2 тип, гликирленген гемоглобин 9%, метформин қабылдайды.", "E11", "диабеті"),
        ("Артериялық гипертензия, қан қысымы 170/100, бас ауруы.", "I10", "гипертензия"),
        ("Баладағы жедел бронхит, жөтел, қызба 38.", "J20", "бронхит"),
    ],
    "ru": [
        ("Ишемический инсульт в бассейне левой СМА, правосторонний гемипарез.", "I63", "инсульт"),
        ("Гипотиреоз, ТТГ 12, получает левотироксин.", "E03", "Гипотиреоз"),
        ("Внебольничная пневмония справа, лихорадка, кашель с мокротой.", "J18", "пневмония"),
        ("Мигрень без ауры, приступы 3 раза в месяц.", "G43", "Мигрень"),
    ],
    "en": [
        ("Type 2 diabetes mellitus, poorly controlled, HbA1c 9.1%.", "E11", "diabetes"),
        ("Community-acquired pneumonia of the right lower lobe.", "J18", "pneumonia"),
        ("Focal epilepsy with breakthrough seizures on levetiracetam.", "G40", "epilepsy"),
        ("Hypertension, BP 165/100 on amlodipine.", "I10", "Hypertension"),
    ],
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_a_few_notes_in_each_language(client: Any, database: Database, language: str) -> None:
    c = await clinic(client, database.engine)
    for text, category, word in NOTES[language]:
        found = await suggestions(c.w.specialist, c.consultation_id, text)
        assert found["language"] == language, (text, found)
        items = found["items"]
        assert 1 <= len(items) <= 5, (text, found)
        first = items[0]
        assert first["code"].startswith(category), (text, items)
        assert word in first["why"], (text, first)
        # Every suggestion has its title and the note's words it matched.
        for item in items:
            assert item["title"] and item["why"], (text, item)
            assert all(w in text for w in item["why"]), (text, item)


async def test_only_the_consultations_specialist_gets_suggestions(
    client: Any, database: Database
) -> None:
    c = await clinic(client, database.engine)
    path = f"/consultations/{c.consultation_id}/coding-suggestions"
    body = {"text": "АГ 2 степени"}
    for someone in (c.w.gp, c.patient, c.w.admin):
        status, answer = await someone.post(path, body)
        assert status == 403, answer
    # A specialist elsewhere cannot see the consultation at all.
    status, answer = await c.other.post(path, body)
    assert status == 404, answer
    status, answer = await c.w.specialist.post(
        f"/consultations/{uuid.uuid4()}/coding-suggestions", body
    )
    assert status == 404, answer

    # A case waiting to be claimed is visible to a specialist of its specialty, who is not yet
    # its specialist.
    status, case = await c.w.gp.post(
        "/consultations",
        {
            "patient_id": c.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "urgency": "routine",
            "reason": "chest pain on exertion",
        },
    )
    assert status == 201, case
    colleague = await user(
        c.w.admin, "specialist", facility_id=c.w.hospital, specialties=["cardiology"]
    )
    status, answer = await colleague.post(f"/consultations/{case['id']}/coding-suggestions", body)
    assert status == 403, answer

    status, answer = await c.w.specialist.post(path, {"text": "x" * 20001})
    assert status == 422, answer
    assert "text" in answer["fields"]


async def test_what_was_suggested_and_chosen_is_kept_with_the_note(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    spec, cid = c.w.specialist, c.consultation_id
    text = "ХОБЛ, обострение. Сахарный диабет 2 типа без осложнений."
    offered = [s["code"] for s in (await suggestions(spec, cid, text))["items"]]
    assert offered[:2] == ["E11.9", "J44.1"]

    status, entry = await note(spec, cid, text, ["J44.1", "E11.9"])
    assert status == 201, entry
    path = f"/consultations/{cid}/coding-feedback"
    payload = {"entry_id": entry["id"], "suggested": offered, "chosen": ["J44.1", "e119"]}

    # Only the note's author records it.
    for someone in (c.w.gp, c.other):
        status, answer = await someone.post(path, payload)
        assert status == 404, answer
    status, answer = await c.patient.post(path, payload)
    assert status == 403, answer

    status, kept = await spec.post(path, payload)
    assert status == 200, kept
    assert kept["chosen"] == ["J44.1", "E11.9"]
    assert kept["suggested"] == offered
    assert kept["chosen_from_suggestions"] == 2

    # Sent again (the note was re-coded), it replaces what was kept.
    status, kept = await spec.post(path, {**payload, "chosen": ["J44.1"]})
    assert status == 200, kept
    status, bad = await spec.post(path, {**payload, "chosen": ["Q99.99"]})
    assert status == 422, bad
    assert "chosen.0" in bad["fields"]

    sessions = async_sessionmaker(database.engine)
    async with sessions() as session:
        rows = (await session.scalars(select(CodingFeedback))).all()
    assert len(rows) == 1
    assert str(rows[0].entry_id) == entry["id"]
    assert str(rows[0].author_id) == spec.id
    assert rows[0].chosen == ["J44.1"]
    assert rows[0].suggested == offered

    # A prescription is not a note.
    status, other = await spec.post(
        f"/consultations/{cid}/prescriptions",
        {
            "medication": "Amlodipine",
            "dose": "5 mg",
            "route": "oral",
            "frequency": "once daily",
            "duration_days": 30,
        },
    )
    assert status == 201, other
    status, answer = await spec.post(path, {**payload, "entry_id": other["id"]})
    assert status == 404, answer


async def test_the_administrator_measures_how_often_suggestions_are_chosen(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    spec, cid = c.w.specialist, c.consultation_id
    # (suggested, chosen): the first taken; the fourth taken with a code not offered; nothing
    # offered at all.
    kept = [
        (["I48.0", "I10", "I50.0"], ["I48.0"]),
        (["J44.1", "J45.9", "E11.9", "I10"], ["I10", "J18.9"]),
        ([], ["G43.9"]),
    ]
    for suggested, chosen in kept:
        status, entry = await note(spec, cid, "Seen.", chosen)
        assert status == 201, entry
        status, body = await spec.post(
            f"/consultations/{cid}/coding-feedback",
            {"entry_id": entry["id"], "suggested": suggested, "chosen": chosen},
        )
        assert status == 200, body

    status, out = await c.w.admin.get("/coding/quality")
    assert status == 200, out
    total = out["total"]
    assert total["month"] is None
    assert (total["notes"], total["notes_without_suggestions"]) == (3, 1)
    assert (total["top1"], total["top3"], total["top5"]) == (1, 1, 2)
    assert (total["top1_share"], total["top3_share"], total["top5_share"]) == (0.5, 0.5, 1.0)
    assert (total["chosen_codes"], total["chosen_from_suggestions"]) == (4, 2)
    assert total["chosen_from_suggestions_share"] == 0.5
    [month] = out["months"]
    assert month["month"] == clock.now().date().replace(day=1).isoformat()
    assert {k: v for k, v in month.items() if k != "month"} == {
        k: v for k, v in total.items() if k != "month"
    }

    # A period before any note: nothing, not a division by zero.
    status, out = await c.w.admin.get(
        "/coding/quality", **{"from": "2001-01-01", "to": "2001-12-31"}
    )
    assert status == 200, out
    assert out["total"]["notes"] == 0 and out["total"]["top3_share"] is None
    assert out["months"] == []
    status, out = await c.w.admin.get(
        "/coding/quality", **{"from": "2031-02-01", "to": "2031-01-31"}
    )
    assert status == 422 and out["field_codes"] == {"to": "range_reversed"}, out

    # Administrators only.
    for someone in (spec, c.w.gp, c.patient):
        status, out = await someone.get("/coding/quality")
        assert status == 403, out


async def test_a_note_written_with_its_suggestions_keeps_them_in_its_own_transaction(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    spec, cid = c.w.specialist, c.consultation_id
    text = "Пароксизм фибрилляции предсердий на фоне гипертонической болезни."
    offered = [s["code"] for s in (await suggestions(spec, cid, text))["items"]]
    assert offered[0] == "I48.0"

    # An unknown code among the suggestions refuses the note: nothing is written.
    status, body = await spec.post(
        f"/consultations/{cid}/notes",
        {"text": text, "diagnoses": ["I48.0"], "suggested": ["Q99.99"]},
    )
    assert status == 422 and "suggested.0" in body["fields"], body
    status, page = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200 and page["items"] == [], page

    status, entry = await spec.post(
        f"/consultations/{cid}/notes",
        {"text": text, "diagnoses": ["i480", "I10"], "suggested": offered},
    )
    assert status == 201, entry
    # The passport keeps the note and its diagnoses, not what was suggested.
    assert "suggested" not in entry["body"]
    # A note written without coding help keeps nothing.
    status, plain = await spec.post(f"/consultations/{cid}/notes", {"text": "Seen again."})
    assert status == 201, plain

    sessions = async_sessionmaker(database.engine)
    async with sessions() as session:
        rows = (await session.scalars(select(CodingFeedback))).all()
    [row] = rows
    assert str(row.entry_id) == entry["id"] and str(row.author_id) == spec.id
    assert str(row.consultation_id) == cid
    assert row.suggested == offered
    assert row.chosen == ["I48.0", "I10"]
