"""Follow-up in the browser: the patient enters home readings on a phone-sized page and sees
the trend chart with the programme's target drawn in; the GP's "Follow-up" page lists the
overdue patient first and the off-target reading, and sends the review in one click."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import NOW, expect, username  # noqa: E402
from tests.integration.test_fhir_import import lab_bundle  # noqa: E402

CHART_DRAWN = """() => {
  const canvas = document.querySelector("canvas.followup-chart");
  return Boolean(canvas && globalThis.Chart && globalThis.Chart.getChart(canvas));
}"""

CHART_STATE = """() => {
  const canvas = document.querySelector("canvas.followup-chart");
  const chart = canvas && globalThis.Chart.getChart(canvas);
  if (!chart) return null;
  const painted = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height)
    .data.some((v) => v !== 0);
  return {
    painted,
    width: canvas.clientWidth,
    sets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data, target: !!d.target })),
  };
}"""


async def test_patient_readings_chart_and_gp_follow_up(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    # Enrolled a hundred days ago: the first patient's visit and readings are overdue.
    clock.set(NOW - timedelta(days=100))
    w = await factories.world(client, database.engine)
    status, _ = await w.gp.post(
        f"/patients/{w.patient_id}/programmes", {"programme": "hypertension"}
    )
    assert status == 201
    clock.set(NOW)
    gp = await factories.login(client, username(w.gp))
    admin = await factories.login(client, username(w.admin))
    patient = await factories.user(admin, "patient", patient_id=w.patient_id)
    status, _ = await patient.post(
        f"/patients/{w.patient_id}/consents",
        {
            "grantee_user_id": gp.id,
            "access": "read_write",
            "categories": ["lab_results"],
            "expires_at": (NOW + timedelta(days=90)).isoformat(),
        },
    )
    assert status == 201
    second = await factories.patient(gp)
    status, _ = await gp.post(f"/patients/{second}/programmes", {"programme": "diabetes_t2"})
    assert status == 201

    # The patient, on a phone, in Russian.
    tab = await open_page("followup-patient", width=390, language="ru")
    page, check = tab.page, expect()
    await tab.login(username(patient))
    await page.get_by_role("link", name=tab.t("followup.nav_mine")).click()
    await check(page.get_by_text(tab.t("followup.no_readings"))).to_be_visible()
    for systolic, diastolic in [(150, 95), (128, 82)]:
        await page.get_by_label(tab.t("followup.systolic")).fill(str(systolic))
        await page.get_by_label(tab.t("followup.diastolic")).fill(str(diastolic))
        await page.get_by_role("button", name=tab.t("followup.save")).click()
        await check(page.locator(".followup-entry .notice")).to_contain_text(
            f"{systolic}/{diastolic}"
        )
    await check(page.locator(".followup-entry .notice")).not_to_contain_text(
        tab.t("followup.out_of_target")
    )
    await check(page.locator("table.followup-readings tbody tr")).to_have_count(2)
    await check(page.get_by_text(tab.t("followup.target_is", target="ниже 140/90"))).to_be_visible()
    await page.wait_for_function(CHART_DRAWN)
    state = await page.evaluate(CHART_STATE)
    assert state is not None and state["painted"] and 0 < state["width"] <= 390
    values = [s for s in state["sets"] if not s["target"]]
    assert [v["data"] for v in values] == [[150, 128], [95, 82]]
    targets = [s for s in state["sets"] if s["target"]]
    assert [t["data"] for t in targets] == [[140, 140], [90, 90]]
    # An implausible value is refused next to its field.
    await page.get_by_label(tab.t("followup.systolic")).fill("900")
    await page.get_by_label(tab.t("followup.diastolic")).fill("80")
    await page.get_by_role("button", name=tab.t("followup.save")).click()
    await check(page.get_by_text(tab.t("field.measurement_implausible"))).to_be_visible()
    no_scroll = await page.evaluate("() => document.documentElement.scrollWidth <= 390")
    assert no_scroll
    await tab.assert_translated()
    await tab.shot("measurements-phone")

    # A laboratory's result in the passport is shown with the laboratory's name.
    status, lab = await admin.post(
        "/system-accounts",
        {"name": "Invivo laboratory", "kind": "laboratory", "facility_id": w.clinic},
    )
    assert status == 201, lab
    _, record = await gp.get(f"/patients/{w.patient_id}")
    bundle = lab_bundle(record["iin"])
    bundle["entry"] = bundle["entry"][:1]
    resp = await client.post(
        "/api/v1/fhir",
        json=bundle,
        headers={"Authorization": f"Bearer {lab['api_key']}"},
    )
    assert resp.status == 200, await resp.text()
    await page.get_by_role("link", name=tab.t("patient.nav.passport")).click()
    result = page.locator("li.entry").filter(has_text="Cholesterol")
    await check(result).to_contain_text(
        f"Invivo laboratory ({tab.t('followup.admin.kind.laboratory')}"
    )
    tab.assert_clean()

    # The GP's follow-up page: the overdue patient first, the off-target reading listed.
    gtab = await open_page("followup-gp")
    page = gtab.page
    await gtab.login(username(gp))
    await page.get_by_role("link", name="Follow-up").click()
    rows = page.locator("li.followup-row")
    await check(rows).to_have_count(2)
    await check(rows.first).to_contain_text("Hypertension")
    await check(rows.first).to_contain_text("Visit overdue")
    await check(rows.nth(1)).to_contain_text("On track")
    attention = page.locator("li.followup-attention-item")
    await check(attention).to_have_count(1)
    await check(attention.first).to_contain_text("150/95 mm Hg")
    await rows.first.get_by_role("button", name="Send for Cardiology review").click()
    await check(page.get_by_text("The review for Test Patient was sent")).to_be_visible()
    await attention.first.get_by_role("button", name="Mark as seen").click()
    await check(page.get_by_text("No readings outside their targets.")).to_be_visible()
    await gtab.assert_translated()
    await gtab.shot("followup")

    # The patient's page: programmes and the trend chart as the GP sees it.
    await rows.first.get_by_role("link").click()
    await check(page.locator(".followup-enrolment")).to_contain_text("Hypertension")
    await check(page.locator("table.followup-readings tbody tr")).to_have_count(2)
    await page.wait_for_function(CHART_DRAWN)
    state = await page.evaluate(CHART_STATE)
    assert state is not None and state["painted"]
    assert len([s for s in state["sets"] if s["target"]]) == 2
    await gtab.shot("patient-measurements")
    gtab.assert_clean()
    status, cases = await gp.get("/consultations")
    assert [c["specialty"] for c in cases["items"]] == ["cardiology"]


async def test_admin_edits_a_programme_and_creates_a_laboratory_account(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    tab = await open_page("followup-admin", language="kk")
    page, check = tab.page, expect()
    await tab.login(username(w.admin))
    await page.get_by_role("link", name=tab.t("followup.admin.nav")).click()
    hypertension = page.locator("form[data-programme=hypertension]")
    await check(hypertension.get_by_label(tab.t("followup.admin.icd10"))).to_have_value(
        "I10, I11, I12, I13, I15"
    )
    await hypertension.get_by_label(tab.t("followup.admin.visit_interval")).fill("60")
    bp = hypertension.get_by_role("group", name=tab.t("followup.measure.bp"))
    await bp.get_by_label(tab.t("followup.target.line_high"), exact=True).fill("130")
    await hypertension.get_by_role("button", name=tab.t("followup.admin.save")).click()
    await check(hypertension.get_by_text(tab.t("followup.admin.saved"))).to_be_visible()
    _, body = await w.gp.get("/programmes")
    [saved] = [p for p in body["items"] if p["code"] == "hypertension"]
    assert saved["visit_interval_days"] == 60 and saved["targets"][0]["high"] == 130

    await page.get_by_label(tab.t("followup.admin.system_name")).fill("Invivo")
    await page.get_by_label(tab.t("followup.admin.system_facility")).select_option(w.clinic)
    await page.get_by_role("button", name=tab.t("followup.admin.create")).click()
    await check(page.locator("code.followup-api-key")).to_contain_text("tcs_")
    await check(page.locator("ul.followup-systems li")).to_contain_text("Invivo")
    await tab.assert_translated()
    await tab.shot("programmes-admin")
    tab.assert_clean()


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_the_gps_follow_up_pages_speak_kazakh_and_russian(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    clock.set(NOW - timedelta(days=100))
    w = await factories.world(client, database.engine)
    status, _ = await w.gp.post(
        f"/patients/{w.patient_id}/programmes", {"programme": "hypertension"}
    )
    assert status == 201
    clock.set(NOW)
    gp = await factories.login(client, username(w.gp))
    second = await factories.patient(gp)
    status, _ = await gp.post(f"/patients/{second}/programmes", {"programme": "diabetes_t2"})
    assert status == 201

    tab = await open_page(f"followup-gp-{language}", language=language, width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.gp))
    await page.get_by_role("link", name=t("followup.nav")).click()
    rows = page.locator("li.followup-row")
    await check(rows).to_have_count(2)
    await check(rows.first).to_contain_text(t("followup.overdue.visit"))
    await tab.assert_translated()
    await tab.shot("followup")
    await rows.first.get_by_role("link").click()
    await check(page.locator(".followup-enrolment")).to_be_visible()
    await tab.assert_translated()
    await tab.shot("patient-followup")
    tab.assert_clean()
