// The patient's pages: the health passport, consents, and who accessed the data.

import { get, post } from "../api.js";
import { CONSENT_CATEGORIES, PASSPORT_KINDS, SPECIALTIES, label } from "../codes.js";
import {
  badge,
  busy,
  clear,
  field,
  form,
  h,
  humanize,
  isoDay,
  localInstant,
  notice,
  pagedList,
  radios,
  select,
  shortId,
  when,
} from "../dom.js";
import { namePeople, person, roleText } from "../people.js";
import { accessLog } from "./accesslog.js";

export const live = false;

export const routes = [
  { path: "#/passport", title: "My health passport", render: renderPassport },
  { path: "#/consents", title: "Consents", render: renderConsents },
  { path: "#/access-log", title: "Who accessed my data", render: renderAccessLog },
];

function noRecord(main) {
  main.append(
    h(
      "p",
      { class: "notice error", role: "alert" },
      "This account is not linked to a patient record. Ask your clinic to link it.",
    ),
  );
}

// A diagnosis {code, title} reads as "I10 Essential (primary) hypertension".
const itemText = (x) => (x.code ? [x.code, x.title].filter(Boolean).join(" ") : JSON.stringify(x));

function bodyView(body) {
  if (body === null || typeof body !== "object") return h("p", {}, String(body ?? ""));
  const { text, ...rest } = body;
  const facts = Object.entries(rest).filter(
    ([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length),
  );
  return [
    text ? h("p", { class: "entry-text" }, text) : null,
    facts.length
      ? h(
          "dl",
          { class: "facts" },
          facts.map(([k, v]) => [
            h("dt", {}, humanize(k)),
            h(
              "dd",
              {},
              Array.isArray(v)
                ? v.map((x) => (x && typeof x === "object" ? itemText(x) : x)).join(", ")
                : typeof v === "object"
                  ? JSON.stringify(v)
                  : String(v),
            ),
          ]),
        )
      : null,
  ];
}

function renderPassport(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const base = `/patients/${me.patient_id}`;
  // Entries by id, to name a correction's target by its number (earlier entries load first).
  const seqOf = new Map();
  const entryRef = (id) => (seqOf.has(id) ? `entry #${seqOf.get(id)}` : ["entry ", shortId(id)]);
  // The patient's own consultations, to name the one an entry was written in.
  let consultations = null;
  const consultationRef = (id) => {
    const c = consultations?.get(id);
    if (!c) return [" · consultation ", shortId(id)];
    return [` · ${label(SPECIALTIES, c.specialty)} consultation of `, when(c.starts_at || c.created_at)];
  };
  const list = pagedList({
    load: async (cursor) => {
      consultations ??= await get("/consultations", { limit: 500 })
        .then((page) => new Map(page.items.map((c) => [c.id, c])))
        .catch(() => new Map());
      const page = await get(`${base}/passport`, { cursor });
      for (const e of page.items) seqOf.set(e.id, e.seq);
      await namePeople(page.items.map((e) => e.author_id)).catch(() => {});
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
          badge(`kind-${e.kind}`, label(PASSPORT_KINDS, e.kind)),
          when(e.created_at),
          e.superseded_by ? badge("corrected", "Corrected later") : null,
        ),
        h(
          "div",
          { class: "item-body" },
          bodyView(e.body),
          e.amends ? h("p", { class: "amends" }, "Corrects ", entryRef(e.amends)) : null,
        ),
        h(
          "p",
          { class: "meta muted" },
          "Written by ",
          person(null, { id: e.author_id }),
          e.consultation_id ? consultationRef(e.consultation_id) : null,
          " · hash ",
          shortId(e.hash),
        ),
      ),
    empty: "Your passport has no entries yet.",
    tag: "ol",
  });
  const status = notice();
  const verify = h("button", { type: "button", class: "secondary" }, "Check integrity");
  verify.addEventListener("click", () =>
    busy(verify, async () => {
      try {
        const result = await get(`${base}/passport/verify`);
        if (result.ok)
          status.show(
            "success",
            `The passport is intact: ${result.entries} ${result.entries === 1 ? "entry" : "entries"}, each sealed by the one before.`,
          );
        else
          status.show(
            "error",
            "The passport's record chain is broken",
            result.first_bad?.seq ? ` at entry #${result.first_bad.seq}` : "",
            ". Contact your clinic.",
          );
      } catch (error) {
        status.show("error", error.detail);
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
        count === 1
          ? "A doctor asks for access to your passport. "
          : `${count} requests for access are waiting. `,
        h("a", { href: "#/consents" }, "See requests waiting for you"),
      );
      waiting.hidden = false;
    })
    .catch(() => {});
  main.append(
    waiting,
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "toolbar" },
        h("p", { class: "muted" }, "Entries are never changed or deleted; a correction is a new entry."),
        verify,
      ),
      status,
      list.el,
    ),
  );
  list.reload();
}

