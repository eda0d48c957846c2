// The administrator's pages: statistics by specialty and by region, facilities, users,
// emergency access to review. Every visible text comes from the catalogues (admin.* keys).

import { API, get, post, query, request } from "../api.js";
import { CARE_LEVELS, REGIONS, SPECIALTIES, label } from "../codes.js";
import {
  badge,
  busy,
  clear,
  field,
  form,
  h,
  isoDay,
  notice,
  pagedList,
  select,
  tableOf,
} from "../dom.js";
import { errorText, formatDate, formatDateTime, formatNumber, formatDuration, language, t } from "../i18n.js";
import { linkNotice } from "../links.js";
import { person } from "../people.js";
import { accessLog } from "./accesslog.js";
import { codingRoute } from "./coding.js";
import { proofRoute } from "./proof.js";
import { renderProgrammesAdmin } from "./followup.js";

export const live = false;

// Titles are read when the navigation is drawn, so they follow the chosen language.
export const routes = [
  {
    path: "#/stats",
    get title() {
      return t("admin.nav.stats");
    },
    render: renderStats,
  },
  {
    path: "#/facilities",
    get title() {
      return t("admin.nav.facilities");
    },
    render: renderFacilities,
  },
  {
    path: "#/users",
    get title() {
      return t("admin.nav.users");
    },
    render: renderUsers,
  },
  {
    path: "#/break-glass",
    get title() {
      return t("admin.nav.break_glass");
    },
    render: renderBreakGlass,
  },
  proofRoute,
  codingRoute,
  {
    path: "#/programmes",
    get title() {
      return t("followup.admin.nav");
    },
    render: renderProgrammesAdmin,
  },
];

const ROLE_CODES = ["admin", "gp", "specialist", "patient"];
const roleTable = () => Object.fromEntries(ROLE_CODES.map((r) => [r, t(`common.role.${r}`)]));
const regionTable = () => Object.fromEntries(Object.keys(REGIONS).map((c) => [c, label(REGIONS, c)]));
const levelTable = () => Object.fromEntries(Object.keys(CARE_LEVELS).map((c) => [c, label(CARE_LEVELS, c)]));

// ---- Statistics -------------------------------------------------------------------------

const COUNTS = ["requested", "completed", "cancelled", "no_show"];
const TIMES = ["wait_median_s", "wait_p90_s", "duration_median_s", "turnaround_median_s"];
const COLOURS = ["#2563eb", "#15803d", "#b45309", "#b91c1c", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f"];
const COUNT_COLOURS = {
  requested: COLOURS[0],
  completed: COLOURS[1],
  cancelled: COLOURS[2],
  no_show: COLOURS[3],
};
const SUPPRESSED = "<5";
const PERIOD_PAGE = 12;

const measureName = (key) => t(`admin.stats.measure.${key}`);
const regionName = (code) => (code ? label(REGIONS, code) : t("admin.stats.no_region"));

/** A count as shown: the number, or "<5" (explained beside the table). */
const showCount = (v) => (v === SUPPRESSED ? SUPPRESSED : typeof v === "number" ? formatNumber(v) : "—");
/** A time in hours or days; a suppressed or missing one is a dash (explained below the table). */
const showTime = (v) => (typeof v === "number" ? formatDuration(v) : "—");
const showShare = (v) =>
  typeof v === "number" ? formatNumber(v, { style: "percent", maximumFractionDigits: 0 }) : "—";
const asNumber = (v) => (typeof v === "number" ? v : 0);

let chartLoaded = null;
async function chartClass() {
  chartLoaded ||= import("../../vendor/chart.js/chart.umd.min.js");
  await chartLoaded;
  const { Chart } = globalThis;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#3e4c59";
  return Chart;
}

async function barChart(canvas, labels, datasets, { stacked = false } = {}) {
  const Chart = await chartClass();
  return new Chart(canvas, {
    type: "bar",
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: language(),
      scales: {
        x: { stacked },
        y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
}

function numbersTable(caption, head, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "numbers" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, head)),
      h("tbody", {}, rows),
    ),
  );
}

