// The administrator's pages: statistics by specialty, facilities, users, emergency access.

import { API, get, post, query } from "../api.js";
import { CARE_LEVELS, REGIONS, ROLES, SPECIALTIES, label } from "../codes.js";
import {
  badge,
  clear,
  field,
  form,
  h,
  isoDay,
  notice,
  pagedList,
  select,
  shortId,
  tableOf,
  when,
} from "../dom.js";
import { person } from "../people.js";
import { accessLog } from "./accesslog.js";

export const live = false;

export const routes = [
  { path: "#/stats", title: "Statistics", render: renderStats },
  { path: "#/facilities", title: "Facilities", render: renderFacilities },
  { path: "#/users", title: "Users", render: renderUsers },
  { path: "#/break-glass", title: "Emergency access", render: renderBreakGlass },
];

const GRANULARITIES = { "": "Whole period", day: "By day", week: "By week", month: "By month" };
// Counts first, in the order people read them; any other numeric field follows.
const PREFERRED = ["requested", "completed", "cancelled", "no_show"];
const COUNT_COLOURS = {
  requested: "#2563eb",
  completed: "#15803d",
  cancelled: "#b45309",
  no_show: "#b91c1c",
};
// Times come in seconds (keys ending in "_s") and are shown in minutes; shares as percentages.
const humanize = (key) =>
  (key.endsWith("_s") ? `${key.slice(0, -2)} (min)` : key)
    .replaceAll("_", " ")
    .replace(/^./, (c) => c.toUpperCase()) + (key === "answered_within_target" ? " (%)" : "");
const scaled = (key, v) => {
  if (typeof v !== "number") return v;
  if (key.endsWith("_s")) return v / 60;
  if (key === "answered_within_target") return v * 100;
  return v;
};

/** A number, or the suppression marker "<5" the API sends for small counts. */
const isValue = (v) => typeof v === "number" || (typeof v === "string" && /^<\s*\d+$/.test(v));
const display = (v) =>
  typeof v === "number"
    ? Number.isInteger(v)
      ? v.toLocaleString()
      : v.toLocaleString(undefined, { maximumFractionDigits: 1 })
    : (v ?? "—");

function statColumns(rows) {
  const keys = [];
  for (const row of rows)
    for (const [k, v] of Object.entries(row))
      if (!keys.includes(k) && k !== "specialty" && (isValue(v) || v === null)) keys.push(k);
  const labels = rows.flatMap((r) =>
    Object.entries(r)
      .filter(([k, v]) => k !== "specialty" && typeof v === "string" && !isValue(v))
      .map(([k]) => k),
  );
  const numeric = keys.filter((k) => !labels.includes(k));
  numeric.sort((a, b) => (PREFERRED.indexOf(a) + 1 || 99) - (PREFERRED.indexOf(b) + 1 || 99));
  return { labels: [...new Set(labels)], numeric };
}

