"""The finished pieces as the pages use them: the specialist's prescription form checked as it
is filled in (findings next to their fields, a high finding confirmed with a reason), allergies
recorded from the note form and shown as one line in every passport view, and the
consultation's record from the specialist's and the patient's cards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories
from tests.e2e.browsing import NOW, expect, username
from tests.integration.passport_support import consultation_in_progress, patient_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FREQUENCY = {"en": "once daily", "ru": "1 раз в день"}


async def consenting(w: Any, *grantees: Any) -> Any:
    """The patient's account, having let each grantee read and write for a day."""
    patient = await patient_account(w.admin, w.patient_id)
    for grantee in grantees:
        status, body = await patient.post(
            f"/patients/{w.patient_id}/consents",
            {
                "grantee_user_id": grantee.id,
                "access": "read_write",
                "expires_at": (NOW + timedelta(days=1)).isoformat(),
            },
        )
        assert status == 201, body
    return patient


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_prescription_form_checks_and_confirms(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    await consenting(w, w.specialist)
    consultation_id = await consultation_in_progress(w)

    tab = await open_page("specialist", language=language, width=390 if language == "ru" else 1280)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.specialist))
    await page.locator("li.consultation").get_by_role("button", name=t("spec.action.write")).click()
    form = page.locator("form.rx-form")
    await check(form).to_be_visible()

    # The medication is picked from the formulary as it is typed.
    medication = form.get_by_label(t("spec.rx.medication"))
    await medication.press_sequentially("amlo" if language == "en" else "амло")
    option = form.locator("datalist.rx-drugs option")
    await check(option).to_have_count(1)
    await check(option).to_have_attribute(
        "value", "amlodipine" if language == "en" else "амлодипин"
    )
    await medication.fill(await option.get_attribute("value") or "")
    # 5,000 mg, into a vein: findings appear next to the dose and the route as they are filled.
    await form.get_by_label(t("spec.rx.dose")).fill("5,000 mg")
    await form.get_by_label(t("spec.rx.route")).select_option("intravenous")
    await form.get_by_label(t("spec.rx.frequency")).fill(FREQUENCY[language])
    await form.get_by_label(t("spec.rx.days")).fill("30")
    dose = form.locator(".field", has=page.locator("input[name=dose]"))
    await check(dose.locator("li[data-code=dose_above_maximum]")).to_contain_text(
        t("rx.severity.high")
    )
    route = form.locator(".field", has=page.locator("select[name=route]"))
    await check(route.locator("li[data-code=route_not_for_drug]")).to_be_visible()
    described = await page.locator("input[name=dose]").get_attribute("aria-describedby")
    findings_id = await dose.locator(".rx-findings").get_attribute("id")
    assert findings_id in (described or "").split()

    # Saving is blocked until the specialist confirms with a reason.
    await form.get_by_role("button", name=t("spec.rx.save")).click()
    reason = form.get_by_label(t("rx.confirm.reason"))
    await check(reason).to_be_focused()
    await check(dose.locator("li[data-code=dose_above_maximum]")).to_be_visible()
    status, passport = await w.specialist.get(f"/patients/{w.patient_id}/passport")
    assert status == 200 and passport["items"] == [], passport
    await tab.assert_translated()
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= (390 if language == "ru" else 1280), scroll
    await tab.shot(f"prescription-blocked-{language}")

    await reason.fill("Checked with the cardiologist on the phone")
    await form.get_by_role("button", name=t("rx.confirm.submit")).click()
    await check(form.locator(".notice.success")).to_have_text(t("spec.editor.saved_as", seq=1))
    await check(form.locator(".rx-confirm")).to_have_count(0)
    await check(form.locator(".rx-findings")).to_have_count(0)
    await check(medication).to_have_value("")
    status, passport = await w.specialist.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, passport
    [entry] = passport["items"]
    assert entry["kind"] == "prescription" and entry["consultation_id"] == consultation_id
    checks = entry["body"]["checks"]
    assert checks["override_reason"] == "Checked with the cardiologist on the phone"
    assert {"dose_above_maximum", "route_not_for_drug"} <= {f["code"] for f in checks["findings"]}
    tab.assert_clean()