/** The footnotes a table needs: "<5" where a count is hidden, "—" where a time is. */
function footnotes(rows) {
  const counts = rows.some((r) => COUNTS.some((k) => r[k] === SUPPRESSED));
  const times = rows.some((r) => TIMES.some((k) => typeof r[k] !== "number"));
  return [
    counts ? h("p", { class: "hint admin-suppressed" }, t("admin.stats.suppressed_counts")) : null,
    times ? h("p", { class: "hint" }, t("admin.stats.suppressed_times")) : null,
  ].filter(Boolean);
}

/** The by-specialty table (whole period), or by period then specialty, a page at a time. */
function specialtySection(rows, granularity) {
  const body = h("div", {});
  const periods = [...new Set(rows.map((r) => r.period))];
  let page = 0;
  const pages = Math.max(1, Math.ceil(periods.length / PERIOD_PAGE));
  const head = () => [
    granularity ? h("th", { scope: "col" }, t("admin.stats.period")) : null,
    h("th", { scope: "col" }, t("admin.stats.specialty")),
    COUNTS.map((k) => h("th", { scope: "col", class: "num" }, measureName(k))),
    TIMES.map((k) => h("th", { scope: "col", class: "num" }, measureName(k))),
    h("th", { scope: "col", class: "num" }, measureName("answered_within_target")),
  ];
  const line = (r) =>
    h(
      "tr",
      {},
      granularity ? h("td", {}, formatDate(r.period)) : null,
      h("th", { scope: "row" }, label(SPECIALTIES, r.specialty)),
      COUNTS.map((k) => h("td", { class: "num" }, showCount(r[k]))),
      TIMES.map((k) => h("td", { class: "num" }, showTime(r[k]))),
      h("td", { class: "num" }, showShare(r.answered_within_target)),
    );
  const prev = h("button", { type: "button", class: "secondary" }, t("admin.stats.previous"));
  const next = h("button", { type: "button", class: "secondary" }, t("admin.stats.next"));
  const where = h("span", { class: "muted", "aria-live": "polite" });
  const pager = h("div", { class: "admin-pager" }, prev, where, next);
  const draw = () => {
    const shown = granularity ? new Set(periods.slice(page * PERIOD_PAGE, (page + 1) * PERIOD_PAGE)) : null;
    const visible = shown ? rows.filter((r) => shown.has(r.period)) : rows;
    clear(body, numbersTable(t("admin.stats.by_specialty"), head(), visible.map(line)));
    pager.hidden = pages < 2;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    where.textContent = t("admin.stats.page", { n: page + 1, of: pages });
  };
  prev.addEventListener("click", () => {
    page = Math.max(0, page - 1);
    draw();
  });
  next.addEventListener("click", () => {
    page = Math.min(pages - 1, page + 1);
    draw();
  });
  draw();
  return h("div", {}, body, pager);
}

