// The administrator's "declared but not delivered" report: consultations completed without
// proof that they took place, counted by month, referring facility and specialist (with a
// CSV), each flag's evidence (connected time, join and leave times) and its resolution with a
// reason. Every visible text comes from the catalogues (proof.* keys).

import { API, get, post, query } from "../api.js";
import { MODES, SPECIALTIES, label } from "../codes.js";
import { badge, clear, field, form, h, isoDay, notice, pagedList, select, tableOf } from "../dom.js";
import { formatDateTime, formatDuration, formatMonth, formatNumber, t } from "../i18n.js";
import { person } from "../people.js";

export const proofRoute = {
  path: "#/proof",
  get title() {
    return t("proof.nav");
  },
  render: renderProof,
};

const REASONS = ["no_joint_minute", "no_conclusion", "before_slot"];

/** Connected time: seconds under a minute (the flag's point), else "2 h 05 min". */
const connected = (s) => (s < 60 ? t("proof.seconds", { n: formatNumber(Math.round(s)) }) : formatDuration(s));

const statusTable = () => ({
  all: t("proof.status.all"),
  open: t("proof.status.open"),
  resolved: t("proof.status.resolved"),
});

function staysTable(stays, me) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "proof-stays" },
      h("caption", {}, t("proof.stays.caption")),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("proof.stays.who")),
          h("th", { scope: "col" }, t("proof.stays.joined")),
          h("th", { scope: "col" }, t("proof.stays.left")),
        ),
      ),
      h(
        "tbody",
        {},
        stays.map((s) =>
          h(
            "tr",
            {},
            h("td", {}, person(s.person, { me })),
            h("td", {}, formatDateTime(s.joined_at)),
            h("td", {}, s.left_at ? formatDateTime(s.left_at) : t("proof.stays.still")),
          ),
        ),
      ),
    ),
  );
}

/** A clinician's or administrator's name as plain text, for a sentence of the catalogue. */
const nameOf = (p, me) => (p && me && p.id === me.id ? t("people.you") : p?.name ?? t("people.system"));

function resolution(flag, me) {
  return h(
    "div",
    { class: "proof-resolution" },
    h("p", {}, t("proof.resolved_by", { time: formatDateTime(flag.resolved_at), who: nameOf(flag.resolved_by, me) })),
    h("p", { class: "reason" }, flag.resolution),
  );
}

function flagItem(flag, me, onResolved) {
  const item = h("li", { class: "card proof-flag" });
  const draw = (f, message) => {
    const heading = [
      f.resolved_at ? badge("status-completed", t("proof.badge.resolved")) : badge("status-no_show", t("proof.badge.open")),
      " ",
      h("strong", {}, t(`proof.reason.${f.reason}`)),
    ];
    const facts = h(
      "ul",
      { class: "proof-facts" },
      h("li", {}, `${label(SPECIALTIES, f.specialty)} · ${label(MODES, f.mode)}`),
      f.facility ? h("li", {}, f.facility) : null,
      f.specialist ? h("li", {}, t("proof.flag.specialist", { who: nameOf(f.specialist, me) })) : null,
      h("li", {}, t("proof.flag.completed", { time: formatDateTime(f.completed_at) })),
      f.starts_at ? h("li", {}, t("proof.flag.slot", { time: formatDateTime(f.starts_at) })) : null,
      f.mode === "video" && f.connected_seconds != null
        ? h("li", {}, t("proof.flag.connected", { duration: connected(f.connected_seconds) }))
        : null,
    );
    const evidence = f.mode === "video" ? (f.stays.length ? staysTable(f.stays, me) : h("p", { class: "muted" }, t("proof.flag.no_call"))) : null;
    let action = null;
    if (f.resolved_at) action = resolution(f, me);
    else {
      const reason = h("textarea", { name: "reason", rows: 2, required: true, maxlength: 2000 });
      action = form(
        { class: "proof-resolve" },
        [
          field(t("proof.resolve.reason"), reason, { hint: t("proof.resolve.hint"), wide: true }),
          h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("proof.resolve.submit"))),
        ],
        async (data, el) => {
          const done = await post(`/proof/flags/${f.id}/resolve`, { reason: data.reason });
          draw(done, t("proof.resolved_done"));
          onResolved();
          return el;
        },
      );
    }
    const note = notice();
    if (message) note.show("success", message);
    clear(item, h("p", { class: "proof-flag-head" }, heading), facts, evidence, action, note);
  };
  draw(flag);
  return item;
}