async function drawChart(canvas, rows, counts) {
  await import("../../vendor/chart.js/chart.umd.min.js");
  const { Chart } = globalThis;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#3e4c59";
  const bySpecialty = new Map();
  for (const row of rows) {
    const name = label(SPECIALTIES, row.specialty);
    const sums = bySpecialty.get(name) || {};
    for (const k of counts) sums[k] = (sums[k] || 0) + (typeof row[k] === "number" ? row[k] : 0);
    bySpecialty.set(name, sums);
  }
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: [...bySpecialty.keys()],
      datasets: counts.map((k) => ({
        label: humanize(k),
        data: [...bySpecialty.values()].map((s) => s[k]),
        backgroundColor: COUNT_COLOURS[k],
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

function renderStats(main) {
  const monthAgo = new Date();
  monthAgo.setDate(monthAgo.getDate() - 30);
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const results = h("div", { class: "stats", "aria-live": "polite" });
  let chart = null;
  const filters = form(
    { class: "grid filters" },
    [
      field("From", h("input", { name: "from", type: "date", value: isoDay(monthAgo), required: true })),
      field("To", h("input", { name: "to", type: "date", value: isoDay(new Date()), required: true }), {
        hint: "Inclusive",
      }),
      field("Region", select("region", REGIONS, { empty: "All regions" })),
      field("Granularity", select("granularity", GRANULARITIES)),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, "Show statistics"),
      ),
    ],
    async (data) => {
      // Days are calendar days, both included.
      const params = {
        from: data.from,
        to: data.to,
        region: data.region,
        granularity: data.granularity,
      };
      const body = await get("/stats/specialties", params);
      const rows = Array.isArray(body) ? body : body?.items || body?.rows || [];
      chart?.destroy();
      chart = null;
      const csv = h(
        "a",
        {
          class: "button secondary",
          href: `${API}/stats/specialties.csv${query(params)}`,
          download: "specialties.csv",
        },
        "Download CSV",
      );
      if (!rows.length)
        return clear(results, h("p", { class: "muted" }, "No consultations in this period."), csv);
      const { labels, numeric } = statColumns(rows);
      const counts = numeric.filter((k) => PREFERRED.includes(k));
      const canvas = h("canvas", {
        role: "img",
        "aria-label": "Consultations by specialty: " + counts.map(humanize).join(", "),
      });
      const suppressed = rows.some((r) => numeric.some((k) => typeof r[k] === "string"));
      clear(
        results,
        h("div", { class: "toolbar" }, h("h2", {}, "By specialty"), csv),
        counts.length ? h("div", { class: "chart" }, canvas) : null,
        suppressed
          ? h(
              "p",
              { class: "hint" },
              "“<5” marks counts under five, hidden to protect privacy; the chart draws them as zero.",
            )
          : null,
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "numbers" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Specialty"),
                labels.map((k) => h("th", { scope: "col" }, humanize(k))),
                numeric.map((k) => h("th", { scope: "col", class: "num" }, humanize(k))),
              ),
            ),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, label(SPECIALTIES, r.specialty)),
                  labels.map((k) => h("td", {}, k === "region" ? label(REGIONS, r[k]) : (r[k] ?? ""))),
                  numeric.map((k) => h("td", { class: "num" }, display(scaled(k, r[k])))),
                ),
              ),
            ),
          ),
        ),
      );
      if (counts.length) chart = await drawChart(canvas, rows, counts);
    },
  );
  main.append(h("section", { class: "card" }, filters), h("section", { class: "card" }, results));
  filters.requestSubmit();
  return () => chart?.destroy();
}

function renderFacilities(main) {
  const list = pagedList({
    load: (cursor) => get("/facilities", { cursor }),
    render: (f) =>
      h(
        "tr",
        {},
        h("td", {}, f.name),
        h("td", {}, label(REGIONS, f.region)),
        h("td", {}, label(CARE_LEVELS, f.level)),
        h("td", {}, shortId(f.id)),
      ),
    tag: "tbody",
    wrap: tableOf(["Name", "Region", "Care level", "ID"]),
    empty: "No facilities yet.",
  });
  const create = form(
    { class: "grid" },
    [
      field("Name", h("input", { name: "name", autocomplete: "off", required: true }), { wide: true }),
      field("Region", select("region", REGIONS, { empty: "Choose…", required: true })),
      field("Care level", select("level", CARE_LEVELS, { empty: "Choose…", required: true })),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, "Add facility")),
    ],
    async (data, el) => {
      const facility = await post("/facilities", data);
      el.reset();
      el.notice.show("success", `${facility.name} is added.`);
      list.reload();
    },
  );
  main.append(
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "new-facility" },
        h("h2", { id: "new-facility" }, "Add a facility"),
        create,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "all-facilities" },
        h("h2", { id: "all-facilities" }, "All facilities"),
        list.el,
      ),
    ),
  );
  list.reload();
}

