// The patient's pages: my consultations, the health passport, consents, and who accessed
// the data. Every word from the catalogues (patient.*), times in the chosen language and the
// browser's time zone, people by name, never an id.

import { get, post } from "../api.js";
import { SPECIALTIES, label } from "../codes.js";
import {
  badge,
  busy,
  clear,
  field,
  form,
  h,
  isoDay,
  localInstant,
  notice,
  pagedList,
  select,
} from "../dom.js";
import { formatDateTime, formatDuration, formatTime, has, t } from "../i18n.js";
import { personOf } from "../people.js";
import { accessLog, accessText, at, partsText, personText, readable, roleName } from "./accesslog.js";
import { recordAction } from "./consultations.js";
import { renderMyMeasurements } from "./measurements.js";
import { entrySummary, prepareEntries } from "./passport.js";

export const live = false;

export const routes = [
  {
    path: "#/consultations",
    get title() {
      return t("patient.nav.consultations");
    },
    render: renderConsultations,
  },
  {
    path: "#/passport",
    get title() {
      return t("patient.nav.passport");
    },
    render: renderPassport,
  },
  {
    path: "#/measurements",
    get title() {
      return t("followup.nav_mine");
    },
    render: renderMyMeasurements,
  },
  {
    path: "#/consents",
    get title() {
      return t("patient.nav.consents");
    },
    render: renderConsents,
  },
  {
    path: "#/access-log",
    get title() {
      return t("patient.nav.access_log");
    },
    render: renderAccessLog,
  },
];

const CATEGORIES = ["notes", "diagnoses", "prescriptions", "lab_results", "attachments", "recording"];

function noRecord(main) {
  main.append(h("p", { class: "notice error", role: "alert" }, t("patient.no_record")));
}

/** A pagedList whose load errors read in the chosen language. */
function pages(options) {
  const load = options.load;
  return pagedList({
    ...options,
    load: async (cursor) => {
      try {
        return await load(cursor);
      } catch (error) {
        throw readable(error);
      }
    },
  });
}

/** A form handler whose server errors read in the chosen language, next to their fields. */
const translating =
  (handler) =>
  async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      throw readable(error);
    }
  };

const specialtyName = (code) => label(SPECIALTIES, code);
const sameDay = (a, b) => isoDay(a) === isoDay(b);
const statusBadge = (status) => badge(`status-${status}`, t(`patient.status.${status}`));

// ---- My consultations ---------------------------------------------------------------------

/** When the call opens, or the join button once it is open. */
function callLine(c) {
  if (c.mode !== "video" || !["scheduled", "in_progress"].includes(c.status)) return null;
  if (c.call_open) {
    if (!c.call_invited) return h("p", { class: "call-state muted" }, t("patient.mine.open_at_clinic"));
    return h(
      "p",
      { class: "call-state actions" },
      h(
        "a",
        {
          class: "button primary",
          href: `/static/call.html?consultation=${encodeURIComponent(c.id)}`,
          target: "_blank",
          rel: "noopener",
        },
        t("patient.mine.join"),
      ),
      " ",
      h("span", { class: "muted" }, t("patient.mine.join_hint")),
    );
  }
  if (!c.call_opens_at) return null;
  const opens = new Date(c.call_opens_at);
  const now = new Date();
  const time = sameDay(opens, now) ? formatTime(c.call_opens_at) : formatDateTime(c.call_opens_at);
  const wait = Math.max(0, (opens - now) / 1000);
  return h(
    "p",
    { class: "call-state" },
    h("time", { datetime: c.call_opens_at }, t("patient.mine.opens_at", { time })),
    wait > 0
      ? h("span", { class: "muted" }, ` · ${t("patient.mine.opens_in", { duration: formatDuration(wait) })}`)
      : null,
    c.call_invited ? null : h("span", { class: "muted" }, ` · ${t("patient.mine.at_clinic")}`),
  );
}