async function renderStatsResults(results, params) {
  const [bySpecialty, byRegion] = await Promise.all([
    get("/stats/specialties", params),
    get("/stats/regions", { from: params.from, to: params.to }),
  ]);
  const rows = bySpecialty.items || [];
  const regionRows = (byRegion.items || []).filter((r) => !params.region || r.region === params.region);
  const charts = [];
  const csv = h(
    "a",
    {
      class: "button secondary",
      href: `${API}/stats/specialties.csv${query(params)}`,
      download: "specialties.csv",
    },
    t("admin.stats.csv"),
  );

  // By specialty: chart of the counts (summed over periods) and the table.
  const specialtyCard = h(
    "section",
    { class: "card", "aria-labelledby": "by-specialty" },
    h("div", { class: "toolbar" }, h("h2", { id: "by-specialty" }, t("admin.stats.by_specialty")), csv),
  );
  let specialtyCanvas = null;
  if (!rows.length) specialtyCard.append(h("p", { class: "muted" }, t("admin.stats.empty")));
  else {
    const sums = new Map();
    for (const r of rows) {
      const s = sums.get(r.specialty) || {};
      for (const k of COUNTS) s[k] = (s[k] || 0) + asNumber(r[k]);
      sums.set(r.specialty, s);
    }
    specialtyCanvas = h("canvas", { role: "img", "aria-label": t("admin.stats.chart_specialty") });
    specialtyCard.append(
      h("div", { class: "chart" }, specialtyCanvas),
      specialtySection(rows, params.granularity),
      ...footnotes(rows),
    );
    charts.push(() =>
      barChart(
        specialtyCanvas,
        [...sums.keys()].map((s) => label(SPECIALTIES, s)),
        COUNTS.map((k) => ({
          label: measureName(k),
          data: [...sums.values()].map((s) => s[k]),
          backgroundColor: COUNT_COLOURS[k],
        })),
      ),
    );
  }

  // By region: a region × specialty table of one measure, and a stacked chart of requests.
  const regionCard = h(
    "section",
    { class: "card", "aria-labelledby": "by-region" },
    h("h2", { id: "by-region" }, t("admin.stats.by_region")),
  );
  if (!regionRows.length) regionCard.append(h("p", { class: "muted" }, t("admin.stats.empty")));
  else {
    const regions = [...new Set(regionRows.map((r) => r.region))];
    const specialties = [...new Set(regionRows.map((r) => r.specialty))];
    const cell = new Map(regionRows.map((r) => [`${r.region}|${r.specialty}`, r]));
    const measures = Object.fromEntries(
      [...COUNTS, "wait_median_s", "duration_median_s"].map((k) => [k, measureName(k)]),
    );
    const measure = select("measure", measures, { value: "requested" });
    const table = h("div", {});
    const drawTable = () => {
      const key = measure.value;
      const show = COUNTS.includes(key) ? showCount : showTime;
      clear(
        table,
        numbersTable(
          t("admin.stats.region_table", { measure: measures[key] }),
          [
            h("th", { scope: "col" }, t("admin.stats.region")),
            specialties.map((s) => h("th", { scope: "col", class: "num" }, label(SPECIALTIES, s))),
          ],
          regions.map((region) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, regionName(region)),
              specialties.map((s) => {
                const r = cell.get(`${region}|${s}`);
                return h(
                  "td",
                  { class: "num" },
                  r ? show(r[key]) : COUNTS.includes(key) ? formatNumber(0) : "—",
                );
              }),
            ),
          ),
        ),
      );
    };
    measure.addEventListener("change", drawTable);
    drawTable();
    const regionCanvas = h("canvas", { role: "img", "aria-label": t("admin.stats.chart_region") });
    regionCard.append(
      h("div", { class: "chart" }, regionCanvas),
      h("div", { class: "admin-measure" }, field(t("admin.stats.measure"), measure)),
      table,
      ...footnotes(regionRows),
    );
    charts.push(() =>
      barChart(
        regionCanvas,
        regions.map(regionName),
        specialties.map((s, i) => ({
          label: label(SPECIALTIES, s),
          data: regions.map((region) => asNumber(cell.get(`${region}|${s}`)?.requested)),
          backgroundColor: COLOURS[i % COLOURS.length],
        })),
        { stacked: true },
      ),
    );
  }
  clear(results, h("div", { class: "columns admin-stats" }, specialtyCard, regionCard));
  return Promise.all(charts.map((draw) => draw()));
}