async function renderUsers(main) {
  const page = await get("/facilities", { limit: 500 }).catch(() => ({ items: [] }));
  const facilities = Object.fromEntries(
    page.items.map((f) => [f.id, `${f.name} (${label(REGIONS, f.region)})`]),
  );
  const role = select("role", ROLES, { empty: "Choose…", required: true });
  const specialties = h(
    "fieldset",
    { class: "field wide checks" },
    h("legend", {}, "Specialties"),
    Object.entries(SPECIALTIES).map(([code, text]) => {
      const id = `spec-${code}`;
      return h(
        "span",
        { class: "radio" },
        h("input", { type: "checkbox", name: "specialties", value: code, id, dataset: { group: "1" } }),
        h("label", { for: id }, text),
      );
    }),
    h("p", { class: "field-error", hidden: true }),
  );
  const onCall = field("On call for emergencies", h("input", { type: "checkbox", name: "on_call" }));
  onCall.classList.add("check");
  const facilityField = field("Facility", select("facility_id", facilities, { empty: "None" }));
  const patientField = field(
    "Patient record ID",
    h("input", { name: "patient_id", autocomplete: "off", spellcheck: "false" }),
    { hint: "Links a patient's login to their record" },
  );
  const created = notice();
  const create = form(
    { class: "grid" },
    [
      field(
        "Username",
        h("input", { name: "username", autocomplete: "off", autocapitalize: "none", required: true }),
      ),
      field(
        "Password",
        h("input", {
          name: "password",
          type: "password",
          autocomplete: "new-password",
          minlength: "8",
          required: true,
        }),
        { hint: "At least 8 characters" },
      ),
      field("Full name", h("input", { name: "full_name", autocomplete: "off", required: true })),
      field("Role", role),
      facilityField,
      patientField,
      specialties,
      onCall,
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, "Create user")),
    ],
    async (data, el) => {
      const body = {
        username: data.username,
        password: data.password,
        full_name: data.full_name,
        role: data.role,
      };
      if (data.facility_id) body.facility_id = data.facility_id;
      if (data.role === "specialist") {
        body.specialties = data.specialties || [];
        body.on_call = data.on_call;
      }
      if (data.role === "patient" && data.patient_id) body.patient_id = data.patient_id;
      const user = await post("/users", body);
      el.reset();
      sync();
      el.notice.hide();
      created.show(
        "success",
        `Created ${user.full_name} (${user.username}), ${ROLES[user.role]}. User ID: `,
        h("code", {}, user.id),
      );
    },
  );
  const sync = () => {
    const r = role.value;
    specialties.hidden = r !== "specialist";
    onCall.hidden = r !== "specialist";
    patientField.hidden = r !== "patient";
    facilityField.hidden = r === "admin";
    for (const box of [specialties, onCall, patientField, facilityField])
      for (const c of box.querySelectorAll("input, select")) c.disabled = box.hidden;
  };
  role.addEventListener("change", sync);
  sync();
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "new-user" },
      h("h2", { id: "new-user" }, "Create a user"),
      created,
      create,
    ),
  );
}

/**
 * Every emergency ("break-glass") access to review, oldest first: who, whose passport, why, how
 * long; and, a click away, the patient's access log, to see what was done under it.
 */
function renderBreakGlass(main, { me }) {
  const list = pagedList({
    load: (cursor) => get("/break-glass", { cursor }),
    render: (b) => {
      const show = h(
        "button",
        { type: "button", class: "secondary", "aria-expanded": "false" },
        "Access log",
      );
      const row = h(
        "tr",
        { dataset: { id: b.id } },
        h("td", {}, when(b.started_at)),
        h("td", {}, person(b.actor, { me, id: b.actor_id })),
        h("td", {}, shortId(b.patient_id)),
        h("td", { class: "reason" }, b.reason),
        h(
          "td",
          {},
          b.ended_at
            ? [badge("consent-revoked", "Ended"), " ", when(b.ended_at)]
            : [badge("consent-active", "Open"), " until ", when(b.ends_at)],
        ),
        h("td", {}, show),
      );
      let detail = null;
      show.addEventListener("click", () => {
        if (detail) {
          detail.remove();
          detail = null;
          show.setAttribute("aria-expanded", "false");
          return;
        }
        const log = accessLog(b.patient_id, {
          me,
          empty: "Nothing is recorded for this patient.",
          caption: "The patient's access log, newest first",
        });
        detail = h("tr", { class: "detail" }, h("td", { colspan: 6 }, log.el));
        row.after(detail);
        show.setAttribute("aria-expanded", "true");
        log.reload();
      });
      return row;
    },
    tag: "tbody",
    wrap: tableOf(
      ["Opened", "Who", "Patient", "Reason", "Status", "Review"],
      "Emergency access sessions, oldest first",
    ),
    empty: "Nobody has used emergency access.",
  });
  main.append(
    h(
      "section",
      { class: "card" },
      h(
        "p",
        { class: "muted" },
        "Emergency access opens a patient's passport for reading without their consent, for at most four hours. Each one is in the patient's access log; review the reasons here, and what was done under them.",
      ),
      list.el,
    ),
  );
  list.reload();
}