function consentState(c) {
  if (c.revoked_at || c.status === "revoked") return ["revoked", "Revoked"];
  if (c.expires_at && new Date(c.expires_at) <= new Date()) return ["expired", "Expired"];
  return ["active", "Active"];
}

async function facilityNames() {
  const page = await get("/facilities", { limit: 500 }).catch(() => ({ items: [] }));
  return Object.fromEntries(page.items.map((f) => [f.id, f.name]));
}

async function renderConsents(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const base = `/patients/${me.patient_id}`;
  const facilities = await facilityNames();
  const list = pagedList({
    load: (cursor) => get(`${base}/consents`, { cursor }),
    render: (c) => {
      const [state, stateText] = consentState(c);
      const note = notice();
      const actions = [];
      if (state === "active") {
        const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
        revoke.addEventListener("click", () =>
          busy(revoke, async () => {
            if (!window.confirm("Revoke this access? It stops with the very next request.")) return;
            try {
              await post(`${base}/consents/${c.id}/revoke`);
              list.reload();
            } catch (error) {
              note.show("error", error.detail);
            }
          }),
        );
        actions.push(revoke);
      }
      const grantee = c.grantee_facility_id
        ? c.grantee_facility?.name ||
          facilities[c.grantee_facility_id] ||
          h("span", {}, "Facility ", shortId(c.grantee_facility_id))
        : person(c.grantee, { id: c.grantee_user_id });
      return h(
        "li",
        { class: `item consent ${state}`, dataset: { id: c.id } },
        h(
          "div",
          { class: "item-head" },
          h("strong", {}, grantee),
          badge(`consent-${state}`, stateText),
          badge("access", c.access === "read_write" ? "Read and write" : "Read only"),
        ),
        h(
          "p",
          {},
          "Records: ",
          c.categories?.length ? c.categories.map((k) => label(CONSENT_CATEGORIES, k)).join(", ") : "all",
          " · until ",
          when(c.expires_at),
        ),
        actions.length ? h("div", { class: "actions" }, actions) : null,
        note,
      );
    },
    empty: "You have not given anyone access.",
  });

  const waiting = waitingRequests(base, () => list.reload());

  const inAMonth = new Date();
  inAMonth.setDate(inAMonth.getDate() + 30);
  const granteeKind = radios(
    "Give access to",
    "grantee_kind",
    { facility: "A clinic or hospital", user: "A doctor" },
    "facility",
  );
  const facilityField = field(
    "Clinic or hospital",
    select("grantee_facility_id", facilities, { empty: "Choose…" }),
  );
  const doctors = doctorPicker();
  const userField = doctors.el;
  const categories = h(
    "fieldset",
    { class: "field wide checks" },
    h("legend", {}, "Which records"),
    Object.entries(CONSENT_CATEGORIES).map(([code, text]) => {
      const id = `cat-${code}`;
      return h(
        "span",
        { class: "radio" },
        h("input", { type: "checkbox", name: "categories", value: code, id, dataset: { group: "1" } }),
        h("label", { for: id }, text),
      );
    }),
    h("p", { class: "hint" }, "Leave all unticked to share every kind of record."),
    h("p", { class: "field-error", hidden: true }),
  );
  const grant = form(
    { class: "grid" },
    [
      granteeKind,
      facilityField,
      userField,
      field(
        "Access",
        select("access", { read: "Read only", read_write: "Read and write" }, { value: "read" }),
      ),
      field(
        "Until",
        h("input", {
          name: "expires_at",
          type: "date",
          value: isoDay(inAMonth),
          min: isoDay(new Date()),
          required: true,
        }),
      ),
      categories,
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, "Grant access")),
    ],
    async (data, el) => {
      const body = {
        access: data.access,
        expires_at: data.expires_at ? localInstant(data.expires_at, "23:59") : "",
      };
      if (data.grantee_kind === "facility") body.grantee_facility_id = data.grantee_facility_id;
      else body.grantee_user_id = data.grantee_user_id;
      if (data.categories?.length) body.categories = data.categories;
      const missing = Object.entries(body)
        .filter(([, v]) => v === "")
        .map(([k]) => [k, "required"]);
      if (missing.length) throw { detail: "Fill in the marked fields.", fields: Object.fromEntries(missing) };
      await post(`${base}/consents`, body);
      el.notice.show("success", "Access granted.");
      list.reload();
    },
  );
  const sync = () => {
    const kind = grant.elements.namedItem("grantee_kind").value;
    facilityField.hidden = kind !== "facility";
    userField.hidden = kind !== "user";
    facilityField.querySelector("select").disabled = kind !== "facility";
    doctors.disable(kind !== "user");
  };
  granteeKind.addEventListener("change", sync);
  sync();
  main.append(
    waiting.el,
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "consents-title" },
        h("h2", { id: "consents-title" }, "Who may see my passport"),
        list.el,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "grant-title" },
        h("h2", { id: "grant-title" }, "Give access"),
        grant,
      ),
    ),
  );
  list.reload();
  waiting.reload();
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
    placeholder: "At least 2 letters of the name",
  });
  const pick = h("select", { name: "grantee_user_id" }, h("option", { value: "" }, "Type a name first"));
  let timer = null;
  let asked = 0;
  const find = async () => {
    const text = search.value.trim();
    const mine = ++asked;
    if (text.length < 2) {
      clear(pick, h("option", { value: "" }, "Type a name first"));
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
              found.length === 1 ? "1 doctor found" : `${found.length} doctors found`,
            ),
            found.map((p) => h("option", { value: p.id }, `${p.name} (${roleText(p)})`)),
          ]
        : h("option", { value: "" }, "No doctor by that name"),
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
    field("Doctor's name", search, { hint: "General practitioners and specialists", wide: true }),
    field("Doctor", pick, { wide: true }),
  );
  return {
    el,
    disable: (off) => {
      search.disabled = off;
      pick.disabled = off;
    },
  };
}