function renderProof(main, { me }) {
  const yearAgo = new Date();
  yearAgo.setFullYear(yearAgo.getFullYear() - 1);
  yearAgo.setDate(1);
  const reportBox = h("div", { "aria-live": "polite" });
  const flagsTitle = h("h2", { id: "proof-flags", tabindex: "-1" }, t("proof.flags.title"));
  const showAll = h("button", { type: "button", class: "secondary", hidden: true }, t("proof.flags.all"));
  let filter = {};
  let params = {};
  const flags = pagedList({
    load: (cursor) => get("/proof/flags", { ...filter, status: params.status, cursor }),
    render: (f) => flagItem(f, me, () => loadReport()),
    empty: t("proof.flags.empty"),
  });

  const chooseFlags = (row) => {
    filter = row ? { month: row.month, facility_id: row.facility_id, specialist_id: row.specialist_id } : {};
    flagsTitle.textContent = row
      ? t("proof.flags.of", {
          facility: row.facility ?? t("proof.no_facility"),
          specialist: row.specialist ?? t("proof.no_specialist"),
          month: formatMonth(row.month),
        })
      : t("proof.flags.title");
    showAll.hidden = !row;
    flags.reload({ fresh: true });
  };
  showAll.addEventListener("click", () => chooseFlags(null));

  const reportRow = (r) => {
    const specialist = r.specialist ?? t("proof.no_specialist");
    const show = h("button", { type: "button", class: "secondary" }, t("proof.evidence"));
    show.setAttribute("aria-label", t("proof.evidence_named", { specialist, month: formatMonth(r.month) }));
    show.addEventListener("click", () => {
      chooseFlags(r);
      // Keyboard and screen-reader users land on the evidence they asked for.
      flagsTitle.focus();
    });
    return h(
      "tr",
      {},
      h("td", {}, formatMonth(r.month)),
      h("td", {}, r.facility ?? t("proof.no_facility")),
      h("th", { scope: "row" }, specialist),
      h("td", { class: "num" }, formatNumber(r.consultations)),
      REASONS.map((k) => h("td", { class: "num" }, formatNumber(r[k]))),
      h("td", { class: "num" }, formatNumber(r.open)),
      h("td", { class: "num" }, formatNumber(r.resolved)),
      h("td", {}, show),
    );
  };

  async function loadReport() {
    const report = await get("/proof/report", params);
    const csv = h(
      "a",
      { class: "button secondary", href: `${API}/proof/report.csv${query(params)}`, download: "not-delivered.csv" },
      t("proof.csv"),
    );
    const head = h("div", { class: "toolbar" }, h("h2", { id: "proof-report" }, t("proof.report.title")), csv);
    if (!report.items.length) {
      clear(reportBox, head, h("p", { class: "muted" }, t("proof.report.empty")));
      return;
    }
    const table = tableOf(
      [
        t("proof.col.month"),
        t("proof.col.facility"),
        t("proof.col.specialist"),
        t("proof.col.consultations"),
        ...REASONS.map((k) => t(`proof.reason.${k}`)),
        t("proof.col.open"),
        t("proof.col.resolved"),
        t("proof.col.evidence"),
      ],
      t("proof.report.title"),
    )(h("tbody", {}, report.items.map(reportRow)));
    table.querySelector("table").classList.add("numbers");
    clear(reportBox, head, table);
  }

  const filters = form(
    { class: "grid filters" },
    [
      field(t("proof.from"), h("input", { name: "from", type: "date", value: isoDay(yearAgo), required: true })),
      field(t("proof.to"), h("input", { name: "to", type: "date", value: isoDay(new Date()), required: true })),
      field(t("proof.status"), select("status", statusTable(), { value: "all" })),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("proof.show"))),
    ],
    async (data) => {
      params = { from: data.from, to: data.to, status: data.status };
      await loadReport();
      chooseFlags(null);
    },
  );

  main.append(
    h("section", { class: "card" }, h("p", { class: "muted" }, t("proof.intro")), filters),
    h("section", { class: "card", "aria-labelledby": "proof-report" }, reportBox),
    h(
      "section",
      { class: "card", "aria-labelledby": "proof-flags" },
      h("div", { class: "toolbar" }, flagsTitle, showAll),
      flags.el,
    ),
  );
  filters.requestSubmit();
}