function renderStats(main) {
  const monthAgo = new Date();
  monthAgo.setDate(monthAgo.getDate() - 30);
  const results = h("div", { class: "stats", "aria-live": "polite" });
  let charts = [];
  const granularities = {
    "": t("admin.stats.granularity.none"),
    day: t("admin.stats.granularity.day"),
    week: t("admin.stats.granularity.week"),
    month: t("admin.stats.granularity.month"),
  };
  const filters = form(
    { class: "grid filters" },
    [
      field(
        t("admin.stats.from"),
        h("input", { name: "from", type: "date", value: isoDay(monthAgo), required: true }),
      ),
      field(
        t("admin.stats.to"),
        h("input", { name: "to", type: "date", value: isoDay(new Date()), required: true }),
        {
          hint: t("admin.stats.inclusive"),
        },
      ),
      field(
        t("admin.stats.region"),
        select("region", regionTable(), { empty: t("admin.stats.all_regions") }),
      ),
      field(t("admin.stats.granularity"), select("granularity", granularities)),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("admin.stats.show")),
      ),
    ],
    async (data) => {
      const params = { from: data.from, to: data.to, region: data.region, granularity: data.granularity };
      for (const c of charts) c?.destroy();
      charts = (await renderStatsResults(results, params)) || [];
    },
  );
  main.append(h("section", { class: "card" }, filters), results);
  filters.requestSubmit();
  return () => {
    for (const c of charts) c?.destroy();
  };
}

// ---- Facilities -------------------------------------------------------------------------

function facilityName(f) {
  return f.names?.[language()] || f.name;
}

function facilityFields(f = {}) {
  return [
    field(
      t("admin.facilities.name_en"),
      h("input", { name: "name", autocomplete: "off", required: true, value: f.name_en ?? "" }),
      { wide: true },
    ),
    field(
      t("admin.facilities.name_kk"),
      h("input", { name: "name_kk", autocomplete: "off", lang: "kk", value: f.name_kk ?? "" }),
      { wide: true },
    ),
    field(
      t("admin.facilities.name_ru"),
      h("input", { name: "name_ru", autocomplete: "off", lang: "ru", value: f.name_ru ?? "" }),
      { wide: true },
    ),
    field(
      t("admin.facilities.region"),
      select("region", regionTable(), { empty: t("admin.choose"), required: true, value: f.region }),
    ),
    field(
      t("admin.facilities.level"),
      select("level", levelTable(), { empty: t("admin.choose"), required: true, value: f.level }),
    ),
  ];
}

const facilityBody = (data) => ({
  name: data.name,
  name_kk: data.name_kk || null,
  name_ru: data.name_ru || null,
  region: data.region,
  level: data.level,
});

function renderFacilities(main) {
  const saved = notice();
  const list = pagedList({
    load: (cursor) => get("/facilities", { cursor }),
    render: (f) => {
      const edit = h(
        "button",
        { type: "button", class: "secondary", "aria-expanded": "false" },
        t("admin.facilities.edit"),
      );
      edit.setAttribute("aria-label", t("admin.facilities.edit_named", { name: facilityName(f) }));
      const row = h(
        "tr",
        {},
        h("th", { scope: "row" }, facilityName(f)),
        h("td", { dataset: { label: t("admin.facilities.region") } }, label(REGIONS, f.region)),
        h("td", { dataset: { label: t("admin.facilities.level") } }, label(CARE_LEVELS, f.level)),
        h("td", {}, edit),
      );
      let detail = null;
      edit.addEventListener("click", () => {
        if (detail) {
          detail.remove();
          detail = null;
          edit.setAttribute("aria-expanded", "false");
          return;
        }
        const editor = form(
          { class: "grid admin-edit" },
          [
            ...facilityFields(f),
            h(
              "div",
              { class: "actions wide" },
              h("button", { type: "submit", class: "primary" }, t("admin.facilities.save")),
            ),
          ],
          async (data) => {
            const updated = await request("PATCH", `/facilities/${f.id}`, { body: facilityBody(data) });
            saved.show("success", t("admin.facilities.saved", { name: facilityName(updated) }));
            list.reload();
          },
        );
        detail = h("tr", { class: "detail" }, h("td", { colspan: 4 }, editor));
        row.after(detail);
        edit.setAttribute("aria-expanded", "true");
        editor.querySelector("input")?.focus();
      });
      return row;
    },
    tag: "tbody",
    wrap: tableOf(
      [
        t("admin.facilities.name"),
        t("admin.facilities.region"),
        t("admin.facilities.level"),
        t("admin.facilities.actions"),
      ],
      t("admin.facilities.all"),
    ),
    empty: t("admin.facilities.empty"),
  });
  const create = form(
    { class: "grid" },
    [
      ...facilityFields(),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("admin.facilities.add")),
      ),
    ],
    async (data, el) => {
      const facility = await post("/facilities", facilityBody(data));
      el.reset();
      el.notice.show("success", t("admin.facilities.added", { name: facilityName(facility) }));
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
        h("h2", { id: "new-facility" }, t("admin.facilities.new")),
        create,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "all-facilities" },
        h("h2", { id: "all-facilities" }, t("admin.facilities.all")),
        saved,
        h("div", { class: "admin-stack" }, list.el),
      ),
    ),
  );
  list.reload();
}

