"""The administrator's journey through the pages, in Kazakh, Russian and English: statistics
by specialty and by region, users (search, disable, enable, a one-time reset link), a
patient's account made from the patient, and a facility renamed in three languages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, NOW, expect, username  # noqa: E402

NEW_PASSWORD = "a brand new passphrase"


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_admin_journey(client: Any, database: Any, open_page: Any, language: str) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    for reason in ("One", "Two"):
        status, body = await w.gp.post(
            "/consultations",
            {"patient_id": w.patient_id, "specialty": "cardiology", "reason": reason},
        )
        assert status == 201, body
    # In Kazakh the whole journey is on a phone's 390 px.
    width = 390 if language == "kk" else 1280
    tab = await open_page("admin", language=language, width=width)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.admin))

    # Statistics: by specialty and by region side by side, "<5" explained.
    await check(page.get_by_role("heading", name=t("admin.nav.stats"), exact=True)).to_be_visible()
    await check(page.get_by_role("heading", name=t("admin.stats.by_specialty"))).to_be_visible()
    by_region = page.locator("section[aria-labelledby=by-region]")
    await check(by_region.get_by_role("heading", name=t("admin.stats.by_region"))).to_be_visible()
    await check(by_region.locator("table.numbers tbody tr")).to_have_count(1)
    await check(by_region.locator("table.numbers tbody td").first).to_have_text("<5")
    await check(by_region.get_by_text(t("admin.stats.suppressed_counts"))).to_be_visible()
    await check(page.locator(".chart canvas")).to_have_count(2)
    await by_region.get_by_label(t("admin.stats.measure")).select_option("wait_median_s")
    await check(by_region.locator("table.numbers tbody td").first).to_have_text("—")
    await tab.assert_translated()
    await tab.shot(f"statistics-{language}")

    # Users: search, disable, enable, a one-time reset link.
    await page.get_by_role("link", name=t("admin.nav.users")).click()
    users = page.locator("section[aria-labelledby=all-users]")
    await users.get_by_label(t("admin.users.search")).fill("test g")
    await users.get_by_role("button", name=t("admin.users.find")).click()
    rows = users.locator("tbody tr")
    await check(rows).to_have_count(1)
    await check(rows.first).to_contain_text("Test gp")
    name = "Test gp"
    await rows.first.get_by_role("button", name=t("admin.users.disable_named", name=name)).click()
    await check(rows.first).to_contain_text(t("admin.users.disabled"))
    assert (await w.gp.get("/me"))[0] == 401
    await rows.first.get_by_role("button", name=t("admin.users.enable_named", name=name)).click()
    await check(rows.first).to_contain_text(t("admin.users.active"))
    await users.get_by_label(t("admin.users.role")).select_option("specialist")
    await users.get_by_label(t("admin.users.search")).fill("")
    await users.get_by_role("button", name=t("admin.users.find")).click()
    await check(rows).to_have_count(1)
    await check(rows.first).to_contain_text("Test specialist")
    await rows.first.get_by_role(
        "button", name=t("admin.users.reset_named", name="Test specialist")
    ).click()
    link = users.get_by_label(t("admin.users.link"))
    await check(link).to_have_value(re.compile(r"/#/reset/[\w-]{20,}$"))
    reset_url = await link.input_value()
    await tab.assert_translated()

    # A patient's account, from the patient found by name.
    section = page.locator("section[aria-labelledby=patient-account]")
    await section.get_by_label(t("admin.patients.search")).fill("Test pat")
    await section.get_by_role("button", name=t("admin.patients.find")).click()
    await section.get_by_role(
        "button", name=t("admin.patients.pick_named", name="Test Patient")
    ).click()
    await section.get_by_label(t("admin.users.username")).fill(f"patient-{language}")
    await section.get_by_role("button", name=t("admin.patients.create")).click()
    await check(section.get_by_label(t("admin.users.link"))).to_have_value(
        re.compile(r"/#/reset/[\w-]{20,}$")
    )
    await tab.assert_translated()
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.shot(f"users-{language}")
    await page.set_viewport_size({"width": width, "height": 900})

    # Facilities: the clinic renamed in three languages; no id column.
    await page.get_by_role("link", name=t("admin.nav.facilities")).click()
    facilities = page.locator("section[aria-labelledby=all-facilities]")
    row = facilities.locator("tbody tr").filter(has_text="Clinic ").first
    await row.get_by_role(
        "button", name=re.compile(re.escape(t("admin.facilities.edit")), re.I)
    ).click()
    editor = facilities.locator("tr.detail form")
    await editor.get_by_label(t("admin.facilities.name_en")).fill("Karkaraly District Hospital")
    await editor.get_by_label(t("admin.facilities.name_kk")).fill("Қарқаралы аудандық ауруханасы")
    await editor.get_by_label(t("admin.facilities.name_ru")).fill(
        "Каркаралинская районная больница"
    )
    await editor.get_by_role("button", name=t("admin.facilities.save")).click()
    shown = {
        "en": "Karkaraly District Hospital",
        "kk": "Қарқаралы аудандық ауруханасы",
        "ru": "Каркаралинская районная больница",
    }[language]
    await check(facilities.get_by_role("row", name=re.compile(shown))).to_be_visible()
    await tab.assert_translated()
    await tab.shot(f"facilities-{language}")
    tab.assert_clean()

    # The specialist opens the one-time link and sets a new password.
    other = await open_page("reset", language=language, width=390)
    await other.page.goto(reset_url)
    await check(other.page.get_by_role("heading", name=t("admin.reset.title"))).to_be_visible()
    await other.page.get_by_label(t("admin.reset.password"), exact=True).fill(NEW_PASSWORD)
    await other.page.get_by_label(t("admin.reset.again"), exact=True).fill(NEW_PASSWORD + "x")
    await other.page.get_by_role("button", name=t("admin.reset.submit")).click()
    await check(other.page.get_by_text(t("admin.reset.mismatch"))).to_be_visible()
    await other.page.get_by_label(t("admin.reset.again"), exact=True).fill(NEW_PASSWORD)
    await other.page.get_by_role("button", name=t("admin.reset.submit")).click()
    await check(other.page.get_by_role("heading", name=t("admin.reset.done_title"))).to_be_visible()
    await other.assert_translated()
    assert "#/reset/" not in other.page.url
    await factories.login(client, username(w.specialist), NEW_PASSWORD)
    other.assert_clean()


async def _answered(w: Any, clock: Any, specialty: str, specialist: Any, after: Any) -> None:
    """Five written cases of one specialty asked for ``after`` ago and answered now."""
    for n in range(5):
        clock.set(NOW - after)
        status, case = await w.gp.post(
            "/consultations",
            {
                "patient_id": w.patient_id,
                "specialty": specialty,
                "mode": "async",
                "reason": f"Case {n}",
            },
        )
        assert status == 201, case
        clock.set(NOW)
        assert (await specialist.post(f"/consultations/{case['id']}/claim"))[0] == 200
        status, body = await specialist.post(
            f"/consultations/{case['id']}/complete", {"conclusion": "Answered"}
        )
        assert status == 200, body
    clock.set(NOW)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_statistics_say_waits_in_hours_or_days(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    neurologist = await factories.user(
        w.admin, "specialist", facility_id=w.hospital, specialties=["neurology"]
    )
    await _answered(w, clock, "cardiology", w.specialist, timedelta(hours=2, minutes=5))
    await _answered(w, clock, "neurology", neurologist, timedelta(days=3))
    tab = await open_page("admin-durations", language=language)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.admin))
    status, codes = await w.admin.get("/codes")
    assert status == 200, codes
    label = {c["code"]: c["names"][language] for c in codes["specialties"]}
    table = page.locator("section[aria-labelledby=by-specialty] table.numbers")
    rows = table.locator("tbody tr")
    await check(rows).to_have_count(2)
    heads = await table.locator("thead th").all_text_contents()
    column = heads.index(t("admin.stats.measure.turnaround_median_s"))
    said = {
        (await row.locator("th, td").nth(0).text_content() or "").strip(): (
            await row.locator("th, td").nth(column).text_content() or ""
        ).strip()
        for row in await rows.all()
    }
    # The median comes from a sketch (within a few per cent): two hours and some minutes.
    hours = re.escape(t("duration.hours_minutes", h=2, m="MM")).replace("MM", r"0\d")
    assert re.fullmatch(hours, said[label["cardiology"]]), said
    assert said[label["neurology"]] == t("duration.days", n=3), said
    await tab.assert_translated()
    tab.assert_clean()


@pytest.mark.parametrize("language", ["ru"])
async def test_the_users_list_is_paged(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    for n in range(21):
        status, body = await w.admin.post(
            "/users",
            {
                "username": f"nurse-{n:02d}",
                "password": factories.PASSWORD,
                "full_name": f"Медбике {n:02d}",
                "role": "gp",
                "facility_id": w.clinic,
            },
        )
        assert status == 201, body
    tab = await open_page("admin-users-paged", language=language, width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.admin))
    await page.get_by_role("link", name=t("admin.nav.users")).click()
    users = page.locator("section[aria-labelledby=all-users]")
    await users.get_by_label(t("admin.users.search")).fill("Медбике")
    await users.get_by_role("button", name=t("admin.users.find")).click()
    rows = users.locator("tbody tr")
    await check(rows).to_have_count(20)
    more = users.get_by_role("button", name=t("common.show_more"))
    await more.click()
    await check(rows).to_have_count(21)
    await check(more).to_be_hidden()
    await tab.assert_translated()
    tab.assert_clean()