function consultationItem(c, me) {
  const past = !["requested", "scheduled", "in_progress"].includes(c.status);
  // A past consultation's full record: the referral, the conclusion, what was written in it.
  const record = past ? recordAction(c, { me }) : null;
  const whenLine = c.starts_at
    ? at(c.starts_at)
    : h("span", {}, t("patient.mine.sent"), " ", at(c.created_at));
  return h(
    "li",
    {
      class: `item consultation patient-consultation${past ? " closed" : ""}`,
      dataset: { status: c.status },
    },
    h(
      "div",
      { class: "item-head" },
      h("span", { class: "when" }, whenLine),
      h("span", { class: "specialty" }, specialtyName(c.specialty)),
      h("span", { class: "badges" }, badge("mode", t(`patient.mode.${c.mode}`)), statusBadge(c.status)),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("patient.mine.specialist")),
      h("dd", {}, c.specialist ? personText(c.specialist, me) : t("patient.mine.no_specialist_yet")),
      c.requester
        ? [h("dt", {}, t("patient.mine.referred_by")), h("dd", {}, personText(c.requester, me))]
        : null,
      h("dt", {}, t("patient.mine.reason")),
      h("dd", { class: "reason" }, c.reason),
    ),
    past ? pastLine(c) : callLine(c),
    record ? [h("div", { class: "actions" }, record.button), record.panel] : null,
  );
}

function pastLine(c) {
  if (c.status === "completed")
    return h(
      "div",
      { class: "conclusion" },
      h("h3", {}, t("patient.mine.conclusion")),
      c.conclusion
        ? h("p", { class: "conclusion-text" }, c.conclusion)
        : h("p", { class: "muted" }, t("patient.mine.no_conclusion")),
      c.ended_at ? h("p", { class: "muted" }, t("patient.mine.completed_at"), " ", at(c.ended_at)) : null,
    );
  if (c.status === "cancelled")
    return h("p", { class: "muted" }, t("patient.mine.cancelled_at"), " ", at(c.cancelled_at));
  return h("p", { class: "muted" }, t("patient.mine.missed"));
}

function renderConsultations(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const base = `/patients/${me.patient_id}/consultations`;
  const list = (when) =>
    pages({
      load: (cursor) => get(base, { when, cursor }),
      render: (c) => consultationItem(c, me),
      empty: t(`patient.mine.empty_${when}`),
    });
  const upcoming = list("upcoming");
  const past = list("past");
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "upcoming-title" },
      h("h2", { id: "upcoming-title" }, t("patient.mine.upcoming")),
      h("p", { class: "muted" }, t("patient.mine.upcoming_hint")),
      upcoming.el,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "past-title" },
      h("h2", { id: "past-title" }, t("patient.mine.past")),
      past.el,
    ),
  );
  upcoming.reload();
  past.reload();
  // The join button appears by itself once the call opens.
  const timer = setInterval(() => upcoming.reload(), 30_000);
  return () => clearInterval(timer);
}

// ---- The health passport ------------------------------------------------------------------