// ---- Users ------------------------------------------------------------------------------

function usersList(me, linkNote) {
  let filter = {};
  const list = pagedList({
    load: (cursor) => get("/users", { ...filter, cursor, limit: 20 }),
    render: (u) => {
      const toggle = h(
        "button",
        { type: "button", class: "secondary" },
        u.is_active ? t("admin.users.disable") : t("admin.users.enable"),
      );
      toggle.setAttribute(
        "aria-label",
        t(u.is_active ? "admin.users.disable_named" : "admin.users.enable_named", { name: u.full_name }),
      );
      toggle.hidden = u.id === me.id;
      const reset = h("button", { type: "button", class: "secondary" }, t("admin.users.reset"));
      reset.setAttribute("aria-label", t("admin.users.reset_named", { name: u.full_name }));
      const rowNote = notice();
      toggle.addEventListener("click", () =>
        busy(toggle, async () => {
          if (u.is_active && !window.confirm(t("admin.users.confirm_disable", { name: u.full_name }))) return;
          try {
            await post(`/users/${u.id}/${u.is_active ? "disable" : "enable"}`);
            list.reload();
          } catch (error) {
            if (!error.status) throw error;
            rowNote.show("error", errorText(error));
          }
        }),
      );
      reset.addEventListener("click", () =>
        busy(reset, async () => {
          try {
            linkNotice(linkNote, "admin.users.reset_issued", await post(`/users/${u.id}/password-reset`));
          } catch (error) {
            if (!error.status) throw error;
            rowNote.show("error", errorText(error));
          }
        }),
      );
      return h(
        "tr",
        {},
        h("th", { scope: "row" }, u.full_name),
        h("td", { dataset: { label: t("admin.users.username") } }, u.username),
        h("td", { dataset: { label: t("admin.users.role") } }, t(`common.role.${u.role}`)),
        h("td", { dataset: { label: t("admin.users.facility") } }, u.facility ?? "—"),
        h(
          "td",
          { dataset: { label: t("admin.users.status") } },
          u.is_active
            ? badge("consent-active", t("admin.users.active"))
            : badge("consent-revoked", t("admin.users.disabled")),
        ),
        h("td", { class: "admin-actions" }, toggle, reset, rowNote),
      );
    },
    tag: "tbody",
    wrap: tableOf(
      [
        t("admin.users.full_name"),
        t("admin.users.username"),
        t("admin.users.role"),
        t("admin.users.facility"),
        t("admin.users.status"),
        t("admin.users.actions"),
      ],
      t("admin.users.all"),
    ),
    empty: t("admin.users.none"),
  });
  const search = form(
    { class: "grid filters", role: "search" },
    [
      field(t("admin.users.search"), h("input", { name: "q", type: "search", autocomplete: "off" }), {
        hint: t("admin.users.search_hint"),
      }),
      field(t("admin.users.role"), select("role", roleTable(), { empty: t("admin.users.any_role") })),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, t("admin.users.find")),
      ),
    ],
    async (data) => {
      filter = { q: data.q || undefined, role: data.role || undefined };
      await list.reload({ fresh: true });
    },
  );
  return { search, list };
}

