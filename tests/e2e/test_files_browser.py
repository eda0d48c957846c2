"""The GP books a video consultation with an ECG image attached (uploaded with a progress
bar as it is chosen); the specialist sees its thumbnail in the queue and opens it in place."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories, filekit
from tests.e2e.browsing import DAY_START, expect, username

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_gp_books_with_an_ecg_the_specialist_opens_it(
    client: Any, database: Any, open_page: Any, tmp_path: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    ecg = tmp_path / "ecg-12-lead.jpg"
    ecg.write_bytes(filekit.jpeg(exif=True, size=(600, 300)))

    tab = await open_page("gp", width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.gp))
    await page.goto(f"{tab.base_url.rstrip('/')}/#/patients?id={w.patient_id}")
    await page.get_by_label(t("gp.book.specialty")).select_option("cardiology")
    await page.get_by_label(t("gp.book.reason")).fill("Irregular rhythm on the ECG")
    await page.get_by_label(t("files.attach")).set_input_files(str(ecg))
    row = page.locator("li.upload")
    await check(row).to_contain_text("ecg-12-lead.jpg")
    await check(row.locator("progress")).to_have_attribute("value", "100")
    await check(row).to_contain_text(t("files.uploaded"))
    await tab.shot("booking-with-ecg")
    # From the keyboard: focus the button, Enter.
    await page.get_by_role("button", name=t("gp.book.submit"), exact=True).focus()
    await page.keyboard.press("Enter")
    await check(page.locator("form.booking .notice.success")).to_be_visible()
    await check(page.locator("li.upload")).to_have_count(0)
    tab.assert_clean()

    spec = await open_page("specialist")
    page, t = spec.page, spec.t
    await spec.login(username(w.specialist))
    item = page.locator("li.consultation", has_text="Irregular rhythm on the ECG")
    await check(item).to_be_visible()
    thumb = item.get_by_role("img", name=t("files.preview", name="ecg-12-lead.jpg"))
    await check(thumb).to_be_visible()
    # The thumbnail itself arrives (a JPEG at most 320 px wide), not a broken image.
    await page.wait_for_function(
        "() => [...document.querySelectorAll('img.file-thumb')].some(i => i.naturalWidth === 320)"
    )
    await spec.assert_translated()
    await item.get_by_role("button", name=t("files.open", name="ecg-12-lead.jpg")).click()
    viewer = page.get_by_role("dialog", name="ecg-12-lead.jpg")
    await check(viewer).to_be_visible()
    full = viewer.get_by_role("img", name="ecg-12-lead.jpg")
    await check(full).to_be_visible()
    await page.wait_for_function("() => document.querySelector('dialog img')?.naturalWidth === 600")
    await spec.shot("ecg-open")
    await viewer.get_by_role("button", name=t("files.close")).click()
    await check(viewer).to_have_count(0)

    # Until the consultation ends, the specialist adds a lab report to it as well.
    await item.locator("summary", has_text=t("files.add")).click()
    report = tmp_path / "troponin.pdf"
    report.write_bytes(filekit.pdf())
    await item.get_by_label(t("files.attach")).set_input_files(str(report))
    await check(
        item.get_by_role("button", name=t("files.open", name="troponin.pdf"))
    ).to_be_visible()
    await check(item.locator("li.upload")).to_contain_text(t("files.uploaded"))
    spec.assert_clean()