function renderPassport(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const base = `/patients/${me.patient_id}`;
  // Entries by id, to name a correction's target by its number (earlier entries load first).
  const seqOf = new Map();
  let consultations = null;
  const consultationRef = (id) => {
    const c = consultations?.get(id);
    if (!c) return null;
    return [
      " · ",
      t("patient.passport.in_consultation", { specialty: specialtyName(c.specialty) }),
      " ",
      at(c.starts_at || c.created_at),
    ];
  };
  const authorText = (id) => {
    if (id === me.id) return t("patient.person.you");
    const p = personOf(id);
    return p ? personText(p, me) : t("patient.person.unknown");
  };
  const list = pages({
    load: async (cursor) => {
      consultations ??= await get("/consultations", { limit: 500 })
        .then((page) => new Map(page.items.map((c) => [c.id, c])))
        .catch(() => new Map());
      const page = await get(`${base}/passport`, { cursor });
      for (const e of page.items) seqOf.set(e.id, e.seq);
      await prepareEntries(page.items);
      return page;
    },
    render: (e) =>
      h(
        "li",
        { class: `item entry kind-${e.kind}`, dataset: { seq: e.seq } },
        h(
          "div",
          { class: "item-head" },
          h("span", { class: "seq" }, `#${e.seq}`),
          badge(`kind-${e.kind}`, has(`patient.kind.${e.kind}`) ? t(`patient.kind.${e.kind}`) : e.kind),
          at(e.created_at),
          e.superseded_by ? badge("corrected", t("patient.passport.corrected_later")) : null,
        ),
        h(
          "div",
          { class: "item-body" },
          entrySummary(e),
          e.amends
            ? h(
                "p",
                { class: "amends" },
                seqOf.has(e.amends)
                  ? t("patient.passport.corrects", { seq: seqOf.get(e.amends) })
                  : t("patient.passport.corrects_earlier"),
              )
            : null,
        ),
        h(
          "p",
          { class: "meta muted" },
          t("patient.passport.written_by", { person: authorText(e.author_id) }),
          e.consultation_id ? consultationRef(e.consultation_id) : null,
        ),
        h(
          "details",
          { class: "technical" },
          h("summary", {}, t("patient.log.technical")),
          h("code", {}, t("patient.passport.seal", { hash: e.hash })),
        ),
      ),
    empty: t("patient.passport.empty"),
    tag: "ol",
  });
  const status = notice();
  const verify = h("button", { type: "button", class: "secondary" }, t("patient.passport.verify"));
  verify.addEventListener("click", () =>
    busy(verify, async () => {
      try {
        const result = await get(`${base}/passport/verify`);
        if (result.ok)
          status.show("success", t("patient.passport.intact", { count: result.entries, n: result.entries }));
        else
          status.show(
            "error",
            result.first_bad?.seq
              ? t("patient.passport.broken_at", { seq: result.first_bad.seq })
              : t("patient.passport.broken"),
          );
      } catch (error) {
        status.show("error", readable(error).detail);
      }
    }),
  );
  const waiting = h("p", { class: "notice info", hidden: true });
  get(`${base}/consent-requests`)
    .then((page) => {
      const count = page.items.filter(isPending).length;
      if (!count) return;
      clear(
        waiting,
        t("patient.passport.requests_waiting", { count, n: count }),
        " ",
        h("a", { href: "#/consents" }, t("patient.passport.see_requests")),
      );
      waiting.hidden = false;
    })
    .catch(() => {});
  main.append(
    waiting,
    h(
      "section",
      { class: "card" },
      h("div", { class: "toolbar" }, h("p", { class: "muted" }, t("patient.passport.never_changed")), verify),
      status,
      list.el,
    ),
  );
  list.reload();
}

// ---- Consents -----------------------------------------------------------------------------

function consentState(c) {
  if (c.revoked_at) return "revoked";
  if (c.expires_at && new Date(c.expires_at) <= new Date()) return "expired";
  return "active";
}

async function facilityNames() {
  const page = await get("/facilities", { limit: 500 }).catch(() => ({ items: [] }));
  return Object.fromEntries(page.items.map((f) => [f.id, f.name]));
}

const granteeText = (c, me, facilities) =>
  c.grantee_facility_id
    ? c.grantee_facility?.name || facilities?.[c.grantee_facility_id] || t("patient.consents.a_facility")
    : personText(c.grantee, me);