/** An account for a patient: found by name or IIN and picked, never typed as a record id. */
function patientAccount() {
  const linkNote = notice();
  const results = h("ul", { class: "admin-picks" });
  const picked = h("p", { class: "admin-picked", "aria-live": "polite" });
  let chosen = null;
  const finder = form(
    { class: "grid filters", role: "search" },
    [
      field(
        t("admin.patients.search"),
        h("input", { name: "q", type: "search", autocomplete: "off", minlength: "2" }),
        {
          hint: t("admin.patients.search_hint"),
        },
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "secondary" }, t("admin.patients.find")),
      ),
    ],
    async (data) => {
      const page = await get("/admin/patients", { q: data.q });
      clear(
        results,
        page.items.length
          ? page.items.map((p) => {
              const pick = h(
                "button",
                { type: "button", class: "secondary", disabled: p.has_account },
                p.has_account ? t("admin.patients.has_account") : t("admin.patients.pick"),
              );
              pick.setAttribute("aria-label", t("admin.patients.pick_named", { name: p.full_name }));
              pick.addEventListener("click", () => {
                chosen = p;
                picked.textContent = t("admin.patients.chosen", {
                  name: p.full_name,
                  born: formatDate(p.birth_date),
                });
                create.hidden = false;
                create.querySelector("input")?.focus();
              });
              return h(
                "li",
                {},
                h(
                  "span",
                  {},
                  h("strong", {}, p.full_name),
                  " · ",
                  t("admin.patients.iin", { iin: p.iin }),
                  " · ",
                  formatDate(p.birth_date),
                ),
                pick,
              );
            })
          : h("li", { class: "muted" }, t("admin.patients.none")),
      );
    },
  );
  const create = form(
    { class: "grid", hidden: true },
    [
      field(
        t("admin.users.username"),
        h("input", { name: "username", autocomplete: "off", autocapitalize: "none", required: true }),
      ),
      field(
        t("admin.users.email"),
        h("input", { name: "email", type: "email", autocomplete: "off", autocapitalize: "none" }),
        { hint: t("admin.patients.email_hint") },
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, t("admin.patients.create")),
      ),
    ],
    async (data, el) => {
      const body = { username: data.username };
      if (data.email) body.email = data.email;
      const out = await post(`/patients/${chosen.id}/account`, body);
      el.reset();
      el.hidden = true;
      picked.textContent = "";
      clear(results);
      linkNotice(linkNote, "admin.patients.created", out);
    },
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "patient-account" },
    h("h2", { id: "patient-account" }, t("admin.patients.title")),
    h("p", { class: "muted" }, t("admin.patients.intro")),
    finder,
    results,
    picked,
    create,
    linkNote,
  );
}

