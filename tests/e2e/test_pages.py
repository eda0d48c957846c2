"""The web pages in a real Chromium against the real app on a loopback port.

Data is made through the HTTP API (tests/factories.py); people act through the pages, finding
inputs by their labels. The browser and the server share one fixed time (the server's
FakeClock and Playwright's clock), in the Asia/Aqtobe time zone (UTC+5), so "today" and the
local times on the page are known. Screenshots go to TELECONSULT_SCREENSHOT_DIR, or to the
test's temporary folder.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import pytest

from teleconsult.appkeys import NOTIFIER
from teleconsult.codes import Role
from teleconsult.consent.notifier import DevelopmentNotifier
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.both_engines]

from tests.e2e.browsing import DAY_START, NOW, expect, username  # noqa: E402

# --- GP -----------------------------------------------------------------------------------


async def test_gp_registers_finds_a_patient_and_books(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    known_iin = factories.valid_iin()
    status, known = await w.gp.post(
        "/patients",
        {
            "iin": known_iin,
            "full_name": "Aigerim Nurlanovna",
            "birth_date": "1985-04-12",
            "sex": "female",
        },
    )
    assert status == 201, known
    tab = await open_page("gp")
    page, check = tab.page, expect()
    await tab.login(username(w.gp))
    await check(page.get_by_role("heading", name="My patients")).to_be_visible()
    await check(page.locator("header")).to_contain_text("Test gp")
    await check(page.locator("header")).to_contain_text("General practitioner")
    # Nothing is listed before a search.
    await check(page.locator(".patient-row")).to_have_count(0)

    # A wrong check digit: the server's 422 names the field and the page marks it, in words.
    new_iin = factories.valid_iin(date(1990, 7, 1), "male")
    wrong = new_iin[:-1] + str((int(new_iin[-1]) + 1) % 10)
    iin = page.get_by_label("IIN", exact=True)
    await iin.fill(wrong)
    await check(page.get_by_label("Birth date")).to_have_value("1990-07-01")
    await check(page.get_by_label("Sex")).to_have_value("male")
    await page.get_by_label("Full name").fill("Daulet Serikuly")
    await page.get_by_role("button", name="Register patient").click()
    await check(iin).to_have_attribute("aria-invalid", "true")
    iin_error = page.locator(".field", has=iin).locator(".field-error")
    await check(iin_error).to_have_text("This IIN's check digit is wrong; check the number.")
    await check(page.get_by_role("alert")).to_contain_text("Some fields need correcting.")
    await tab.shot("register-error")
    # The message goes as soon as the field is changed.
    await iin.fill(new_iin)
    await check(iin_error).to_be_hidden()
    await check(iin).not_to_have_attribute("aria-invalid", "true")

    # Registering opens the patient's page, ready to book.
    await page.get_by_role("button", name="Register patient").click()
    await check(page.get_by_role("heading", name="Daulet Serikuly")).to_be_visible()
    await check(page.locator(".selected-patient")).to_contain_text("Daulet Serikuly")

    # Find the other patient by part of the name and book a chosen slot for them.
    await page.get_by_role("link", name="Back to my patients").click()
    await page.get_by_label("Name or IIN").fill("nurlan")
    await page.get_by_label("Name or IIN").press("Enter")
    await page.get_by_role("link", name="Aigerim Nurlanovna").click()
    await check(page.locator(".selected-patient")).to_contain_text("Aigerim Nurlanovna")
    await page.get_by_label("Specialty").select_option(label="Cardiology")
    await page.get_by_label("Reason for referral").fill("Chest pain on exertion")
    await page.get_by_label("Choose a free slot").check()
    slots = page.locator(".slots li")
    await check(slots).to_have_count(6)
    await check(slots.first).to_contain_text("09:00")  # 04:00 UTC in the browser's UTC+5
    await page.get_by_label(re.compile(r"09:20\D* – 09:40")).check()
    await tab.shot("book-pick-slot")
    await page.get_by_role("button", name="Book consultation").click()
    booked = page.locator("form.booking .notice.success")
    await check(booked).to_contain_text("Booked: Cardiology")
    await check(booked).to_contain_text("09:20")
    # The form is ready for the next booking; the booked slot left the list.
    await check(page.get_by_label("Reason for referral")).to_have_value("")
    await check(page.get_by_label("Earliest free slot")).to_be_checked()
    await page.get_by_label("Specialty").select_option(label="Cardiology")
    await page.get_by_label("Choose a free slot").check()
    await check(slots).to_have_count(5)

    # The earliest free slot for the same patient, then an async case.
    await page.get_by_label("Earliest free slot").check()
    await page.get_by_label("Reason for referral").fill("Follow-up of hypertension")
    await page.get_by_role("button", name="Book consultation").click()
    await check(booked).to_contain_text("09:00")
    await page.get_by_label("Async case (store and forward)").check()
    await page.get_by_label("Specialty").select_option(label="Cardiology")
    await page.get_by_label("Urgency").select_option(label="Urgent")
    await page.get_by_label("Reason for referral").fill("ECG attached for review")
    await page.get_by_role("button", name="Send case").click()
    await check(booked).to_contain_text("Case sent to the Cardiology queue")
    await tab.shot("booked")

    await page.get_by_role("link", name="See my consultations").click()
    await check(page.get_by_role("heading", name="My consultations")).to_be_visible()
    items = page.locator("li.consultation")
    await check(items).to_have_count(3)
    # Urgent first (the server's order), then by time.
    await check(items.nth(0)).to_contain_text("Requested")
    await check(items.nth(0)).to_contain_text("Urgent")
    chosen = items.filter(has_text="09:20")
    await check(chosen).to_contain_text("Scheduled")
    await check(chosen).to_contain_text("Aigerim Nurlanovna")
    # The GP sees with whom, by name.
    await check(chosen).to_contain_text("With Test specialist (Cardiology specialist, Clinic ")
    await check(chosen.get_by_role("link", name="Join call")).to_have_attribute(
        "href", re.compile(r"^/static/call\.html\?consultation=[0-9a-f-]{36}$")
    )
    # Starting an hour early is refused; the page says so.
    await chosen.get_by_role("button", name="Start").click()
    await check(chosen.get_by_role("alert")).to_be_visible()
    await tab.shot("consultations")
    await chosen.get_by_role("button", name="Cancel").click()
    await check(items.filter(has_text="09:20")).to_contain_text("Cancelled")
    # A cancelled consultation keeps only its record and its messages.
    await check(items.filter(has_text="09:20").get_by_role("button")).to_have_count(2)
    await check(items.filter(has_text="09:20").get_by_role("button", name="Record")).to_be_visible()
    await check(
        items.filter(has_text="09:20").get_by_role("button", name="Messages")
    ).to_be_visible()

    await page.get_by_label("Status").select_option(label="Scheduled")
    await check(items).to_have_count(1)
    await check(items.first).to_contain_text("09:00")

    # A narrow phone screen keeps everything reachable.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_role("link", name="My patients").click()
    await tab.shot("mobile-booking")
    await page.get_by_role("button", name="Log out").click()
    await check(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.goto(tab.base_url + "#/consultations")
    await check(page.get_by_label("Username")).to_be_visible()  # the session is gone
    await page.get_by_label("Username").fill(username(w.gp))
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_label("Password").press("Enter")
    await check(page.get_by_role("alert")).to_be_visible()
    await tab.shot("login-failed")
    await page.get_by_label("Password").fill(factories.PASSWORD)
    await page.get_by_label("Password").press("Enter")
    # Signing in again lands on the page that was asked for.
    await check(page.get_by_role("heading", name="My consultations")).to_be_visible()
    tab.assert_clean()


async def test_gp_without_consent_asks_for_it_from_the_patient_s_page(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    status, record = await w.gp.get(f"/patients/{w.patient_id}")
    assert status == 200, record
    codes = sent_codes(client)
    tab = await open_page("gp-consent")
    page, check = tab.page, expect()
    await tab.login(username(w.gp))
    await page.get_by_label("Name or IIN").fill(record["iin"][:6])
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=record["full_name"]).click()
    passport = page.locator("section", has=page.get_by_role("heading", name="Health passport"))
    await check(passport.get_by_role("alert")).to_contain_text("You have no consent")
    await check(passport).to_contain_text("recorded in the patient's access log")
    await tab.shot("passport-refused")
    sent = len(codes.sent)
    await passport.get_by_role("button", name="Send code to patient").click()
    _, right = await next_code(codes, sent)
    await passport.get_by_label("6-digit code from the patient").fill(right)
    await passport.get_by_role("button", name="Confirm").click()
    # The consent is given and the passport opens (empty for this patient).
    await check(passport).to_contain_text("The passport has no entries yet.")
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    status, grants = await patient.get(f"/patients/{w.patient_id}/consents")
    assert status == 200, grants
    [grant] = grants["items"]
    assert (grant["grantee_user_id"], grant["access"]) == (w.gp.id, "read")
    tab.assert_clean()


# --- specialist -----------------------------------------------------------------------------


async def test_specialist_sees_its_queue_live_and_works_it(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    status, call = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"},
    )
    assert status == 201, call
    status, case = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "urgency": "urgent",
            "reason": "Holter report to read",
        },
    )
    assert status == 201, case

    tab = await open_page("specialist", width=390)
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    await check(page.get_by_role("heading", name="Queue")).to_be_visible()
    await check(page.locator(".live")).to_have_text("Live")
    items = page.locator("li.consultation")
    calls = items.filter(has_text="Palpitations")
    waiting = items.filter(has_text="Holter report to read")
    await check(calls).to_have_count(1)
    await check(calls.first).to_contain_text("09:00")
    await check(calls.first).to_contain_text("The call opens at 08:45")
    await check(calls.first).to_contain_text("Woman, ")
    await check(calls.first).not_to_contain_text("Patient ")
    await check(waiting.first).to_contain_text("Urgent")
    # Nothing on the page is wider than a phone.
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, wide
    await tab.shot("queue-mobile")

    # A booking made elsewhere reaches the open page through the event stream.
    status, second = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Dyspnoea"},
    )
    assert status == 201, second
    await check(items.filter(has_text="Dyspnoea")).to_contain_text("09:20")

    await waiting.first.get_by_role("button", name="Take the case").click()
    await check(waiting.first).to_contain_text("In progress")

    # At 08:50 (server and browser) the call is open: start it, join it, complete it.
    clock.set(DAY_START - timedelta(minutes=10))
    await page.clock.set_fixed_time(DAY_START - timedelta(minutes=10))
    await page.get_by_role("tab", name="Today").click()
    first = calls.first
    await first.get_by_role("button", name="Start").click()
    await check(first).to_contain_text("In progress")
    await check(first.get_by_role("link", name="Join the call")).to_be_visible()
    await tab.shot("queue")
    await first.get_by_role("button", name="Complete", exact=True).click()
    await first.get_by_label("Conclusion for the referring GP").fill(
        "Benign ectopics; no treatment."
    )
    await first.get_by_role("button", name="Complete the consultation").click()
    await check(first).to_contain_text("Completed")
    await check(first).to_contain_text("Conclusion: Benign ectopics; no treatment.")

    # Writing in the passport without the patient's consent is refused, and says so.
    await waiting.first.get_by_role("button", name="Write in the passport").click()
    editor = page.locator("section.editor")
    await check(editor.get_by_role("heading", name="Write in the passport")).to_be_focused()
    await editor.get_by_label("Note", exact=True).fill("Sinus rhythm, occasional ectopics.")
    await editor.get_by_role("combobox", name="ICD-10 diagnoses").press_sequentially("I49.3")
    await editor.get_by_role("option", name=re.compile("I49.3")).click()
    await editor.get_by_role("button", name="Save the note").click()
    await check(editor.get_by_role("alert")).to_contain_text("No consent to write")
    await editor.get_by_label("Medicine").fill("Bisoprolol")
    await editor.get_by_label("Dose").fill("2.5 mg")
    await editor.get_by_label("How often").fill("once daily")
    await editor.get_by_label("For how many days").fill("30")
    await editor.get_by_role("button", name="Save the prescription").click()
    await check(
        editor.locator("form", has_text="Prescription").get_by_role("alert")
    ).to_contain_text("No consent to write")
    await tab.shot("no-consent")
    tab.assert_clean()


# --- patient and administrator (contract endpoints) -------------------------------------------


async def test_patient_reads_passport_grants_and_revokes_consent(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    tab = await open_page("patient")
    page, check = tab.page, expect()
    await tab.login(username(patient))
    await check(page.get_by_role("heading", name="My consultations")).to_be_visible()

    # Grant the specialist read and write access to diagnoses and notes.
    await page.get_by_role("link", name="Consents").click()
    await page.get_by_label("A doctor", exact=True).check()
    # Found by name as the patient types, shown with what they do and where.
    await page.get_by_label("Doctor's name").fill("test SPEC")
    doctor = page.get_by_label("Doctor", exact=True)
    found = doctor.locator("option", has_text="Test specialist (Cardiology specialist, Clinic ")
    await check(found).to_have_count(1)
    await check(doctor).to_have_value(w.specialist.id)  # the only one found is chosen
    await tab.shot("grant-doctor")
    await page.get_by_label("Access", exact=True).select_option(label="Read and write")
    await page.get_by_label("Notes", exact=True).check()
    await page.get_by_label("Diagnoses", exact=True).check()
    await page.get_by_role("button", name="Grant access").click()
    await check(page.get_by_text("Access granted.")).to_be_visible()
    grants = page.locator("li.consent")
    await check(grants).to_have_count(1)
    await check(grants.first).to_contain_text("Active")
    await check(grants.first).to_contain_text("Read and write")
    await check(grants.first).to_contain_text("Diagnoses and Notes")
    # The grant names the person, not the id that was typed.
    await check(grants.first).to_contain_text("Test specialist (Cardiology specialist, Clinic ")

    # The specialist writes a note; it shows in the passport.
    status, c = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "reason": "BP",
        },
    )
    assert status == 201, c
    status, body = await w.specialist.post(f"/consultations/{c['id']}/claim")
    assert status == 200, body
    status, body = await w.specialist.post(
        f"/consultations/{c['id']}/notes",
        {"text": "Hypertension, stage 1.", "diagnoses": ["I10"]},
    )
    assert status == 201, body
    # A note, then its correction: a new entry that amends it.
    status, first = await w.specialist.post(
        f"/consultations/{c['id']}/notes", {"text": "Advised salt restriction."}
    )
    assert status == 201, first
    status, body = await w.specialist.post(
        f"/consultations/{c['id']}/notes",
        {"text": "Advised salt restriction and a low-fat diet.", "amends": first["id"]},
    )
    assert status == 201, body
    await page.get_by_role("link", name="My health passport").click()
    entries = page.locator("li.entry")
    await check(entries.first).to_be_visible()
    await check(page.locator("main")).to_contain_text("Hypertension, stage 1.")
    await check(page.locator("main")).to_contain_text("I10")
    await check(entries.first).to_contain_text("Written by Test specialist")
    # Written in the patient's cardiology consultation, named so.
    await check(entries.first).to_contain_text(re.compile(r"Cardiology consultation of \S.*2030"))
    # The correction names what it corrects by number; the corrected entry says so.
    correction = entries.filter(has_text="low-fat diet")
    corrected = entries.filter(has_text="Advised salt restriction.")
    seq = await corrected.get_attribute("data-seq")
    await check(correction).to_contain_text(f"Corrects entry #{seq}")
    await check(corrected).to_contain_text("Corrected later")
    await page.get_by_role("button", name="Check integrity").click()
    await check(page.get_by_role("status").filter(has_text="intact")).to_be_visible()
    await tab.shot("passport")

    await page.get_by_role("link", name="Who accessed my data").click()
    rows = page.locator("tbody tr")
    await check(rows.first).to_be_visible()
    # Newest first: the integrity check just made is on top.
    await check(rows.first).to_contain_text("Checked the passport's integrity")
    # Who looked, by name: the specialist who wrote, and the patient themself as "You".
    writes = rows.filter(has_text="Was allowed to write in the health passport")
    await check(writes.first).to_contain_text("Test specialist (Cardiology specialist, Clinic ")
    await check(writes.first).to_contain_text("The access you gave")
    opened = rows.filter(has_text="Opened the health passport").first
    await check(opened).to_contain_text("You")
    await check(opened).to_contain_text("Your own account")
    # Plain words: to whom, what, until when, how; times as the patient's clock shows them.
    given = rows.filter(has_text="Access given").first
    await check(given).to_contain_text("To whom")
    await check(given).to_contain_text("Test specialist (Cardiology specialist")
    await check(given).to_contain_text("Read and write")
    await check(given).to_contain_text("Diagnoses and Notes")
    await check(given).to_contain_text("In your account")
    await check(given.locator(".log-facts")).not_to_contain_text(w.specialist.id)
    await check(given.locator(".log-facts")).not_to_contain_text("+00:00")
    # The technical record, with its ids, only when asked for.
    await check(given.locator("details code")).to_be_hidden()
    await given.locator("summary").click()
    await check(given.locator("details code")).to_contain_text("consent.grant")
    await tab.shot("access-log")

    await page.get_by_role("link", name="Consents").click()
    await grants.first.get_by_role("button", name="Revoke").click()
    await check(grants.first).to_contain_text("Revoked")
    await check(grants.first.get_by_role("button", name="Revoke")).to_have_count(0)
    await tab.shot("consents")
    tab.assert_clean()


async def test_admin_manages_facilities_users_and_reads_statistics(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    for reason in ("One", "Two"):
        status, body = await w.gp.post(
            "/consultations",
            {"patient_id": w.patient_id, "specialty": "cardiology", "reason": reason},
        )
        assert status == 201, body
    tab = await open_page("admin")
    page, check = tab.page, expect()
    await tab.login(username(w.admin))
    await check(page.get_by_role("heading", name="Statistics")).to_be_visible()
    table = page.locator("section[aria-labelledby=by-specialty] table.numbers")
    await check(table.get_by_role("row", name=re.compile("Cardiology"))).to_be_visible()
    await check(page.locator(".chart canvas")).to_have_count(2)
    csv = page.get_by_role("link", name="Download CSV")
    await check(csv).to_have_attribute(
        "href", re.compile(r"^/api/v1/stats/specialties\.csv\?from=.+&to=.+")
    )
    await page.get_by_label("Region", exact=True).select_option(label="Karaganda Region")
    await page.get_by_role("button", name="Show statistics").click()
    await check(csv).to_have_attribute("href", re.compile(r"region=karaganda"))
    await tab.shot("stats")

    await page.get_by_role("link", name="Facilities").click()
    create = page.locator("section[aria-labelledby=new-facility]")
    await create.get_by_label("Name in English").fill("Shet District Hospital")
    await create.get_by_label("Name in Kazakh").fill("Шет аудандық ауруханасы")
    await create.get_by_label("Region").select_option(label="Karaganda Region")
    await create.get_by_label("Care level").select_option(label="Secondary")
    await page.get_by_role("button", name="Add facility").click()
    await check(page.get_by_text("Shet District Hospital is added.")).to_be_visible()
    await check(page.get_by_role("row", name=re.compile("Shet District Hospital"))).to_contain_text(
        "Secondary"
    )
    await check(page.get_by_role("columnheader", name="ID")).to_have_count(0)
    await tab.shot("facilities")

    await page.get_by_role("link", name="Users").click()
    new_user = page.locator("section[aria-labelledby=new-user]")
    await new_user.get_by_label("Username").fill("dr.abenova")
    await new_user.get_by_label("Password").fill("short")
    await new_user.get_by_label("Full name").fill("Dr Saule Abenova")
    await new_user.get_by_label("Role").select_option(label="Specialist")
    await new_user.get_by_label("Facility").select_option(
        label="Shet District Hospital (Karaganda Region)"
    )
    await new_user.get_by_label("Neurology").check()
    await page.get_by_role("button", name="Create user").click()
    await check(new_user.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    await new_user.get_by_label("Password").fill("a long enough password")
    await page.get_by_role("button", name="Create user").click()
    await check(
        page.get_by_text(re.compile(r"Created Dr Saule Abenova \(dr\.abenova\), Specialist"))
    ).to_be_visible()
    # The new account is in the list at once.
    users = page.locator("section[aria-labelledby=all-users] tbody tr")
    await check(users.filter(has_text="dr.abenova")).to_have_count(1)
    await tab.shot("users")
    specialist = await factories.login(client, "dr.abenova", "a long enough password")
    assert specialist.user["role"] == Role.specialist
    assert specialist.user["specialties"] == ["neurology"]
    tab.assert_clean()


# --- consent requests on the real endpoints ----------------------------------------------------


def sent_codes(client: Any) -> DevelopmentNotifier:
    notifier = client.app[NOTIFIER]
    assert isinstance(notifier, DevelopmentNotifier)
    return notifier


async def next_code(codes: DevelopmentNotifier, before: int) -> tuple[str, str]:
    """The (request id, code) of the first code sent after ``before`` codes, once it is sent."""
    for _ in range(200):
        if len(codes.sent) > before:
            sent = list(codes.sent)[before]
            return str(sent.request_id), sent.code
        await asyncio.sleep(0.05)
    raise AssertionError("no consent code was sent")


async def test_patient_approves_the_booking_request_and_the_specialist_works_in_the_passport(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    status, record = await w.gp.get(f"/patients/{w.patient_id}")
    assert status == 200, record
    check = expect()

    # The GP books a video consultation from the page.
    gp = await open_page("consent-gp")
    await gp.login(username(w.gp))
    await gp.page.get_by_label("Name or IIN").fill(record["iin"])
    await gp.page.get_by_role("button", name="Search").click()
    await gp.page.get_by_role("link", name=record["full_name"]).click()
    await gp.page.get_by_label("Specialty").select_option(label="Cardiology")
    await gp.page.get_by_label("Reason for referral").fill("Raised blood pressure at home")
    await gp.page.get_by_role("button", name="Book consultation").click()
    await check(gp.page.locator("form.booking .notice.success")).to_contain_text(
        "Booked: Cardiology"
    )
    status, booked = await w.gp.get("/consultations")
    assert status == 200, booked
    assert len(booked["items"]) == 1

    # The specialist may not read the passport yet; the page says why and what to do.
    spec = await open_page("consent-specialist")
    await spec.login(username(w.specialist))
    calls = spec.page.locator("li.consultation")
    await check(calls).to_have_count(1)
    await calls.first.get_by_role("button", name="Open the passport").click()
    passport = spec.page.locator("section.passport")
    await check(passport.get_by_role("heading", name="Health passport")).to_be_focused()
    await check(passport.get_by_role("alert")).to_contain_text(
        "You have no consent to see or change this patient's health passport."
    )
    await check(passport).to_contain_text("The patient approves in their account.")
    await check(passport).to_contain_text("A code at the point of care.")
    await check(passport.get_by_role("button", name="Send code to patient")).to_be_visible()
    glass = passport.locator(".break-glass")
    await check(glass).to_contain_text("audit log")
    await check(glass).to_contain_text("shown to the patient")
    await check(glass.get_by_label("Reason for emergency access")).to_be_visible()
    await check(passport.locator("li.entry")).to_have_count(0)
    await spec.shot("passport-refused")

    # The patient approves the waiting request in their page.
    pat = await open_page("consent-patient")
    await pat.login(username(patient))
    await pat.page.get_by_role("link", name="Consents").click()
    waiting = pat.page.locator(
        "section", has=pat.page.get_by_role("heading", name="Requests waiting for you")
    ).locator("li.consent-request")
    await check(waiting).to_have_count(1)
    # The patient sees who would get access, who asks, and for which consultation.
    await check(waiting.first).to_contain_text("Test specialist (Cardiology specialist, Clinic ")
    await check(waiting.first).to_contain_text(
        re.compile(r"Your Cardiology video call on (4 Mar|Mar 4,) 2030, 09:00")
    )
    await check(waiting.first).to_contain_text("by Test gp (General practitioner, Clinic ")
    await check(waiting.first).to_contain_text("Read and write")
    # Until 72 hours after the 09:00-09:20 call, in the browser's UTC+5.
    await check(waiting.first).to_contain_text(re.compile(r"7 Mar 2030|Mar 7, 2030"))
    await check(waiting.first).to_contain_text("09:20")
    grants = pat.page.locator("li.consent")
    await check(grants).to_have_count(0)
    await pat.shot("request-waiting")
    await pat.page.set_viewport_size({"width": 390, "height": 844})
    await pat.shot("request-waiting-mobile")
    await pat.page.set_viewport_size({"width": 1280, "height": 900})
    await waiting.first.get_by_role("button", name="Approve").click()
    await check(waiting).to_have_count(0)
    await check(pat.page.get_by_text("No requests are waiting for you.")).to_be_visible()
    await check(grants).to_have_count(1)
    await check(grants.first).to_contain_text("Test specialist")
    await check(grants.first).to_contain_text("Active")
    await check(grants.first).to_contain_text("Read and write")
    await pat.shot("request-approved")

    # The specialist starts the call, writes a note with I10 and reads it in the passport.
    clock.set(DAY_START - timedelta(minutes=10))
    await spec.page.clock.set_fixed_time(DAY_START - timedelta(minutes=10))
    await spec.page.get_by_role("tab", name="Today").click()
    await calls.first.get_by_role("button", name="Start").click()
    await check(calls.first).to_contain_text("In progress")
    await calls.first.get_by_role("button", name="Write in the passport").click()
    editor = spec.page.locator("section.editor")
    await editor.get_by_label("Note", exact=True).fill(
        "Essential hypertension; start lifestyle measures."
    )
    icd = editor.get_by_role("combobox", name="ICD-10 diagnoses")
    await icd.press_sequentially("hypertension")
    await check(editor.get_by_role("option").first).to_contain_text("I10")
    await icd.press("Enter")
    await editor.get_by_role("button", name="Save the note").click()
    await check(editor.locator(".notice.success")).to_contain_text("Saved to the passport")
    await calls.first.get_by_role("button", name="Open the passport").click()
    entries = passport.locator("li.entry")
    await check(entries).to_have_count(2)
    note = entries.filter(has_text="Note")
    await check(note).to_contain_text("Essential hypertension; start lifestyle measures.")
    await check(note).to_contain_text("I10")
    await check(note).to_contain_text("this consultation")
    await check(entries.filter(has_text="Diagnosis")).to_contain_text("I10")
    status, page = await w.specialist.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, page
    # The entry's hash is a technical detail: shown when asked for.
    await check(note.locator("details.technical code")).to_be_hidden()
    await note.locator("details.technical summary").click()
    await check(note.locator("details.technical code")).to_have_text(page["items"][0]["hash"][:8])
    await check(passport.locator(".break-glass")).to_be_hidden()
    await passport.get_by_role("button", name="Check integrity").click()
    await check(passport.get_by_role("status").filter(has_text="intact")).to_contain_text(
        "2 entries"
    )
    await spec.shot("passport-read")
    for tab in (gp, spec, pat):
        tab.assert_clean()


async def test_gp_confirms_consent_with_a_code_at_the_point_of_care(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    status, booked = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Syncope"},
    )
    assert status == 201, booked
    codes = sent_codes(client)
    tab = await open_page("consent-code")
    page, check = tab.page, expect()
    await tab.login(username(w.gp))
    await page.get_by_role("link", name="My consultations").click()
    item = page.locator("li.consultation").first
    await item.get_by_role("button", name="Patient consent").click()
    panel = item.locator(".consent-panel")
    await check(panel).to_contain_text(
        "to work on the health passport: Test specialist (Cardiology specialist, Clinic "
    )
    await check(panel).to_contain_text("approve or decline it in their own account")
    await check(panel.get_by_role("status")).to_contain_text(
        "The consent request is waiting for the patient"
    )
    code_box = panel.get_by_label("6-digit code from the patient")
    await check(code_box).to_be_hidden()

    sent = len(codes.sent)
    await panel.get_by_role("button", name="Send code to patient").click()
    request_id, right = await next_code(codes, sent)
    await check(panel.get_by_role("status")).to_contain_text("A code was sent")
    await check(code_box).to_be_focused()
    # The code is for the request the booking made, not a second one.
    status, requests = await w.gp.get(f"/consultations/{booked['id']}/consent-requests")
    assert status == 200, requests
    assert [r["id"] for r in requests["items"]] == [request_id]
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    # Too short: caught on the page. Wrong: the server counts the attempts down.
    await code_box.fill("12")
    await panel.get_by_role("button", name="Confirm").click()
    await check(panel.get_by_role("alert")).to_contain_text("6 digits")
    await check(code_box).to_have_attribute("aria-invalid", "true")
    for left in (4, 3, 2, 1):
        await code_box.fill(wrong)
        await panel.get_by_role("button", name="Confirm").click()
        await check(panel.get_by_role("alert")).to_contain_text(
            f"Wrong code; {left} attempt{'' if left == 1 else 's'} left."
        )
    await check(code_box).to_have_attribute("aria-invalid", "true")
    await tab.shot("code-wrong")
    # The fifth wrong code locks the request: no new code for it gives more tries.
    await code_box.fill(wrong)
    await panel.get_by_role("button", name="Confirm").click()
    await check(panel.get_by_role("alert")).to_contain_text("locked after too many wrong codes")
    await check(code_box).to_be_hidden()
    await tab.shot("code-locked")

    # Asking again makes a new request; ten minutes after its code was sent, it has expired.
    clock.set(NOW + timedelta(minutes=1))
    sent = len(codes.sent)
    await panel.get_by_role("button", name="Send code to patient").click()
    again, right = await next_code(codes, sent)
    assert again != request_id  # a new request, with a code of its own
    await check(panel.get_by_role("status")).to_contain_text("A code was sent")
    clock.set(NOW + timedelta(minutes=12))
    await code_box.fill(right)
    await panel.get_by_role("button", name="Confirm").click()
    await check(panel.get_by_role("alert")).to_contain_text("The code has expired")

    sent = len(codes.sent)
    await panel.get_by_role("button", name="Send a new code").click()
    _, right = await next_code(codes, sent)
    await check(panel.get_by_role("status")).to_contain_text("works until")
    await code_box.fill(right)
    await panel.get_by_role("button", name="Confirm").click()
    await check(panel.get_by_role("status")).to_contain_text("Consent given")
    await check(code_box).to_be_hidden()
    await check(panel.get_by_role("button", name="Send a new code")).to_be_hidden()
    await check(panel.get_by_role("button", name="Withdraw request")).to_be_hidden()
    await tab.shot("code-confirmed")
    # Reopening the panel (or another tab) shows the same answer: it comes from the server.
    await item.get_by_role("button", name="Patient consent").click()
    await item.get_by_role("button", name="Patient consent").click()
    await check(item.locator(".consent-panel").get_by_role("status")).to_contain_text(
        "Consent given"
    )
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.shot("code-mobile")

    # The specialist now reads the passport; the grant came from the code.
    status, body = await w.specialist.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, body
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    status, grants = await patient.get(f"/patients/{w.patient_id}/consents")
    assert status == 200, grants
    [grant] = grants["items"]
    assert grant["source"] == "one_time_code"
    assert grant["grantee_user_id"] == w.specialist.id
    assert grant["access"] == "read_write"
    # The patient revokes it: the GP's panel says so and offers to ask again.
    status, _ = await patient.post(f"/patients/{w.patient_id}/consents/{grant['id']}/revoke")
    assert status == 200
    await item.get_by_role("button", name="Patient consent").click()
    await item.get_by_role("button", name="Patient consent").click()
    panel = item.locator(".consent-panel")
    await check(panel.locator(".notice.warning")).to_contain_text("revoked or has ended")
    await check(panel.get_by_role("button", name="Send code to patient")).to_be_visible()
    tab.assert_clean()


async def test_patient_declines_and_the_gp_sees_it_and_asks_again(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    status, booked = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"},
    )
    assert status == 201, booked
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    check = expect()

    pat = await open_page("decline-patient")
    await pat.login(username(patient))
    await pat.page.get_by_role("link", name="Consents").click()
    waiting = pat.page.locator(
        "section", has=pat.page.get_by_role("heading", name="Requests waiting for you")
    ).locator("li.consent-request")
    await check(waiting).to_have_count(1)
    await waiting.first.get_by_role("button", name="Decline").click()
    await check(waiting).to_have_count(0)
    await check(pat.page.get_by_role("status").first).to_contain_text("Declined")
    status, requests = await w.gp.get(f"/consultations/{booked['id']}/consent-requests")
    [(booked_request, declined)] = [(r["id"], r["status"]) for r in requests["items"]]
    assert declined == "declined"

    clock.advance(minutes=5)
    gp = await open_page("decline-gp")
    await gp.login(username(w.gp))
    await gp.page.get_by_role("link", name="My consultations").click()
    item = gp.page.locator("li.consultation").first
    await item.get_by_role("button", name="Patient consent").click()
    panel = item.locator(".consent-panel")
    await check(panel.locator(".notice.warning")).to_contain_text("declined by the patient")
    await check(panel.get_by_role("button", name="Withdraw request")).to_be_hidden()
    # Asking again makes a new request for this consultation; the GP can withdraw it.
    codes = sent_codes(client)
    sent = len(codes.sent)
    await panel.get_by_role("button", name="Send code to patient").click()
    request_id, _ = await next_code(codes, sent)
    await check(panel.get_by_role("status")).to_contain_text("A code was sent")
    await panel.get_by_role("button", name="Withdraw request").click()
    await check(panel.get_by_role("status")).to_contain_text(
        "The last consent request was withdrawn"
    )
    await gp.shot("request-withdrawn")
    status, requests = await w.gp.get(f"/consultations/{booked['id']}/consent-requests")
    assert [(r["id"], r["status"]) for r in requests["items"]] == [
        (request_id, "withdrawn"),
        (booked_request, "declined"),
    ]
    for tab in (pat, gp):
        tab.assert_clean()


async def test_specialist_opens_and_ends_emergency_access(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    status, booked = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Collapse"},
    )
    assert status == 201, booked
    tab = await open_page("break-glass")
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    await (
        page.locator("li.consultation")
        .first.get_by_role("button", name="Open the passport")
        .click()
    )
    passport = page.locator("section.passport")
    glass = passport.locator(".break-glass")
    reason = glass.get_by_label("Reason for emergency access")
    await reason.fill("Unconscious")
    await glass.get_by_role("button", name="Open emergency access").click()
    await check(reason).to_have_attribute("aria-invalid", "true")
    await check(glass.get_by_role("alert")).to_contain_text("at least 20 characters")
    await reason.fill("Patient unconscious after collapse; allergies unknown")
    await glass.get_by_role("button", name="Open emergency access").click()
    await check(glass.get_by_role("status")).to_contain_text("Emergency access is open until")
    await check(passport.get_by_text("The passport has no entries yet.")).to_be_visible()
    await check(glass).to_be_visible()  # the open session and its end stay in view
    await check(reason).to_be_hidden()  # one session at a time
    await tab.shot("open")
    await glass.get_by_role("button", name="End emergency access").click()
    await check(glass.get_by_role("status")).to_contain_text("Emergency access has ended")
    await check(passport.locator(".refusal")).to_be_visible()
    await check(reason).to_be_visible()
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.shot("mobile")

    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    status, log = await patient.get(f"/patients/{w.patient_id}/access-log")
    assert status == 200, log
    actions = [e["action"] for e in log["items"]]
    assert "break_glass.start" in actions
    assert "break_glass.end" in actions
    tab.assert_clean()

    # An administrator reviews it: who, whose passport, why, and that it has ended.
    review = await open_page("break-glass-review")
    await review.login(username(w.admin))
    await review.page.get_by_role("link", name="Emergency access").click()
    sessions = review.page.locator("tbody tr")
    await check(sessions).to_have_count(1)
    await check(sessions.first).to_contain_text("Test specialist (Cardiology specialist, Clinic ")
    await check(sessions.first).to_contain_text(
        "Patient unconscious after collapse; allergies unknown"
    )
    # Whose passport, by name: no record id.
    await check(sessions.first).to_contain_text("Test Patient")
    await check(sessions.first).not_to_contain_text(w.patient_id[:8])
    await review.assert_translated()
    await check(sessions.first).to_contain_text("Ended")
    await review.shot("admin-list")
    # What was done under it: the patient's access log, a click away.
    await sessions.first.get_by_role("button", name="Access log").click()
    log = review.page.locator("tr.detail")
    await check(log.locator("tbody tr").filter(has_text="Opened emergency access")).to_contain_text(
        "Test specialist (Cardiology specialist, Clinic "
    )
    read = log.locator("tbody tr").filter(has_text="Opened the health passport").first
    await check(read).to_contain_text("Emergency access")
    await check(read).to_contain_text("Patient unconscious after collapse")
    await review.shot("admin-log")
    await sessions.first.get_by_role("button", name="Access log").click()
    await check(log).to_have_count(0)
    review.assert_clean()
