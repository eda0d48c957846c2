// Measurements: a phone-sized form to enter a reading (the GP in the clinic, the patient at
// home) and a trend chart per measurement with the programme's target drawn in. Readings are
// passport observations: the GP needs the patient's consent (lab results), as for results.

import { get, post } from "../api.js";
import { badge, clear, field, form, h, localInstant, notice, select } from "../dom.js";
import { errorText, formatDate, formatDateTime, formatNumber, language, t } from "../i18n.js";

export const MEASURES = ["bp", "pulse", "glucose", "hba1c", "spo2", "weight", "peak_flow"];

const measureTable = () => Object.fromEntries(MEASURES.map((m) => [m, t(`followup.measure.${m}`)]));
const unit = (measure) => t(`followup.unit.${measure}`);

/** "150/95 mm Hg", "7.2 %". */
export function reading(p) {
  const value = formatNumber(p.value, { maximumFractionDigits: 1 });
  const both = p.value2 === null || p.value2 === undefined ? value : `${value}/${formatNumber(p.value2)}`;
  return `${both} ${unit(p.measure)}`;
}

/** A target in words: "below 140/90", "from 4 to 7.2", "at least 92". */
export function targetText(target) {
  const n = (v) => formatNumber(v, { maximumFractionDigits: 1 });
  if (target.low !== null && target.high !== null)
    return t("followup.target.between", { low: n(target.low), high: n(target.high) });
  if (target.high !== null) {
    const high = target.high2 !== null ? `${n(target.high)}/${n(target.high2)}` : n(target.high);
    return t("followup.target.below", { high });
  }
  if (target.low !== null) return t("followup.target.at_least", { low: n(target.low) });
  return t("followup.target.record");
}

let chartLoaded = null;
async function chartClass() {
  chartLoaded ||= import("../../vendor/chart.js/chart.umd.min.js");
  await chartLoaded;
  const { Chart } = globalThis;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#3e4c59";
  return Chart;
}

/** The lines of a trend: the values (two for blood pressure) and each bound of each target. */
export function trendDatasets(trend) {
  const points = trend.points;
  const sets = [
    {
      label: trend.measure === "bp" ? t("followup.systolic") : t(`followup.measure.${trend.measure}`),
      data: points.map((p) => p.value),
      borderColor: "#1d4ed8",
      backgroundColor: "#1d4ed8",
      pointBackgroundColor: points.map((p) => (p.out_of_target ? "#b91c1c" : "#1d4ed8")),
      pointRadius: 4,
    },
  ];
  if (trend.measure === "bp")
    sets.push({
      label: t("followup.diastolic"),
      data: points.map((p) => p.value2),
      borderColor: "#0f766e",
      backgroundColor: "#0f766e",
      pointBackgroundColor: points.map((p) => (p.out_of_target ? "#b91c1c" : "#0f766e")),
      pointRadius: 4,
    });
  const bounds = [];
  for (const target of trend.targets) {
    if (target.high !== null) bounds.push([t("followup.target.line_high"), target.high]);
    if (target.high2 !== null) bounds.push([t("followup.target.line_high2"), target.high2]);
    if (target.low !== null) bounds.push([t("followup.target.line_low"), target.low]);
  }
  for (const [name, value] of bounds)
    sets.push({
      label: `${name}: ${formatNumber(value)}`,
      data: points.map(() => value),
      borderColor: "#b91c1c",
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false,
      target: true,
    });
  return sets;
}

async function drawTrend(canvas, trend) {
  const Chart = await chartClass();
  return new Chart(canvas, {
    type: "line",
    data: { labels: trend.points.map((p) => formatDate(p.measured_at)), datasets: trendDatasets(trend) },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: language(),
      plugins: { legend: { position: "bottom" } },
    },
  });
}

function pointsTable(trend) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "numbers followup-readings" },
      h("caption", { class: "visually-hidden" }, t("followup.readings_caption")),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("followup.when")),
          h("th", { scope: "col" }, t("followup.value")),
        ),
      ),
      h(
        "tbody",
        {},
        [...trend.points]
          .reverse()
          .map((p) =>
            h(
              "tr",
              {},
              h("td", {}, h("time", { datetime: p.measured_at }, formatDateTime(p.measured_at))),
              h(
                "td",
                {},
                reading(p),
                p.out_of_target ? [" ", badge("outcome-bad", t("followup.out_of_target"))] : null,
                p.source === "patient"
                  ? h("span", { class: "muted" }, ` · ${t("followup.by_patient")}`)
                  : null,
              ),
            ),
          ),
      ),
    ),
  );
}