async def test_allergies_in_every_passport_and_the_record_on_cards(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    patient = await consenting(w, w.specialist, w.gp)
    consultation_id = await consultation_in_progress(w)

    # The specialist records an allergy from the note form.
    tab = await open_page("specialist")
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.specialist))
    card = page.locator("li.consultation")
    await card.get_by_role("button", name=t("spec.action.write")).click()
    allergy = page.locator("form.allergy-form")
    await check(allergy.get_by_role("heading", name=t("rx.allergy.title"))).to_be_visible()
    await allergy.get_by_role("button", name=t("spec.allergy.save")).click()
    await check(allergy.locator(".field-error:visible")).to_have_count(2)
    await allergy.get_by_label(t("rx.allergy.substance")).fill("Penicillin")
    await allergy.get_by_label(t("rx.allergy.reaction")).fill("rash")
    await allergy.get_by_label(t("rx.allergy.severity"), exact=True).select_option("severe")
    await allergy.get_by_role("button", name=t("spec.allergy.save")).click()
    await check(allergy.locator(".notice.success")).to_have_text(t("spec.editor.saved_as", seq=1))
    status, passport = await w.specialist.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, passport
    assert passport["items"][0]["kind"] == "allergy", passport
    assert passport["items"][0]["body"]["severity"] == "severe"

    # A prescription of amoxicillin now shows the allergy next to the medicine.
    rx = page.locator("form.rx-form")
    await rx.get_by_label(t("spec.rx.medication")).fill("Amoxicillin")
    await rx.get_by_label(t("spec.rx.dose")).fill("500 mg")
    await rx.get_by_label(t("spec.rx.frequency")).fill("3 times a day")
    await rx.get_by_label(t("spec.rx.days")).fill("7")
    medicine = rx.locator(".field", has=page.locator("input[name=medication]"))
    await check(medicine.locator("li[data-code=allergy]")).to_contain_text("Penicillin")
    # A prescription with nothing to say about it says so.
    await rx.get_by_label(t("spec.rx.medication")).fill("Bisoprolol")
    await rx.get_by_label(t("spec.rx.dose")).fill("5 mg")
    await rx.get_by_label(t("spec.rx.frequency")).fill("once daily")
    await check(rx.locator(".rx-checked")).to_have_text(t("rx.findings.none"))
    await check(rx.locator(".rx-findings")).to_have_count(0)

    # The specialist's passport view: one readable line.
    line = "Penicillin — rash, severe"
    await card.get_by_role("button", name=t("spec.action.passport")).click()
    passport_section = page.locator("section.passport")
    await check(passport_section.locator("li.kind-allergy")).to_contain_text(line)
    await check(passport_section.locator("li.kind-allergy")).to_contain_text(
        t("code.passport_kind.allergy")
    )
    # The record, from the card of the case in progress.
    await card.get_by_role("button", name=t("consultation.record.button")).click()
    record = card.locator(".record-panel")
    await check(record).to_contain_text("palpitations at night")
    await check(record).to_contain_text(line)
    await check(card.get_by_role("button", name=t("consultation.record.button"))).to_have_attribute(
        "aria-expanded", "true"
    )
    await tab.assert_translated()
    tab.assert_clean()

    status, body = await w.specialist.post(
        f"/consultations/{consultation_id}/complete", {"conclusion": "Avoid all penicillins"}
    )
    assert status == 200, body
    # On the past tab too.
    await page.get_by_role("tab", name=t("spec.queue.tab_past")).click()
    past = page.locator("li.consultation[data-status=completed]")
    await check(past).to_contain_text("Avoid all penicillins")
    await past.get_by_role("button", name=t("consultation.record.button")).click()
    await check(past.locator(".record-panel")).to_contain_text("Avoid all penicillins")
    tab.assert_clean()

    # The patient, in Russian: the passport's line, and the record of the past consultation.
    ptab = await open_page("patient", language="ru")
    page, t = ptab.page, ptab.t
    await ptab.login(str(patient.user["username"]))
    past_section = page.locator(
        "section", has=page.get_by_role("heading", name=t("patient.mine.past"))
    )
    item = past_section.locator("li.consultation")
    await item.get_by_role("button", name=t("consultation.record.button")).click()
    record = item.locator(".record-panel")
    await check(record).to_contain_text("Avoid all penicillins")
    await check(record).to_contain_text("Penicillin — rash, тяжёлая")
    await ptab.assert_translated()
    await page.get_by_role("link", name=t("patient.nav.passport")).click()
    entry = page.locator("li.kind-allergy")
    await check(entry).to_contain_text("Penicillin — rash, тяжёлая")
    await check(entry).to_contain_text(t("patient.kind.allergy"))
    await ptab.assert_translated()
    ptab.assert_clean()

    # The GP: the patient's passport groups the allergies first.
    gtab = await open_page("gp")
    page, t = gtab.page, gtab.t
    await gtab.login(username(w.gp))
    status, record_of = await w.gp.get(f"/patients/{w.patient_id}")
    assert status == 200, record_of
    await page.get_by_label(t("gp.search.label")).fill(record_of["iin"])
    await page.get_by_role("button", name=t("gp.search.submit")).click()
    await page.get_by_role("link", name=record_of["full_name"]).click()
    group = page.locator(".group-allergy")
    await check(group.get_by_role("heading", name=t("rx.allergy.title"))).to_be_visible()
    await check(group).to_contain_text(line)
    await gtab.assert_translated()
    gtab.assert_clean()