async function renderConsents(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const base = `/patients/${me.patient_id}`;
  const facilities = await facilityNames();
  const list = pages({
    load: (cursor) => get(`${base}/consents`, { cursor }),
    render: (c) => {
      const state = consentState(c);
      const note = notice();
      const actions = [];
      if (state === "active") {
        const revoke = h("button", { type: "button", class: "danger" }, t("patient.consents.revoke"));
        revoke.addEventListener("click", () =>
          busy(revoke, async () => {
            if (!window.confirm(t("patient.consents.revoke_confirm"))) return;
            try {
              await post(`${base}/consents/${c.id}/revoke`);
              list.reload();
            } catch (error) {
              note.show("error", readable(error).detail);
            }
          }),
        );
        actions.push(revoke);
      }
      return h(
        "li",
        { class: `item consent ${state}`, dataset: { id: c.id } },
        h(
          "div",
          { class: "item-head" },
          h("strong", {}, granteeText(c, me, facilities)),
          badge(`consent-${state}`, t(`patient.consents.state.${state}`)),
          badge("access", accessText(c.access)),
        ),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, t("patient.log.fact.parts")),
          h("dd", {}, partsText(c.categories)),
          h("dt", {}, t(state === "revoked" ? "patient.consents.revoked_at" : "patient.log.fact.until")),
          h("dd", {}, at(state === "revoked" ? c.revoked_at : c.expires_at)),
          h("dt", {}, t("patient.consents.given")),
          h(
            "dd",
            {},
            at(c.created_at),
            " · ",
            t(`patient.log.via.${c.source === "one_time_code" ? "one_time_code" : "portal"}`),
          ),
        ),
        actions.length ? h("div", { class: "actions" }, actions) : null,
        note,
      );
    },
    empty: t("patient.consents.empty"),
  });

  const requests = requestLists(base, me, () => list.reload());

  const inAMonth = new Date();
  inAMonth.setDate(inAMonth.getDate() + 30);
  const kindName = `grantee_kind`;
  const granteeKind = h(
    "fieldset",
    { class: "field radios" },
    h("legend", {}, t("patient.consents.give_to")),
    ["facility", "user"].map((code) =>
      h(
        "span",
        { class: "radio" },
        h("input", {
          type: "radio",
          name: kindName,
          id: `grantee-${code}`,
          value: code,
          checked: code === "facility",
        }),
        h("label", { for: `grantee-${code}` }, t(`patient.consents.kind.${code}`)),
      ),
    ),
    h("p", { class: "field-error", hidden: true }),
  );
  const facilityField = field(
    t("patient.consents.facility"),
    select("grantee_facility_id", facilities, { empty: t("patient.consents.choose") }),
  );
  const doctors = doctorPicker();
  const userField = doctors.el;
  const categories = h(
    "fieldset",
    { class: "field wide checks" },
    h("legend", {}, t("patient.consents.which")),
    CATEGORIES.map((code) => {
      const id = `cat-${code}`;
      return h(
        "span",
        { class: "radio" },
        h("input", { type: "checkbox", name: "categories", value: code, id, dataset: { group: "1" } }),
        h("label", { for: id }, t(`patient.category.${code}`)),
      );
    }),
    h("p", { class: "hint" }, t("patient.consents.which_hint")),
    h("p", { class: "field-error", hidden: true }),
  );
  const grant = form(
    { class: "grid" },
    [
      granteeKind,
      facilityField,
      userField,
      field(
        t("patient.consents.access"),
        select(
          "access",
          { read: accessText("read"), read_write: accessText("read_write") },
          { value: "read" },
        ),
      ),
      field(
        t("patient.log.fact.until"),
        h("input", {
          name: "expires_at",
          type: "date",
          value: isoDay(inAMonth),
          min: isoDay(new Date()),
          required: true,
        }),
      ),
      categories,
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("patient.consents.grant")),
      ),
    ],
    translating(async (data, el) => {
      const body = {
        access: data.access,
        expires_at: data.expires_at ? localInstant(data.expires_at, "23:59") : "",
      };
      if (data.grantee_kind === "facility") body.grantee_facility_id = data.grantee_facility_id;
      else body.grantee_user_id = data.grantee_user_id;
      if (data.categories?.length) body.categories = data.categories;
      const missing = Object.entries(body)
        .filter(([, v]) => v === "")
        .map(([k]) => [k, t("field.missing")]);
      if (missing.length)
        throw {
          status: 422,
          detail: t("patient.consents.fill_in"),
          fields: Object.fromEntries(missing),
          fieldCodes: Object.fromEntries(missing.map(([k]) => [k, "missing"])),
        };
      await post(`${base}/consents`, body);
      el.notice.show("success", t("patient.consents.granted"));
      list.reload();
    }),
  );
  const sync = () => {
    const kind = grant.elements.namedItem(kindName).value;
    facilityField.hidden = kind !== "facility";
    userField.hidden = kind !== "user";
    facilityField.querySelector("select").disabled = kind !== "facility";
    doctors.disable(kind !== "user");
  };
  granteeKind.addEventListener("change", sync);
  sync();
  main.append(
    requests.waiting,
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "consents-title" },
        h("h2", { id: "consents-title" }, t("patient.consents.who_may")),
        list.el,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "grant-title" },
        h("h2", { id: "grant-title" }, t("patient.consents.give")),
        grant,
      ),
    ),
    requests.earlier,
  );
  list.reload();
  requests.reload();
}