/**
 * The measurements card: the form to enter a reading, and one measurement's trend.
 * `patientId` is whose readings; `onSaved` runs after a reading is kept.
 */
export function measurementsCard(section, patientId, { onSaved } = {}) {
  let chart = null;
  const chosen = select("measure", measureTable(), { value: "bp" });
  const value = h("input", {
    name: "value",
    type: "number",
    inputmode: "decimal",
    step: "any",
    required: true,
  });
  const value2 = h("input", { name: "value2", type: "number", inputmode: "decimal", step: "any" });
  const value2Field = field(`${t("followup.diastolic")} (${unit("bp")})`, value2);
  const valueLabel = h("span", {}, t("followup.systolic"));
  const whenInput = h("input", { name: "measured_at", type: "datetime-local" });
  const trendBox = h("div", { class: "followup-trend", "aria-live": "polite" });

  const showMeasure = () => {
    const bp = chosen.value === "bp";
    value2Field.hidden = !bp;
    value2.disabled = !bp;
    const name = bp ? t("followup.systolic") : t("followup.value");
    valueLabel.textContent = `${name} (${unit(chosen.value)})`;
  };

  const valueField = field("", value);
  valueField.querySelector("label").replaceChildren(valueLabel);

  const entry = form(
    { class: "grid followup-entry", "aria-label": t("followup.enter_title") },
    [
      field(t("followup.measure_label"), chosen),
      valueField,
      value2Field,
      field(t("followup.when"), whenInput, { hint: t("followup.when_hint") }),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("followup.save")),
      ),
    ],
    async (data, el) => {
      const body = { measure: data.measure, value: data.value === "" ? null : Number(data.value) };
      if (data.measure === "bp") body.value2 = data.value2 === "" ? null : Number(data.value2);
      if (data.measured_at) {
        const [d, time] = data.measured_at.split("T");
        body.measured_at = localInstant(d, time);
      }
      const saved = await post(`/patients/${patientId}/measurements`, body);
      el.reset();
      chosen.value = saved.measure;
      showMeasure();
      el.notice.show(
        saved.out_of_target ? "error" : "success",
        saved.out_of_target
          ? t("followup.saved_out_of_target", { reading: reading(saved) })
          : t("followup.saved", { reading: reading(saved) }),
      );
      await showTrend(saved.measure);
      onSaved?.(saved);
    },
  );

  const trendChoice = select("trend", measureTable(), { value: "bp" });
  trendChoice.addEventListener("change", () => showTrend(trendChoice.value));
  chosen.addEventListener("change", showMeasure);

  async function showTrend(measure) {
    trendChoice.value = measure;
    chart?.destroy();
    chart = null;
    let trend;
    try {
      trend = await get(`/patients/${patientId}/measurements`, { measure });
    } catch (error) {
      if (error.status === undefined) throw error;
      clear(trendBox, h("p", { class: "notice error", role: "alert" }, errorText(error)));
      return;
    }
    const targets = trend.targets.length
      ? h(
          "p",
          { class: "followup-targets" },
          t("followup.target_is", { target: trend.targets.map(targetText).join("; ") }),
        )
      : null;
    if (!trend.points.length) {
      clear(trendBox, targets, h("p", { class: "muted empty" }, t("followup.no_readings")));
      return;
    }
    const canvas = h("canvas", {
      class: "followup-chart",
      role: "img",
      "aria-label": t("followup.chart_label", { measure: t(`followup.measure.${measure}`) }),
      dataset: { measure },
    });
    clear(trendBox, targets, h("div", { class: "chart" }, canvas), pointsTable(trend));
    chart = await drawTrend(canvas, trend);
  }

  clear(
    section,
    h("h2", { id: "measurements-title" }, t("followup.measurements_title")),
    h("h3", {}, t("followup.enter_title")),
    entry,
    h("h3", {}, t("followup.trend_title")),
    field(t("followup.trend_label"), trendChoice),
    trendBox,
  );
  section.setAttribute("aria-labelledby", "measurements-title");
  showMeasure();
  showTrend("bp");
  return () => chart?.destroy();
}

/** The patient's own page: "My measurements". */
export async function renderMyMeasurements(main, { me }) {
  const said = notice();
  const section = h("section", { class: "card followup-mine" });
  main.append(h("p", { class: "muted" }, t("followup.mine_intro")), said, section);
  return measurementsCard(section, me.patient_id);
}