async function renderUsers(main, { me }) {
  const page = await get("/facilities", { limit: 500 }).catch(() => ({ items: [] }));
  const facilities = Object.fromEntries(
    page.items.map((f) => [f.id, `${facilityName(f)} (${label(REGIONS, f.region)})`]),
  );
  const staffRoles = Object.fromEntries(Object.entries(roleTable()).filter(([r]) => r !== "patient"));
  const role = select("role", staffRoles, { empty: t("admin.choose"), required: true });
  const specialties = h(
    "fieldset",
    { class: "field wide checks" },
    h("legend", {}, t("admin.users.specialties")),
    Object.keys(SPECIALTIES).map((code) => {
      const id = `spec-${code}`;
      return h(
        "span",
        { class: "radio" },
        h("input", { type: "checkbox", name: "specialties", value: code, id, dataset: { group: "1" } }),
        h("label", { for: id }, label(SPECIALTIES, code)),
      );
    }),
    h("p", { class: "field-error", hidden: true }),
  );
  const onCall = field(t("admin.users.on_call"), h("input", { type: "checkbox", name: "on_call" }));
  onCall.classList.add("check");
  const facilityField = field(
    t("admin.users.facility"),
    select("facility_id", facilities, { empty: t("admin.none") }),
  );
  const created = notice();
  const linkNote = notice();
  const { search, list } = usersList(me, linkNote);
  const create = form(
    { class: "grid" },
    [
      field(
        t("admin.users.username"),
        h("input", { name: "username", autocomplete: "off", autocapitalize: "none", required: true }),
      ),
      field(
        t("admin.users.password"),
        h("input", {
          name: "password",
          type: "password",
          autocomplete: "new-password",
          minlength: "12",
          required: true,
        }),
        { hint: t("admin.users.password_hint") },
      ),
      field(
        t("admin.users.full_name"),
        h("input", { name: "full_name", autocomplete: "off", required: true }),
      ),
      field(
        t("admin.users.email"),
        h("input", { name: "email", type: "email", autocomplete: "off", autocapitalize: "none" }),
      ),
      field(
        t("admin.users.phone"),
        h("input", { name: "phone", type: "tel", autocomplete: "off" }),
        { hint: t("admin.users.contact_hint") },
      ),
      field(t("admin.users.role"), role),
      facilityField,
      specialties,
      onCall,
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("admin.users.create")),
      ),
    ],
    async (data, el) => {
      const body = {
        username: data.username,
        password: data.password,
        full_name: data.full_name,
        role: data.role,
      };
      if (data.facility_id) body.facility_id = data.facility_id;
      if (data.email) body.email = data.email;
      if (data.phone) body.phone = data.phone;
      if (data.role === "specialist") {
        body.specialties = data.specialties || [];
        body.on_call = data.on_call;
      }
      const user = await post("/users", body);
      el.reset();
      sync();
      el.notice.hide();
      created.show(
        "success",
        t("admin.users.created", {
          name: user.full_name,
          username: user.username,
          role: t(`common.role.${user.role}`),
        }),
      );
      list.reload();
    },
  );
  const sync = () => {
    const r = role.value;
    specialties.hidden = r !== "specialist";
    onCall.hidden = r !== "specialist";
    facilityField.hidden = r === "admin";
    for (const box of [specialties, onCall, facilityField])
      for (const c of box.querySelectorAll("input, select")) c.disabled = box.hidden;
  };
  role.addEventListener("change", sync);
  sync();
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "all-users" },
      h("h2", { id: "all-users" }, t("admin.users.all")),
      search,
      linkNote,
      h("div", { class: "admin-stack" }, list.el),
    ),
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "new-user" },
        h("h2", { id: "new-user" }, t("admin.users.new")),
        created,
        create,
      ),
      patientAccount(),
    ),
  );
  list.reload();
}

// ---- Emergency access -------------------------------------------------------------------

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
        t("admin.glass.access_log"),
      );
      const row = h(
        "tr",
        {},
        h("td", {}, formatDateTime(b.started_at)),
        h("td", {}, person(b.actor, { me, id: b.actor_id })),
        h("td", {}, b.patient_name || "—"),
        h("td", { class: "reason" }, b.reason),
        h(
          "td",
          {},
          b.ended_at
            ? [badge("consent-revoked", t("admin.glass.ended")), " ", formatDateTime(b.ended_at)]
            : [
                badge("consent-active", t("admin.glass.open")),
                " ",
                t("admin.glass.until", { time: formatDateTime(b.ends_at) }),
              ],
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
          empty: t("admin.glass.log_empty"),
          caption: t("admin.glass.log_caption"),
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
      [
        t("admin.glass.opened"),
        t("admin.glass.who"),
        t("admin.glass.patient"),
        t("admin.glass.reason"),
        t("admin.glass.status"),
        t("admin.glass.review"),
      ],
      t("admin.glass.caption"),
    ),
    empty: t("admin.glass.empty"),
  });
  main.append(h("section", { class: "card" }, h("p", { class: "muted" }, t("admin.glass.intro")), list.el));
  list.reload();
}