/** "For your cardiology video call on Thu, 7 Mar, 09:00": the consultation a request is for. */
function consultationText(c) {
  const what = `${label(SPECIALTIES, c.specialty).toLowerCase()} ${c.mode === "video" ? "video call" : "case"}`;
  return c.starts_at ? [`For your ${what} on `, when(c.starts_at)] : `For your ${what}`;
}

/** Consent requests waiting for the patient, each with Approve; onApproved reloads the grants. */
function waitingRequests(base, onApproved) {
  let grants = [];
  const list = pagedList({
    load: async () => {
      const [requests, given] = await Promise.all([
        get(`${base}/consent-requests`),
        get(`${base}/consents`).catch(() => ({ items: [] })),
      ]);
      grants = given.items;
      return { items: requests.items.filter(isPending), next: null };
    },
    render: (r) => {
      const note = notice();
      const approve = h("button", { type: "button", class: "primary" }, "Approve");
      approve.addEventListener("click", () =>
        busy(approve, async () => {
          note.hide();
          try {
            await post(`/consent-requests/${r.id}/confirm`);
            onApproved();
            await list.reload();
            announce.show("success", "Approved. The access now shows under Who may see my passport.");
          } catch (error) {
            if (!error.detail) throw error;
            note.show("error", error.detail);
          }
        }),
      );
      const decline = h("button", { type: "button", class: "secondary" }, "Decline");
      decline.addEventListener("click", () =>
        busy(decline, async () => {
          note.hide();
          try {
            await post(`/consent-requests/${r.id}/decline`);
            await list.reload();
            announce.show("info", "Declined. Nothing was shared; the clinician sees that you said no.");
          } catch (error) {
            if (!error.detail) throw error;
            note.show("error", error.detail);
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
          h("strong", {}, person(r.grantee, { id: r.grantee_user_id })),
          badge("access", r.access === "read_write" ? "Read and write" : "Read only"),
          covered ? badge("consent-active", "Already given") : null,
        ),
        h(
          "p",
          {},
          r.consultation ? [consultationText(r.consultation), " · "] : null,
          "Records: ",
          r.categories?.length ? r.categories.map((k) => label(CONSENT_CATEGORIES, k)).join(", ") : "all",
          " · until ",
          when(r.expires_at),
        ),
        h(
          "p",
          { class: "meta muted" },
          "Asked ",
          when(r.created_at),
          r.requested_by !== r.grantee_user_id ? [" by ", person(r.requester, { id: r.requested_by })] : null,
          covered ? " · an access you already gave covers this request" : null,
        ),
        h("div", { class: "actions" }, approve, decline),
        note,
      );
    },
    empty: "No requests are waiting for you.",
  });
  const announce = notice();
  const el = h(
    "section",
    { class: "card requests", "aria-labelledby": "requests-title" },
    h("h2", { id: "requests-title" }, "Requests waiting for you"),
    h(
      "p",
      { class: "muted" },
      "A doctor asks to see your health passport. Approve to give exactly the access shown, until the date shown; you can revoke it at any time. If you do not approve, nothing is shared.",
    ),
    announce,
    list.el,
  );
  return { el, reload: () => list.reload() };
}

function renderAccessLog(main, { me }) {
  if (!me.patient_id) return noRecord(main);
  const list = accessLog(me.patient_id, {
    me,
    empty: "Nobody has accessed your data yet.",
    caption: "Access to my data, newest first",
  });
  main.append(
    h(
      "section",
      { class: "card" },
      h(
        "p",
        { class: "muted" },
        "Every read of or change to your records, allowed or refused, including emergency access.",
      ),
      list.el,
    ),
  );
  list.reload();
}
