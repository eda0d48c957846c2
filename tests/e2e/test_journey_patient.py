"""The patient's journey through the pages, in Kazakh, Russian and English: sign in, my
consultations (when the call opens, then the join button; the conclusion afterwards), the
passport as the GP sees it, giving and revoking access, the requests (a locked one too) and
the access log in plain words. Each page is checked translated, with no raw id, and clean
(no console error, no Content-Security-Policy violation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from teleconsult.appkeys import NOTIFIER
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, NOW, expect, username  # noqa: E402


async def _world(client: Any, database: Any) -> Any:
    """A video call at 09:00 local, a written case the specialist works, a request locked
    after five wrong codes, all made through the API."""
    w = await factories.world(client, database.engine)
    w.patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    await factories.availability(w.specialist, DAY_START, hours=2)
    status, w.call = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"},
    )
    assert status == 201, w.call
    status, w.case = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "reason": "High blood pressure",
        },
    )
    assert status == 201, w.case
    status, body = await w.specialist.post(f"/consultations/{w.case['id']}/claim")
    assert status == 200, body
    status, request = await w.gp.post(
        f"/patients/{w.patient_id}/consent-requests",
        {
            "grantee_user_id": w.gp.id,
            "access": "read",
            "expires_at": (NOW + timedelta(days=3)).isoformat(),
        },
    )
    assert status == 201, request
    code = client.app[NOTIFIER].code_for(request["id"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        status, body = await w.gp.post(
            f"/consent-requests/{request['id']}/confirm", {"code": wrong}
        )
    assert status == 409, body
    return w


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_patients_journey(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    w = await _world(client, database)
    # In Russian the whole journey is on a phone's 390 px.
    width = 390 if language == "ru" else 1280
    tab = await open_page(f"journey-patient-{language}", language=language, width=width)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.patient))

    # My consultations: the call opens at 08:45 local (15 minutes before 09:00, UTC+5).
    await check(page.get_by_role("heading", name=t("patient.nav.consultations"))).to_be_visible()
    upcoming = page.locator(
        "section", has=page.get_by_role("heading", name=t("patient.mine.upcoming"))
    )
    items = upcoming.locator("li.patient-consultation")
    await check(items).to_have_count(2)
    video = upcoming.locator("li[data-status=scheduled]")
    opens = t("patient.mine.opens_at").split("{time}")
    await check(video.locator(".call-state")).to_contain_text(opens[0].strip())
    await check(video.locator(".call-state")).to_contain_text("08:45")
    await check(video).to_contain_text("Test specialist")
    await check(video.get_by_role("link", name=t("patient.mine.join"))).to_have_count(0)
    await tab.assert_translated()
    await tab.shot("consultations")

    # Consents: two requests from the specialist wait; the patient approves one with the
    # keyboard and declines the other; the locked request is shown with what it means.
    await page.get_by_role("link", name=t("patient.nav.consents")).click()
    waiting = page.locator(
        "section", has=page.get_by_role("heading", name=t("patient.requests.waiting"))
    ).locator("li.consent-request")
    await check(waiting).to_have_count(2)
    await check(waiting.first).to_contain_text("Test specialist")
    await check(waiting.first).to_contain_text(t("patient.access.read_write"))
    earlier = page.locator(
        "section", has=page.get_by_role("heading", name=t("patient.requests.earlier"))
    ).locator("li.consent-request")
    await check(earlier).to_have_count(1)
    await check(earlier.first).to_contain_text(t("patient.requests.status.locked"))
    await check(earlier.first).to_contain_text(t("patient.requests.explain.locked"))
    await check(earlier.first).to_contain_text("Test gp")
    await tab.assert_translated()
    await tab.shot("consents-requests")
    approve = waiting.first.get_by_role("button", name=t("patient.requests.approve"))
    await approve.focus()
    await page.keyboard.press("Enter")
    await check(waiting).to_have_count(1)
    await waiting.first.get_by_role("button", name=t("patient.requests.decline")).click()
    await check(waiting).to_have_count(0)
    await check(page.get_by_text(t("patient.requests.none_waiting"))).to_be_visible()
    grants = page.locator("li.consent")
    await check(grants).to_have_count(1)
    await check(grants.first).to_contain_text(t("patient.consents.state.active"))

    # A doctor not chosen: said next to the field, in the page's language.
    await page.get_by_role("radio", name=t("patient.consents.kind.user")).check()
    await page.get_by_role("button", name=t("patient.consents.grant")).click()
    doctor = page.get_by_role("combobox", name=t("patient.consents.doctor"), exact=True)
    await check(doctor).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field", has=doctor).locator(".field-error")
    await check(error).to_have_text(t("field.missing"))
    await tab.assert_translated()
    await page.get_by_role("radio", name=t("patient.consents.kind.facility")).check()

    # Give a clinic read access to notes only, then revoke it.
    await page.get_by_role("combobox", name=t("patient.consents.facility")).select_option(index=1)
    await page.get_by_label(t("patient.category.notes"), exact=True).check()
    await page.get_by_role("button", name=t("patient.consents.grant")).click()
    await check(page.get_by_text(t("patient.consents.granted"))).to_be_visible()
    await check(error).to_be_hidden()
    await check(grants).to_have_count(2)
    given = grants.filter(has_not_text="Test specialist")
    await check(given).to_contain_text(t("patient.access.read"))
    await check(given).to_contain_text(t("patient.category.notes"))
    await tab.assert_translated()
    await tab.shot("consents")
    await given.get_by_role("button", name=t("patient.consents.revoke")).click()
    await check(given).to_contain_text(t("patient.consents.state.revoked"))
    await check(given.get_by_role("button", name=t("patient.consents.revoke"))).to_have_count(0)

    # The specialist writes a note with a diagnosis and a prescription, and completes the case.
    status, body = await w.specialist.post(
        f"/consultations/{w.case['id']}/notes",
        {"text": "Hypertension, stage 1.", "diagnoses": ["I10"]},
    )
    assert status == 201, body
    status, body = await w.specialist.post(
        f"/consultations/{w.case['id']}/prescriptions",
        {
            "medication": "Amlodipine",
            "dose": "5 mg",
            "route": "oral",
            "frequency": "once daily",
            "duration_days": 30,
        },
    )
    assert status == 201, body
    status, body = await w.specialist.post(
        f"/consultations/{w.case['id']}/complete",
        {"conclusion": "Essential hypertension. Amlodipine 5 mg daily; review in 3 months."},
    )
    assert status == 200, body
    status, body = await w.specialist.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, body

    # The passport as the GP sees it: the note with its diagnosis, the prescription in a line.
    await page.get_by_role("link", name=t("patient.nav.passport")).click()
    entries = page.locator("li.entry")
    await check(entries.nth(1)).to_be_visible()
    await check(page.locator("main")).to_contain_text("Hypertension, stage 1.")
    await check(page.locator("main")).to_contain_text(
        {
            "en": "I10 Essential (primary) hypertension",
            "kk": "I10 Эссенциалды (біріншілік) гипертензия",
            "ru": "I10 Эссенциальная (первичная) гипертензия",
        }[language]
    )
    await check(page.locator("main")).to_contain_text("Amlodipine 5 mg")
    await check(entries.first).to_contain_text(
        t("patient.passport.written_by", person="Test specialist")
    )
    await page.get_by_role("button", name=t("patient.passport.verify")).click()
    await check(page.locator(".notice.success")).to_be_visible()
    await tab.assert_translated()
    await tab.shot("passport")

    # Past, with the conclusion; at 08:50 the call is open and the invited patient joins.
    await page.get_by_role("link", name=t("patient.nav.consultations")).click()
    past = page.locator("section", has=page.get_by_role("heading", name=t("patient.mine.past")))
    await check(past.locator("li.patient-consultation")).to_have_count(1)
    await check(past).to_contain_text(t("patient.mine.conclusion"))
    await check(past).to_contain_text("review in 3 months")
    status, body = await w.gp.post(
        f"/consultations/{w.call['id']}/call/options", {"invite_patient": True}
    )
    assert status == 200, body
    clock.set(DAY_START - timedelta(minutes=10))
    await page.clock.set_fixed_time(DAY_START - timedelta(minutes=10))
    await page.reload()
    join = upcoming.get_by_role("link", name=t("patient.mine.join"))
    await check(join).to_be_visible()
    assert (await join.get_attribute("href")).endswith(w.call["id"])
    await tab.assert_translated()
    await tab.shot("consultations-join")
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.shot("consultations-mobile")
    await page.set_viewport_size({"width": width, "height": 900})

    # The access log in plain words: who, what, until when, why; ids only when asked for.
    await page.get_by_role("link", name=t("patient.nav.access_log")).click()
    rows = page.locator("tbody tr")
    await check(rows.first).to_be_visible()
    given_row = rows.filter(has_text=t("patient.log.event.consent_grant")).filter(
        has_not_text="Test specialist"
    )
    await check(given_row).to_have_count(1)
    await check(given_row).to_contain_text(t("patient.category.notes"))
    await check(given_row).to_contain_text(t("patient.log.via.portal"))
    read = rows.filter(has_text=t("patient.log.event.passport_read")).filter(
        has_text="Test specialist"
    )
    await check(read.first).to_contain_text(t("patient.log.basis.consent"))
    locked = rows.filter(has_text=t("patient.log.event.consent_request_locked"))
    await check(locked).to_have_count(1)
    await check(locked).to_contain_text("Test gp")
    await tab.assert_translated()
    await tab.shot("access-log")
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.shot("access-log-mobile")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    # The technical record shows when asked for.
    await given_row.locator("summary").click()
    await check(given_row.locator("details code")).to_contain_text("grant ")
    tab.assert_clean()