const isPending = (r) => r.status === "pending" && new Date(r.expires_at) > new Date();

/** Whether an active grant already gives what a request asks (same person, enough access). */
function coveredBy(request, grants) {
  return grants.some(
    (g) =>
      g.grantee_user_id === request.grantee_user_id &&
      !g.revoked_at &&
      new Date(g.expires_at) >= new Date(request.expires_at) &&
      (g.access === "read_write" || request.access === "read") &&
      (!g.categories || (request.categories && request.categories.every((k) => g.categories.includes(k)))),
  );
}

/**
 * Finding the doctor to grant access to by name (GET /people?q=), as the patient types: a
 * search box and the doctors found, each with what they do and where.
 */
function doctorPicker() {
  const search = h("input", {
    type: "search",
    name: "doctor_q",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: t("patient.consents.doctor_placeholder"),
  });
  const first = () => h("option", { value: "" }, t("patient.consents.type_first"));
  const pick = h("select", { name: "grantee_user_id" }, first());
  let timer = null;
  let asked = 0;
  const find = async () => {
    const text = search.value.trim();
    const mine = ++asked;
    if (text.length < 2) {
      clear(pick, first());
      return;
    }
    let found = [];
    try {
      found = (await get("/people", { q: text })).items;
    } catch {
      found = [];
    }
    if (mine !== asked) return; // a later search has started
    clear(
      pick,
      found.length
        ? [
            h(
              "option",
              { value: "" },
              t("patient.consents.doctors_found", { count: found.length, n: found.length }),
            ),
            found.map((p) =>
              h(
                "option",
                { value: p.id },
                `${p.name} (${[roleName(p), p.facility].filter(Boolean).join(", ")})`,
              ),
            ),
          ]
        : h("option", { value: "" }, t("patient.consents.no_doctor")),
    );
    if (found.length === 1) pick.value = found[0].id;
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(find, 250);
  });
  const el = h(
    "div",
    { class: "doctor-picker wide grid" },
    field(t("patient.consents.doctor_name"), search, { hint: t("patient.consents.doctor_hint"), wide: true }),
    field(t("patient.consents.doctor"), pick, { wide: true }),
  );
  return {
    el,
    disable: (off) => {
      search.disabled = off;
      pick.disabled = off;
    },
  };
}

/** "For your cardiology video call on 4 Mar 2030, 09:00": the consultation a request is for. */
function consultationText(c) {
  const what = t(`patient.requests.for_${c.mode === "video" ? "video" : "case"}`, {
    specialty: specialtyName(c.specialty),
  });
  return c.starts_at ? [what, " ", at(c.starts_at)] : what;
}

function requestFacts(r, me) {
  return h(
    "dl",
    { class: "facts" },
    r.consultation
      ? [h("dt", {}, t("patient.requests.for")), h("dd", {}, consultationText(r.consultation))]
      : null,
    h("dt", {}, t("patient.log.fact.access")),
    h("dd", {}, accessText(r.access)),
    h("dt", {}, t("patient.log.fact.parts")),
    h("dd", {}, partsText(r.categories)),
    h("dt", {}, t("patient.log.fact.until")),
    h("dd", {}, at(r.expires_at)),
    h("dt", {}, t("patient.requests.asked")),
    h(
      "dd",
      {},
      at(r.created_at),
      r.requester && r.requested_by !== r.grantee_user_id
        ? [" · ", t("patient.requests.by", { person: personText(r.requester, me) })]
        : null,
    ),
  );
}

