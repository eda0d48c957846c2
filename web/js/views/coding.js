// The administrator's page on coding help: how often specialists chose the ICD-10 codes
// suggested from their notes, over a period and by month (GET /coding/quality).

import { get } from "../api.js";
import { field, form, h, isoDay, tableOf } from "../dom.js";
import { formatMonth, formatNumber, t } from "../i18n.js";

export const codingRoute = {
  path: "#/coding",
  get title() {
    return t("coding.quality.nav");
  },
  render: renderCodingQuality,
};



const share = (v) => (typeof v === "number" ? formatNumber(v, { style: "percent", maximumFractionDigits: 0 }) : "—");
/** A count with its share: "7 · 64%". */
const counted = (n, v) => `${formatNumber(n)} · ${share(v)}`;

function qualityRow(r, heading) {
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, heading),
    h("td", { class: "num" }, formatNumber(r.notes)),
    h("td", { class: "num" }, counted(r.top1, r.top1_share)),
    h("td", { class: "num" }, counted(r.top3, r.top3_share)),
    h("td", { class: "num" }, counted(r.top5, r.top5_share)),
    h("td", { class: "num" }, counted(r.chosen_from_suggestions, r.chosen_from_suggestions_share)),
  );
}

function renderCodingQuality(main) {
  const yearAgo = new Date();
  yearAgo.setFullYear(yearAgo.getFullYear() - 1);
  yearAgo.setDate(1);
  const box = h("div", { "aria-live": "polite" });

  async function load(params) {
    const out = await get("/coding/quality", params);
    const title = h("h2", { id: "coding-quality" }, t("coding.quality.title"));
    if (!out.total.notes) {
      box.replaceChildren(title, h("p", { class: "muted" }, t("coding.quality.empty")));
      return;
    }
    const table = tableOf(
      [
        t("coding.quality.col.period"),
        t("coding.quality.col.notes"),
        t("coding.quality.col.top1"),
        t("coding.quality.col.top3"),
        t("coding.quality.col.top5"),
        t("coding.quality.col.from_suggestions"),
      ],
      t("coding.quality.title"),
    )(
      h(
        "tbody",
        {},
        qualityRow(out.total, t("coding.quality.total")),
        out.months.map((m) => qualityRow(m, formatMonth(m.month))),
      ),
    );
    table.querySelector("table").classList.add("numbers");
    box.replaceChildren(title, table, h("p", { class: "muted" }, t("coding.quality.explain")));
  }

  const filters = form(
    { class: "grid filters" },
    [
      field(t("proof.from"), h("input", { name: "from", type: "date", value: isoDay(yearAgo), required: true })),
      field(t("proof.to"), h("input", { name: "to", type: "date", value: isoDay(new Date()), required: true })),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("proof.show"))),
    ],
    async (data) => load({ from: data.from, to: data.to }),
  );

  main.append(
    h("section", { class: "card" }, h("p", { class: "muted" }, t("coding.quality.intro")), filters),
    h("section", { class: "card", "aria-labelledby": "coding-quality" }, box),
  );
  filters.requestSubmit();
}
