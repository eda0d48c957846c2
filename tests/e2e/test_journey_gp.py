"""The GP's journey through the pages, in Kazakh, Russian and English: sign in, find a patient
by name, read the passport (the specialist's notes, diagnoses, prescriptions as one line),
book a consultation (a double click books once), see its card, open a consultation's record.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from tests import factories, filekit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, NOW, expect, username  # noqa: E402

RX_LINE = {
    "en": "Amlodipine 5 mg, by mouth, once daily, 30 days",
    "kk": "Amlodipine 5 mg, ауыз арқылы, once daily, 30 күн",
    "ru": "Amlodipine 5 mg, внутрь, once daily, 30 дней",
}
HOLTER = "Holter monitoring, 24 hours"
# The diagnosis is written with its WHO English title; each reader sees their language's.
DIAGNOSIS = {
    "en": "I10 Essential (primary) hypertension",
    "kk": "I10 Эссенциалды (біріншілік) гипертензия",
    "ru": "I10 Эссенциальная (первичная) гипертензия",
}


async def a_treated_patient(w: Any) -> tuple[str, str]:
    """A patient of the GP's clinic whose completed async case holds the specialist's note
    (with a diagnosis) and a prescription, and who lets the GP and the specialist read."""
    status, patient = await w.gp.post(
        "/patients",
        {
            "iin": factories.valid_iin(date(1979, 11, 23), "female"),
            "full_name": "Айгүл Серікқызы",
            "birth_date": "1979-11-23",
            "sex": "female",
        },
    )
    assert status == 201, patient
    account = await factories.user(w.admin, "patient", patient_id=patient["id"])
    for grantee in (w.specialist, w.gp):
        status, body = await account.post(
            f"/patients/{patient['id']}/consents",
            {
                "grantee_user_id": grantee.id,
                "access": "read_write",
                "expires_at": (NOW + timedelta(days=30)).isoformat(),
            },
        )
        assert status == 201, body
    status, case = await w.gp.post(
        "/consultations",
        {
            "patient_id": patient["id"],
            "specialty": "cardiology",
            "mode": "async",
            "reason": "Headaches in the morning",
        },
    )
    assert status == 201, case
    assert (await w.specialist.post(f"/consultations/{case['id']}/claim"))[0] == 200
    status, body = await w.specialist.post(
        f"/consultations/{case['id']}/notes",
        {"text": "Blood pressure 160/95 at rest", "diagnoses": ["I10"]},
    )
    assert status == 201, body
    status, body = await w.specialist.post(
        f"/consultations/{case['id']}/prescriptions",
        {
            "medication": "Amlodipine",
            "dose": "5 mg",
            "route": "oral",
            "frequency": "once daily",
            "duration_days": 30,
        },
    )
    assert status == 201, body
    status, uploaded = await filekit.upload(w.specialist, filekit.pdf(), "holter-24h.pdf")
    assert status == 200, uploaded
    status, body = await w.specialist.post(
        f"/consultations/{case['id']}/entries",
        {"kind": "attachment", "body": {"title": HOLTER, "file_id": uploaded["file"]["id"]}},
    )
    assert status == 201, body
    status, body = await w.specialist.post(
        f"/consultations/{case['id']}/complete",
        {"conclusion": "Start amlodipine, review in 4 weeks"},
    )
    assert status == 200, body
    return str(patient["id"]), str(case["id"])


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_gp_journey(client: Any, database: Any, open_page: Any, language: str) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    patient_id, _case = await a_treated_patient(w)
    # A narrow phone screen in Kazakh: the journey works at 390 px too.
    tab = await open_page("gp", language=language, width=390 if language == "kk" else 1280)
    page, check = tab.page, expect()
    await tab.login(username(w.gp))
    await check(page.get_by_role("heading", name=tab.t("gp.nav.patients"))).to_be_visible()
    await tab.assert_translated()

    # Find the patient by part of the name, in another case.
    await page.get_by_label(tab.t("gp.search.label")).fill("серікқызы")
    await page.get_by_role("button", name=tab.t("gp.search.submit")).click()
    found = page.get_by_role("link", name="Айгүл Серікқызы")
    await check(found).to_be_visible()
    await tab.assert_translated()
    await found.click()

    # The passport: the specialist's note and diagnosis, the prescription as one line.
    title = page.get_by_role("heading", name=tab.t("passport.title"))
    passport = page.locator("section", has=title)
    await check(passport).to_contain_text("Blood pressure 160/95 at rest")
    await check(passport.locator(".group-diagnosis")).to_contain_text(DIAGNOSIS[language])
    await check(passport.locator(".group-note")).to_contain_text(DIAGNOSIS[language])
    # The specialist's attachment: its title and the file to open in place, no MIME type.
    attachment = passport.locator(".group-attachment")
    await check(attachment).to_contain_text(HOLTER)
    await check(attachment).not_to_contain_text("application/pdf")
    await check(
        attachment.get_by_role("button", name=tab.t("files.open", name="holter-24h.pdf"))
    ).to_be_visible()
    await check(passport).to_contain_text(RX_LINE[language])
    await tab.assert_translated()

    # Inviting the patient to an account: this one has an account already, and the page
    # says so (a new patient's link goes to them by SMS or e-mail, never through the GP).
    await page.get_by_role("button", name=tab.t("gp.invite.button")).click()
    account = page.locator("section[aria-labelledby=account-title]")
    await account.get_by_label(tab.t("admin.users.username")).fill("aigul")
    await account.get_by_role("button", name=tab.t("gp.invite.send")).click()
    await check(account.get_by_text(tab.t("error.patient_has_account"))).to_be_visible()

    # Book: a double click books once, and the form is ready for the next booking.
    await page.get_by_label(tab.t("gp.book.specialty")).select_option("cardiology")
    reason = page.get_by_label(tab.t("gp.book.reason"))
    await reason.fill("Blood pressure still high")
    await page.get_by_role("button", name=tab.t("gp.book.submit"), exact=True).dblclick()
    booked = page.locator("form.booking .notice.success")
    await check(booked).to_be_visible()
    await check(reason).to_have_value("")
    await tab.assert_translated()
    await tab.shot(f"gp-booking-{language}")
    status, mine = await w.gp.get("/consultations", mode="video")
    assert status == 200 and len(mine["items"]) == 1, mine
    assert mine["items"][0]["patient_id"] == patient_id

    # The consultations: the new booking's card, and the record of the completed case.
    await booked.get_by_role("link", name=tab.t("gp.book.see_consultations")).click()
    await check(page.get_by_role("heading", name=tab.t("gp.nav.consultations"))).to_be_visible()
    items = page.locator("li.consultation")
    await check(items).to_have_count(2)
    done = items.filter(has_text="Headaches in the morning")
    await done.get_by_role("button", name=tab.t("consultation.record.button")).click()
    record = done.locator(".record-panel")
    await check(record).to_contain_text("Start amlodipine, review in 4 weeks")
    await check(record).to_contain_text("Blood pressure 160/95 at rest")
    await check(record).to_contain_text(RX_LINE[language])
    await check(record).to_contain_text(DIAGNOSIS[language])
    await tab.assert_translated()
    tab.assert_clean()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_my_patients_shows_nothing_for_an_empty_search_and_pages_the_found(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    for n in range(21):
        born = date(1960, 1, 1) + timedelta(days=300 * n)
        status, body = await w.gp.post(
            "/patients",
            {
                "iin": factories.valid_iin(born, "male"),
                "full_name": f"Ержан Бекұлы {n:02d}",
                "birth_date": born.isoformat(),
                "sex": "male",
            },
        )
        assert status == 201, body
    tab = await open_page("gp-search", language=language, width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.gp))
    found = page.locator("li.patient-row")

    # An empty search lists nobody: the field says what to type, in the page's language.
    search = page.get_by_label(t("gp.search.label"))
    await page.get_by_role("button", name=t("gp.search.submit")).click()
    await check(search).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field", has=search).locator(".field-error")
    await check(error).to_have_text(t("field.gp_search_empty"))
    await check(page.get_by_text(t("gp.search.start"))).to_be_visible()
    await check(found).to_have_count(0)
    await tab.assert_translated()

    # Typing clears the message; twenty found at a time, the rest on request.
    await search.fill("ержан")
    await check(error).to_be_hidden()
    await page.get_by_role("button", name=t("gp.search.submit")).click()
    await check(found).to_have_count(20)
    await page.get_by_role("button", name=t("common.show_more")).click()
    await check(found).to_have_count(21)
    await check(page.get_by_role("button", name=t("common.show_more"))).to_be_hidden()
    await tab.assert_translated()
    tab.assert_clean()


async def test_people_are_never_shown_by_id_while_their_names_load(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.booked_call(w, DAY_START, "Palpitations")
    tab = await open_page("gp-names", language="kk")
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.gp))

    # The names are slow to come: the card says "…" meanwhile, then the name.
    release = asyncio.Event()

    async def slow(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/api/v1/people?*", slow)
    await page.goto(f"{tab.base_url}#/consultations")
    card = page.locator("li.consultation", has_text="Palpitations")
    await check(card.locator(".person[aria-busy=true]").first).to_have_text("…")
    await check(card).not_to_contain_text(w.specialist.id[:8])
    await tab.assert_translated()
    release.set()
    await check(card).to_contain_text("Test specialist")
    await check(card.locator(".person[aria-busy=true]")).to_have_count(0)

    # Nobody known by the id: said in words, not as the id.
    await page.unroute("**/api/v1/people?*")
    await page.route(
        "**/api/v1/people?*",
        lambda route: route.fulfill(json={"items": []}),
    )
    await page.reload()
    await check(card).to_contain_text(t("people.unknown"))
    await check(card).not_to_contain_text(w.specialist.id[:8])
    await tab.assert_translated()
    tab.assert_clean()
