"""The journeys with the keyboard alone: every control is reached with Tab, typed into,
chosen with the arrow keys and used with Enter or Space; nothing is clicked. The GP signs in,
finds a patient, books a chosen free time and opens a consultation's record; the specialist
takes the written case, writes a note with an ICD-10 code from the list and completes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, NOW, expect, username  # noqa: E402
from tests.e2e.test_journey_gp import a_treated_patient  # noqa: E402


async def _sign_in(tab: Any, name: str) -> None:
    page = tab.page
    await page.goto(tab.base_url)
    await tab.tab_to(page.get_by_label(tab.t("login.username")))
    await page.keyboard.type(name)
    await tab.tab_to(page.get_by_label(tab.t("login.password")))
    await page.keyboard.type(factories.PASSWORD)
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name=tab.t("app.logout")).wait_for()


@pytest.mark.parametrize("language", ["ru"])
async def test_the_gp_books_with_the_keyboard_alone(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    await a_treated_patient(w)
    tab = await open_page("keyboard-gp", language=language)
    page, check, t = tab.page, expect(), tab.t
    await _sign_in(tab, username(w.gp))

    # My patients: the search box, typed into; Enter finds; Tab to the name, Enter opens it.
    search = page.get_by_label(t("gp.search.label"))
    await tab.tab_to(search)
    await page.keyboard.type("Айгүл")
    await page.keyboard.press("Enter")
    found = page.get_by_role("link", name="Айгүл Серікқызы")
    await tab.tab_to(found)
    await page.keyboard.press("Enter")
    await check(page.get_by_role("heading", name=t("gp.book.title"))).to_be_visible()

    # Booking a chosen free time: the specialty by arrow keys, "choose a time" by arrow keys
    # in its radio group, the free times shown with Enter, one picked with the arrows.
    specialty = page.get_by_label(t("gp.book.specialty"))
    await tab.tab_to(specialty)
    for _ in range(20):
        if await specialty.input_value() == "cardiology":
            break
        await page.keyboard.press("ArrowDown")
    await check(specialty).to_have_value("cardiology")
    await tab.tab_to(page.get_by_label(t("gp.book.reason")))
    await page.keyboard.type("Chest pain on exertion")
    await tab.tab_to(page.get_by_role("radio", name=t("gp.book.earliest")))
    await page.keyboard.press("ArrowDown")
    await check(page.get_by_role("radio", name=t("gp.book.pick"))).to_be_checked()
    await tab.tab_to(page.get_by_role("button", name=t("gp.book.show_slots")))
    await page.keyboard.press("Enter")
    slots = page.locator("input[name=slot_id]")
    await check(slots.first).to_be_visible()
    await tab.tab_to(slots.first)
    await page.keyboard.press("ArrowDown")
    await check(slots.nth(1)).to_be_checked()
    chosen = await slots.nth(1).get_attribute("value")
    await tab.tab_to(page.get_by_role("button", name=t("gp.book.submit"), exact=True))
    await page.keyboard.press("Enter")
    booked = page.locator("form.booking .notice.success")
    await check(booked).to_be_visible()
    status, mine = await w.gp.get("/consultations", mode="video")
    assert status == 200 and [c["slot_id"] for c in mine["items"]] == [chosen], mine

    # On to the consultations from the notice's link; the record opens with Enter.
    await tab.tab_to(booked.get_by_role("link", name=t("gp.book.see_consultations")))
    await page.keyboard.press("Enter")
    await check(page.get_by_role("heading", name=t("gp.nav.consultations"))).to_be_visible()
    done = page.locator("li.consultation").filter(has_text="Headaches in the morning")
    await tab.tab_to(done.get_by_role("button", name=t("consultation.record.button")))
    await page.keyboard.press("Enter")
    await check(done.locator(".record-panel")).to_contain_text("Start amlodipine")
    await tab.assert_translated()
    tab.assert_clean()


@pytest.mark.parametrize("language", ["kk"])
async def test_the_specialist_works_a_case_with_the_keyboard_alone(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    status, body = await patient.post(
        f"/patients/{w.patient_id}/consents",
        {
            "access": "read_write",
            "grantee_user_id": w.specialist.id,
            "expires_at": (DAY_START + timedelta(days=30)).isoformat(),
        },
    )
    assert status == 201, body
    status, case = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "reason": "Holter report to read",
        },
    )
    assert status == 201, case
    tab = await open_page("keyboard-specialist", language=language)
    page, check, t = tab.page, expect(), tab.t
    await _sign_in(tab, username(w.specialist))

    item = page.locator("li.consultation", has_text="Holter report to read")
    await tab.tab_to(item.get_by_role("button", name=t("spec.action.claim")))
    await page.keyboard.press("Enter")
    await check(item).to_contain_text(t("spec.status.in_progress"))
    await tab.tab_to(item.get_by_role("button", name=t("spec.action.write")))
    await page.keyboard.press("Enter")
    editor = page.locator("section.editor")
    await tab.tab_to(editor.get_by_label(t("spec.editor.note"), exact=True))
    await page.keyboard.type("Sinus rhythm with isolated ectopics.")
    # The code from the list: typed, ArrowDown to the first suggestion, Enter picks it.
    await tab.tab_to(editor.get_by_role("combobox", name=t("spec.editor.diagnoses")))
    await page.keyboard.type("I49")
    await check(editor.get_by_role("option").first).to_be_visible()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await check(editor.locator(".chip").first).to_contain_text("I49")
    await tab.tab_to(editor.get_by_role("button", name=t("spec.editor.save_note")))
    await page.keyboard.press("Enter")
    await check(editor.locator("form.note-form .notice.success")).to_have_text(
        t("spec.editor.saved_as", seq=1)
    )

    # Completing: the conclusion is typed where the focus lands, Enter on the button.
    await tab.tab_to(item.get_by_role("button", name=t("spec.action.complete")))
    await page.keyboard.press("Enter")
    conclusion = item.get_by_label(t("spec.complete.conclusion"))
    await check(conclusion).to_be_focused()
    await page.keyboard.type("Benign ectopics; no treatment.")
    await tab.tab_to(item.get_by_role("button", name=t("spec.complete.submit")))
    await page.keyboard.press("Enter")
    await check(item).to_contain_text(t("spec.status.completed"))
    status, done = await w.specialist.get(f"/consultations/{case['id']}")
    assert done["status"] == "completed" and done["conclusion"].startswith("Benign"), done
    await tab.assert_translated()
    tab.assert_clean()


@pytest.mark.parametrize("language", ["en"])
async def test_the_administrator_pages_the_statistics_and_disables_a_user_with_the_keyboard(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    # A written case asked for on each of the last fourteen days: fourteen rows by day.
    for days in range(14):
        clock.set(NOW - timedelta(days=days))
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": w.patient_id,
                "specialty": "cardiology",
                "mode": "async",
                "reason": f"Case {days}",
            },
        )
        assert status == 201, body
    clock.set(NOW)
    tab = await open_page("keyboard-admin", language=language)
    page, check, t = tab.page, expect(), tab.t
    await _sign_in(tab, username(w.admin))

    # The statistics by day: twelve periods a page, the next page with Enter.
    by_specialty = page.locator("section[aria-labelledby=by-specialty]")
    await check(by_specialty.locator("table.numbers")).to_be_visible()
    granularity = page.get_by_label(t("admin.stats.granularity"))
    await tab.tab_to(granularity)
    for _ in range(5):
        if await granularity.input_value() == "day":
            break
        await page.keyboard.press("ArrowDown")
    await tab.tab_to(page.get_by_role("button", name=t("admin.stats.show")))
    await page.keyboard.press("Enter")
    rows = by_specialty.locator("table.numbers tbody tr")
    await check(rows).to_have_count(12)
    await check(by_specialty).to_contain_text(t("admin.stats.page", n=1, of=2))
    await tab.tab_to(by_specialty.get_by_role("button", name=t("admin.stats.next")))
    await page.keyboard.press("Enter")
    await check(rows).to_have_count(2)
    await check(by_specialty).to_contain_text(t("admin.stats.page", n=2, of=2))
    await tab.assert_translated()

    # Users: found by name, disabled with Enter.
    await tab.tab_to(page.get_by_role("link", name=t("admin.nav.users")))
    await page.keyboard.press("Enter")
    users = page.locator("section[aria-labelledby=all-users]")
    await tab.tab_to(users.get_by_label(t("admin.users.search")))
    await page.keyboard.type("test g")
    await page.keyboard.press("Enter")
    found = users.locator("tbody tr")
    await check(found).to_have_count(1)
    disable = found.first.get_by_role("button", name=t("admin.users.disable_named", name="Test gp"))
    await tab.tab_to(disable)
    await page.keyboard.press("Enter")
    await check(found.first).to_contain_text(t("admin.users.disabled"))
    assert (await w.gp.get("/me"))[0] == 401
    await tab.assert_translated()
    tab.assert_clean()


@pytest.mark.parametrize("language", ["kk"])
async def test_the_patient_gives_a_clinic_access_with_the_keyboard(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    tab = await open_page("keyboard-patient", language=language, width=390)
    page, check, t = tab.page, expect(), tab.t
    await _sign_in(tab, username(patient))

    await tab.tab_to(page.get_by_role("link", name=t("patient.nav.consents")))
    await page.keyboard.press("Enter")
    # The kind of grantee by arrow keys (a doctor, then back to a clinic), the clinic by arrow
    # keys, one category with Space.
    facility = page.get_by_role("radio", name=t("patient.consents.kind.facility"))
    doctor = page.get_by_role("radio", name=t("patient.consents.kind.user"))
    await tab.tab_to(facility)
    for key in ("ArrowDown", "ArrowUp", "ArrowDown"):
        if await doctor.is_checked():
            break
        await page.keyboard.press(key)
    await check(doctor).to_be_checked()
    chooser = page.get_by_role("combobox", name=t("patient.consents.doctor"), exact=True)
    await check(chooser).to_be_visible()
    for key in ("ArrowDown", "ArrowUp", "ArrowDown"):
        if await facility.is_checked():
            break
        await page.keyboard.press(key)
    await check(facility).to_be_checked()
    clinic = page.get_by_role("combobox", name=t("patient.consents.facility"))
    await tab.tab_to(clinic)
    await page.keyboard.press("ArrowDown")
    await check(clinic).not_to_have_value("")
    notes = page.get_by_label(t("patient.category.notes"), exact=True)
    await tab.tab_to(notes)
    await page.keyboard.press("Space")
    await check(notes).to_be_checked()
    await tab.tab_to(page.get_by_role("button", name=t("patient.consents.grant")))
    await page.keyboard.press("Enter")
    await check(page.get_by_text(t("patient.consents.granted"))).to_be_visible()
    given = page.locator("li.consent")
    await check(given).to_have_count(1)
    await check(given.first).to_contain_text(t("patient.category.notes"))
    await tab.assert_translated()
    tab.assert_clean()
