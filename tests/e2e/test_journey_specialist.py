"""The specialist's journey through the pages, in Kazakh, Russian and English: the queue's
tabs, availability (weekly hours, leave, removing a window), a note with an ICD-10 code picked
from the list, and completing with a conclusion after confirming."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from teleconsult.coding.models import CodingFeedback
from tests import factories
from tests.e2e.browsing import DAY_START, NOW, expect, username

NOTE = "Paroxysmal atrial fibrillation, ectopics."

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("language", ["en", "kk", "ru"])
async def test_specialist_journey(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    tomorrow = await factories.availability(w.specialist, DAY_START + timedelta(days=1), hours=1)
    booking = {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"}
    status, call = await w.gp.post("/consultations", booking)
    assert status == 201, call
    status, case = await w.gp.post(
        "/consultations",
        {**booking, "mode": "async", "urgency": "urgent", "reason": "Holter report to read"},
    )
    assert status == 201, case

    # In Russian the whole journey is on a phone's 390 px.
    width = 390 if language == "ru" else 1280
    tab = await open_page("specialist", language=language, width=width)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.specialist))
    await check(page.get_by_role("heading", name=t("spec.nav.queue"))).to_be_visible()
    items = page.locator("li.consultation")
    await check(items).to_have_count(2)
    # The urgent written case first, told by age, sex and region, never by a record id.
    await check(items.first).to_contain_text(t("spec.urgency.urgent"))
    await check(items.first).to_contain_text(t("spec.sex.female"))
    await check(items.first).not_to_contain_text(w.patient_id[:8])
    # 08:00 now; the 09:00 call opens at 08:45, and there is no way into it before then.
    await check(items.nth(1)).to_contain_text(t("spec.queue.call_opens", time="08:45"))
    await check(items.nth(1).get_by_role("link", name=t("spec.action.join"))).to_have_count(0)
    await tab.assert_translated()
    await tab.shot(f"queue-{language}")

    # The tabs: arrows move between them; each says when it is empty.
    await page.get_by_role("tab", name=t("spec.queue.tab_today")).focus()
    await page.keyboard.press("ArrowRight")
    upcoming = page.get_by_role("tab", name=t("spec.queue.tab_upcoming"))
    await check(upcoming).to_have_attribute("aria-selected", "true")
    await check(upcoming).to_be_focused()
    await check(page.get_by_text(t("spec.queue.empty_upcoming"))).to_be_visible()
    await page.get_by_role("tab", name=t("spec.queue.tab_past")).click()
    await check(page.get_by_text(t("spec.queue.empty_past"))).to_be_visible()
    await tab.assert_translated()

    # Availability: weekly hours on Tuesdays, leave refused when it ends before it starts,
    # then a free window removed.
    await page.get_by_role("link", name=t("spec.nav.availability")).click()
    await check(
        page.get_by_role("heading", name=t("spec.avail.weekly"), exact=True)
    ).to_be_visible()
    weekly = page.locator(
        "section", has=page.get_by_role("heading", name=t("spec.avail.weekly"), exact=True)
    )
    await weekly.get_by_label(t("spec.avail.weekday")).select_option("1")
    await weekly.get_by_label(t("spec.avail.from")).fill("14:00")
    await weekly.get_by_label(t("spec.avail.to")).fill("15:00")
    await weekly.get_by_label(t("spec.avail.slot_minutes")).fill("30")
    await weekly.get_by_role("button", name=t("spec.avail.add_weekly")).click()
    await check(weekly.get_by_role("status")).to_be_visible()
    await check(weekly.locator(".hour-item")).to_have_count(1)
    await check(weekly.locator(".hour-item")).to_contain_text(
        t("spec.avail.weekly_item", day=t("spec.weekday.1"), **{"from": "14:00"}, to="15:00").split(
            ","
        )[0]
    )
    await check(weekly.locator(".hour-item")).to_contain_text("14:00–15:00")

    leave = page.locator(
        "section", has=page.get_by_role("heading", name=t("spec.avail.leave"), exact=True)
    )
    await leave.get_by_label(t("spec.avail.first_day")).fill("2030-03-20")
    await leave.get_by_label(t("spec.avail.last_day")).fill("2030-03-10")
    await leave.get_by_role("button", name=t("spec.avail.add_leave")).click()
    last_day = leave.get_by_label(t("spec.avail.last_day"))
    await check(last_day).to_have_attribute("aria-invalid", "true")
    await check(leave).to_contain_text(t("field.ends_before_starts"))
    await last_day.fill("2030-03-21")
    await check(leave).not_to_contain_text(t("field.ends_before_starts"))
    await leave.get_by_role("button", name=t("spec.avail.add_leave")).click()
    await check(leave.locator(".hour-item")).to_have_count(1)
    await tab.assert_translated()
    await tab.shot(f"availability-{language}")
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await tab.shot(f"availability-mobile-{language}")
    await page.set_viewport_size({"width": width, "height": 900})

    windows = page.locator(
        "section", has=page.get_by_role("heading", name=t("spec.avail.windows"), exact=True)
    )
    today_window = windows.locator(".window").first
    await check(today_window).to_have_attribute("data-booked", "1")
    await today_window.get_by_role("button", name=re.compile(t("spec.avail.remove"))).click()
    await check(windows.get_by_role("alert")).to_contain_text(t("error.window_has_bookings"))
    free = windows.locator(".window", has_text="09:00").nth(1)
    before = await windows.locator(".window").count()
    await free.get_by_role("button", name=re.compile(t("spec.avail.remove"))).click()
    await check(windows.locator(".window")).to_have_count(before - 1)
    status, slots = await w.specialist.get(
        "/slots", specialist_id=w.specialist.id, **{"from": tomorrow["starts_at"]}
    )
    assert tomorrow["starts_at"] not in {s["starts_at"] for s in slots["items"]}

    # Back in the queue: take the written case and write a note with a code from the list.
    await page.get_by_role("link", name=t("spec.nav.queue")).click()
    case_item = page.locator("li.consultation", has_text="Holter report to read")
    await case_item.get_by_role("button", name=t("spec.action.claim")).click()
    await check(case_item).to_contain_text(t("spec.status.in_progress"))
    await case_item.get_by_role("button", name=t("spec.action.write")).click()
    editor = page.locator("section.editor")
    await check(editor.get_by_role("heading", name=t("spec.editor.title"))).to_be_focused()
    await editor.get_by_label(t("spec.editor.note"), exact=True).fill(NOTE)
    # Codes are suggested from the note; the specialist adds one with a click.
    suggested = editor.get_by_role("region", name=t("coding.suggest.title"))
    first = suggested.get_by_role("listitem").first
    await check(first).to_contain_text("I48")
    await first.get_by_role("button", name=t("coding.suggest.add")).click()
    await check(editor.locator(".chip").first).to_contain_text("I48")
    combo = editor.get_by_role("combobox", name=t("spec.editor.diagnoses"))
    await combo.press_sequentially("I49")
    options = editor.get_by_role("option")
    await check(options.first).to_be_visible()
    await check(combo).to_have_attribute("aria-expanded", "true")
    await combo.press("ArrowDown")
    picked = (await options.nth(1).text_content() or "").split(" ")[0]
    await combo.press("Enter")
    await check(editor.locator(".chip").last).to_contain_text(picked)
    await tab.assert_translated()
    await tab.shot(f"editor-{language}")
    # Without the patient's consent nothing is saved, and the note stays to send again.
    await editor.get_by_role("button", name=t("spec.editor.save_note")).click()
    await check(editor.get_by_role("alert")).to_contain_text(t("spec.editor.no_consent"))
    await check(editor.get_by_label(t("spec.editor.note"), exact=True)).to_have_value(NOTE)
    await check(editor.locator(".chip").last).to_contain_text(picked)
    patient = await factories.user(w.admin, "patient", patient_id=w.patient_id)
    status, body = await patient.post(
        f"/patients/{w.patient_id}/consents",
        {
            "access": "read_write",
            "grantee_user_id": w.specialist.id,
            "expires_at": (NOW + timedelta(days=1)).isoformat(),
        },
    )
    assert status == 201, body
    await editor.get_by_role("button", name=t("spec.editor.save_note")).click()
    saved = editor.locator("form.note-form .notice.success")
    await check(saved).to_have_text(t("spec.editor.saved_as", seq=1))
    await check(editor.get_by_label(t("spec.editor.note"), exact=True)).to_have_value("")
    # What was suggested and what was chosen is kept with the note (codes, never its text).
    async with database.engine.connect() as conn:
        kept = (await conn.execute(select(CodingFeedback.suggested, CodingFeedback.chosen))).all()
    [(offered, chosen)] = kept
    assert offered and offered[0].startswith("I48"), offered
    assert chosen == [offered[0], picked], (offered, chosen)
    # The next note starts with nothing suggested.
    await check(suggested.get_by_role("listitem")).to_have_count(0)

    # Completing: a conclusion is required (the field says so), the person confirms.
    await case_item.get_by_role("button", name=t("spec.action.complete")).click()
    conclusion = case_item.get_by_label(t("spec.complete.conclusion"))
    await check(conclusion).to_be_focused()
    await case_item.get_by_role("button", name=t("spec.complete.submit")).click()
    await check(conclusion).to_have_attribute("aria-invalid", "true")
    await check(case_item).to_contain_text(t("field.missing"))
    await conclusion.fill("Benign ectopics; no treatment.")
    await case_item.get_by_role("button", name=t("spec.complete.submit")).click()
    await check(case_item).to_contain_text(t("spec.status.completed"))
    await page.get_by_role("tab", name=t("spec.queue.tab_past")).click()
    past = page.locator("li.consultation")
    await check(past).to_have_count(1)
    await check(past.first).to_contain_text("Benign ectopics; no treatment.")
    await tab.assert_translated()
    tab.assert_clean()


async def test_the_camera_stays_off_until_the_call_opens(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    call = await factories.booked_call(w, DAY_START, "Palpitations")
    tab = await open_page("specialist-early")
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    # Count every request for the camera the call page makes.
    await page.add_init_script(
        """(() => {
          window.__cameraAsked = 0;
          const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
          navigator.mediaDevices.getUserMedia = (c) => { window.__cameraAsked++; return ask(c); };
        })()"""
    )
    # 08:00: the 09:00 call opens at 08:45; the waiting room says so and the camera is never asked.
    await page.goto(f"{tab.base_url}static/call.html?consultation={call['id']}")
    await check(page.locator("body")).to_have_attribute("data-call-state", "not-open")
    await check(page.locator("#opens-at")).to_be_visible()
    await check(page.locator("#opens-at")).to_contain_text("08:45")
    assert await page.evaluate("window.__cameraAsked") == 0
    assert await page.evaluate("document.getElementById('local').srcObject") is None


@pytest.mark.parametrize("language", ["ru"])
async def test_the_queue_is_paged(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)

    async def book(n: int) -> None:
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": w.patient_id,
                "specialty": "cardiology",
                "mode": "async",
                "reason": f"Written case {n:02d}",
            },
        )
        assert status == 201, body

    for n in range(21):
        await book(n)
    tab = await open_page("specialist-paged", language=language, width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.specialist))
    items = page.locator("li.consultation")
    await check(items).to_have_count(20)
    more = page.get_by_role("button", name=t("spec.queue.more"))

    # A live refresh arriving while "Show more" is loading drops neither: the second page is
    # held, a new case is booked meanwhile (its event reloads the queue), then released.
    release = asyncio.Event()

    async def held(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/api/v1/queue?*cursor=*", held)
    await more.click()
    await book(21)
    await asyncio.sleep(1)  # the event arrives and its reload waits behind the held page
    release.set()
    await check(items).to_have_count(22)
    await check(more).to_be_hidden()
    reasons = {(await i.locator(".reason").text_content() or "").strip() for i in await items.all()}
    assert reasons == {f"Written case {n:02d}" for n in range(22)}, reasons
    await tab.assert_translated()
    tab.assert_clean()