/**
 * Consent requests: those waiting for the patient, each with Approve and Decline, and the
 * earlier ones with how they ended (a request locked after wrong codes says so).
 */
function requestLists(base, me, onApproved) {
  let grants = [];
  let all = [];
  const announce = notice();
  const waitingList = pages({
    load: async () => {
      const [requests, given] = await Promise.all([
        get(`${base}/consent-requests`),
        get(`${base}/consents`).catch(() => ({ items: [] })),
      ]);
      grants = given.items;
      all = requests.items;
      return { items: all.filter(isPending), next: null };
    },
    render: (r) => {
      const note = notice();
      const approve = h("button", { type: "button", class: "primary" }, t("patient.requests.approve"));
      approve.addEventListener("click", () =>
        busy(approve, async () => {
          note.hide();
          try {
            await post(`/consent-requests/${r.id}/confirm`);
            onApproved();
            await reload();
            announce.show("success", t("patient.requests.approved"));
          } catch (error) {
            if (error.status === undefined) throw error;
            note.show("error", readable(error).detail);
          }
        }),
      );
      const decline = h("button", { type: "button", class: "secondary" }, t("patient.requests.decline"));
      decline.addEventListener("click", () =>
        busy(decline, async () => {
          note.hide();
          try {
            await post(`/consent-requests/${r.id}/decline`);
            await reload();
            announce.show("info", t("patient.requests.declined"));
          } catch (error) {
            if (error.status === undefined) throw error;
            note.show("error", readable(error).detail);
          }
        }),
      );
      const covered = coveredBy(r, grants);
      return h(
        "li",
        { class: "item consent-request", dataset: { id: r.id } },
        h(
          "div",
          { class: "item-head" },
          h("strong", {}, personText(r.grantee, me)),
          badge("access", accessText(r.access)),
          covered ? badge("consent-active", t("patient.requests.already_given")) : null,
        ),
        requestFacts(r, me),
        covered ? h("p", { class: "muted" }, t("patient.requests.covered")) : null,
        h("div", { class: "actions" }, approve, decline),
        note,
      );
    },
    empty: t("patient.requests.none_waiting"),
  });
  const earlierList = pages({
    load: async () => ({ items: all.filter((r) => !isPending(r)), next: null }),
    render: (r) => {
      const status = r.status === "pending" ? "lapsed" : r.status;
      return h(
        "li",
        { class: `item consent-request earlier request-${status}`, dataset: { id: r.id } },
        h(
          "div",
          { class: "item-head" },
          h("strong", {}, personText(r.grantee, me)),
          badge(`request-${status}`, t(`patient.requests.status.${status}`)),
        ),
        requestFacts(r, me),
        h(
          "p",
          { class: status === "locked" ? "notice warning" : "muted" },
          t(`patient.requests.explain.${status}`),
        ),
      );
    },
    empty: t("patient.requests.none_earlier"),
  });
  const waiting = h(
    "section",
    { class: "card requests", "aria-labelledby": "requests-title" },
    h("h2", { id: "requests-title" }, t("patient.requests.waiting")),
    h("p", { class: "muted" }, t("patient.requests.intro")),
    announce,
    waitingList.el,
  );
  const earlier = h(
    "section",
    { class: "card requests-earlier", "aria-labelledby": "earlier-title" },
    h("h2", { id: "earlier-title" }, t("patient.requests.earlier")),
    earlierList.el,
  );
  async function reload() {
    try {
      await waitingList.reload();
    } finally {
      await earlierList.reload();
    }
  }
  return { waiting, earlier, reload };
}

// ---- Who accessed my data -----------------------------------------------------------------

function renderAccessLog(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const list = accessLog(me.patient_id, {
    me,
    empty: t("patient.log.empty"),
    caption: t("patient.log.caption"),
  });
  main.append(h("section", { class: "card" }, h("p", { class: "muted" }, t("patient.log.intro")), list.el));
  list.reload();
}
