"""web/js/findings.js in Chromium: a prescription's findings next to its fields, in the
page's language at phone width, and the confirm-with-reason flow writing the entry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories
from tests.e2e.browsing import NOW, expect, username
from tests.integration.passport_support import consultation_in_progress, patient_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A prescription form as the note form builds it (dom.js field()), driven by findings.js.
MOUNT = """async ({consultationId, body}) => {
  const { h, field } = await import("/static/js/dom.js");
  const { t } = await import("/static/js/i18n.js");
  const { attachFormulary, savePrescription } = await import("/static/js/findings.js");
  const input = (name) => h("input", { name, autocomplete: "off" });
  const form = h("form", { class: "grid rx-test" },
    field(t("rx.allergy.substance"), input("medication")),
    field(t("rx.unit.mg"), input("dose")),
    field(t("rx.route.oral"), input("route")),
    field(t("rx.per.day"), input("frequency")),
    field(t("rx.per.week"), input("duration_days")),
    h("div", { class: "actions wide" }));
  (document.querySelector("main") || document.body).prepend(form);
  attachFormulary(form.elements.namedItem("medication"));
  window.rxResult = savePrescription(form, consultationId, body).then(
    (entry) => ({ entry }), (error) => ({ error: String(error) }));
}"""


async def test_findings_next_to_their_fields_and_confirmation(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    patient = await patient_account(w.admin, w.patient_id)
    consultation_id = await consultation_in_progress(w)
    status, body = await patient.post(
        f"/patients/{w.patient_id}/consents",
        {
            "grantee_user_id": w.specialist.id,
            "access": "read_write",
            "expires_at": (NOW + timedelta(days=1)).isoformat(),
        },
    )
    assert status == 201, body

    tab = await open_page("specialist", width=390, language="ru")
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    absurd = {
        "medication": "Amlodipine",
        "dose": "5,000 mg",
        "route": "banana",
        "frequency": "every hour",
        "duration_days": 3650,
    }
    await page.evaluate(MOUNT, {"consultationId": consultation_id, "body": absurd})

    form = page.locator("form.rx-test")
    dose = form.locator(".field", has=page.locator("input[name=dose]"))
    finding = dose.locator("li[data-code=dose_above_maximum]")
    await check(finding).to_be_visible()
    await check(finding).to_contain_text(tab.t("rx.severity.high"))
    await check(finding).to_contain_text("больше обычной максимальной дозы для взрослых")
    await check(finding).to_contain_text("мг в сутки")
    route = form.locator(".field", has=page.locator("input[name=route]"))
    await check(route.locator("li[data-code=route_unknown]")).to_have_text(
        tab.t("rx.severity.high") + " " + tab.t("rx.finding.route_unknown")
    )
    duration = form.locator(".field", has=page.locator("input[name=duration_days]"))
    await check(duration.locator("li")).to_contain_text("от 1 до 365 дней")
    frequency = form.locator(".field", has=page.locator("input[name=frequency]"))
    await check(frequency.locator("li[data-code=frequency_impossible]")).to_contain_text(
        tab.t("rx.severity.high")
    )
    await check(frequency.locator("li")).to_contain_text(
        "намного выше, чем этот препарат назначают"
    )
    # Each control is described by its findings.
    described = await page.locator("input[name=dose]").get_attribute("aria-describedby")
    findings_id = await dose.locator(".rx-findings").get_attribute("id")
    assert findings_id in (described or "").split()

    # Confirming asks for a reason; too short a reason is refused next to the field.
    reason = page.get_by_label(tab.t("rx.confirm.reason"))
    await check(reason).to_be_focused()
    await reason.fill("ok")
    await page.get_by_role("button", name=tab.t("rx.confirm.submit")).click()
    await check(page.get_by_text(tab.t("rx.confirm.too_short"))).to_be_visible()
    await check(reason).to_have_attribute("aria-invalid", "true")
    await tab.assert_translated()
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 390, scroll
    await tab.shot("prescription-findings")

    await reason.fill("Проверено с пациентом по телефону")
    await page.get_by_role("button", name=tab.t("rx.confirm.submit")).click()
    result = await page.evaluate("window.rxResult")
    assert "entry" in result, result
    checks = result["entry"]["body"]["checks"]
    assert checks["override_reason"] == "Проверено с пациентом по телефону"
    assert {"dose_above_maximum", "route_unknown"} <= {f["code"] for f in checks["findings"]}
    await check(page.locator(".rx-confirm")).to_have_count(0)

    # The medication field offers the formulary's drugs in the page's language.
    await page.locator("input[name=medication]").press_sequentially("амло")
    option = form.locator("datalist.rx-drugs option")
    await check(option).to_have_count(1)
    await check(option).to_have_attribute("value", "амлодипин")
    tab.assert_clean()


async def test_a_written_prescription_shows_what_its_checks_left(
    client: Any, database: Any, open_page: Any
) -> None:
    """In the passport views: free text marked as outside the formulary, and a prescription
    confirmed despite high findings with its reason and those findings."""
    w = await factories.world(client, database.engine)
    patient = await patient_account(w.admin, w.patient_id)
    consultation_id = await consultation_in_progress(w)
    status, body = await patient.post(
        f"/patients/{w.patient_id}/consents",
        {
            "grantee_user_id": w.specialist.id,
            "access": "read_write",
            "expires_at": (NOW + timedelta(days=1)).isoformat(),
        },
    )
    assert status == 201, body
    path = f"/consultations/{consultation_id}/prescriptions"
    herbal = {
        "medication": "Herbal tea",
        "dose": "1 cup",
        "route": "oral",
        "frequency": "twice daily",
        "duration_days": 10,
    }
    status, entry = await w.specialist.post(path, herbal)
    assert status == 201 and entry["body"]["in_formulary"] is False, entry
    reason = "Checked with the cardiologist on the phone"
    absurd = {
        "medication": "Amlodipine",
        "dose": "5,000 mg",
        "route": "oral",
        "frequency": "once daily",
        "duration_days": 30,
        "override": {"reason": reason},
    }
    status, entry = await w.specialist.post(path, absurd)
    assert status == 201 and entry["body"]["checks"]["override_reason"] == reason, entry

    # The specialist's passport view, at phone width.
    tab = await open_page("specialist", width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.specialist))
    card = page.locator("li.consultation")
    await card.get_by_role("button", name=t("spec.action.passport")).click()
    entries = page.locator("section.passport li.kind-prescription")
    await check(entries).to_have_count(2)
    tea = entries.filter(has_text="Herbal tea")
    await check(tea.locator(".rx-outside")).to_have_text(t("rx.outside_formulary"))
    await check(tea.locator(".rx-confirmed")).to_have_count(0)
    amlodipine = entries.filter(has_text="Amlodipine")
    await check(amlodipine.locator(".rx-outside")).to_have_count(0)
    confirmed = amlodipine.locator(".rx-confirmed")
    await check(confirmed).to_contain_text(t("passport.rx_confirmed", reason=reason))
    finding = confirmed.locator("li[data-code=dose_above_maximum]")
    await check(finding).to_contain_text(t("rx.severity.high"))
    await check(finding).to_contain_text("5,000 mg a day")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await tab.assert_translated()
    await amlodipine.scroll_into_view_if_needed()
    await tab.shot("prescription-marks", full_page=False)
    tab.assert_clean()

    # The patient's own passport, in Russian.
    ptab = await open_page("patient", language="ru")
    page, t = ptab.page, ptab.t
    await ptab.login(str(patient.user["username"]))
    await page.get_by_role("link", name=t("patient.nav.passport")).click()
    entries = page.locator("li.kind-prescription")
    await check(entries).to_have_count(2)
    await check(entries.filter(has_text="Herbal tea").locator(".rx-outside")).to_have_text(
        t("rx.outside_formulary")
    )
    confirmed = entries.filter(has_text="Amlodipine").locator(".rx-confirmed")
    await check(confirmed).to_contain_text(t("passport.rx_confirmed", reason=reason))
    await check(confirmed.locator("li[data-code=dose_above_maximum]")).to_contain_text(
        "больше обычной максимальной дозы для взрослых"
    )
    await ptab.assert_translated()
    ptab.assert_clean()
