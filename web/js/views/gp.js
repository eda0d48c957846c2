// The GP's pages: my patients (search by name or IIN, register), a patient's page (passport
// under consent, booking, an account for the patient), and the GP's consultations.

import { get, idempotencyKey, post } from "../api.js";
import { attachAll, uploader } from "../upload.js";
import { REGIONS, SPECIALTIES, STATUSES, URGENCIES, label } from "../codes.js";
import {
  busy,
  clear,
  field,
  form,
  h,
  isoDay,
  localInstant,
  notice,
  pagedList,
  radios,
  select,
  uid,
  values,
} from "../dom.js";
import { errorText, formatTime, t } from "../i18n.js";
import { linkNotice } from "../links.js";
import { personLater } from "../people.js";
import { chatAction } from "../chat.js";
import { participantsAction } from "../participants.js";
import { consultationAccessUntil, pointOfCare } from "./consent.js";
import { consultationItem, patientNames, recordAction, refreshOnEvents } from "./consultations.js";
import { followUpCards, renderFollowUp } from "./followup.js";
import { FormProblem, at, gpForm, onDay, showProblem } from "./gp-forms.js";
import { gpPassport } from "./gp-passport.js";
import { moveAction } from "./moving.js";

export const live = true;

const OPEN = new Set(["requested", "scheduled", "in_progress"]);

export const routes = [
  {
    path: "#/patients",
    get title() {
      return t("gp.nav.patients");
    },
    render: renderPatients,
  },
  {
    path: "#/consultations",
    get title() {
      return t("gp.nav.consultations");
    },
    render: renderConsultations,
  },
  {
    path: "#/followup",
    get title() {
      return t("followup.nav");
    },
    render: renderFollowUp,
  },
];

const sexes = () => ({ female: t("gp.sex.female"), male: t("gp.sex.male") });

/** Birth date and sex from an IIN (digits 1-6 YYMMDD, digit 7 century and sex), or null. */
export function fromIin(iin) {
  if (!/^\d{12}$/.test(iin)) return null;
  const century = Number(iin[6]);
  if (century < 1 || century > 6) return null;
  const year = 1700 + 100 * Math.ceil(century / 2) + Number(iin.slice(0, 2));
  const birth = `${year}-${iin.slice(2, 4)}-${iin.slice(4, 6)}`;
  return { birth_date: birth, sex: century % 2 ? "male" : "female" };
}

const patientHref = (patient) => `#/patients?id=${encodeURIComponent(patient.id)}`;

function facts(patient) {
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, t("gp.patient.iin")),
    h("dd", {}, patient.iin),
    h("dt", {}, t("gp.patient.born")),
    h("dd", {}, onDay(patient.birth_date)),
    h("dt", {}, t("gp.patient.sex")),
    h("dd", {}, sexes()[patient.sex] || ""),
    patient.phone ? [h("dt", {}, t("gp.patient.phone")), h("dd", {}, patient.phone)] : null,
  );
}

function patientRow(patient) {
  return h(
    "li",
    { class: "item patient-row" },
    h("a", { class: "patient-name", href: patientHref(patient) }, h("strong", {}, patient.full_name)),
    h("span", { class: "muted" }, ` · ${t("gp.patient.iin")} ${patient.iin} · `, onDay(patient.birth_date)),
  );
}

function wantedPatient() {
  const query = location.hash.split("?")[1] || "";
  return new URLSearchParams(query).get("id");
}

function renderPatients(main, ctx) {
  const id = wantedPatient();
  if (id) return renderPatientPage(main, id, ctx);

  const results = h("div", { class: "found", "aria-live": "polite" });
  const start = h("p", { class: "muted" }, t("gp.search.start"));
  clear(results, start);
  const q = h("input", { name: "q", type: "search", autocomplete: "off", maxlength: "200" });
  const search = gpForm(
    { class: "inline", role: "search" },
    [
      field(t("gp.search.label"), q, { hint: t("gp.search.hint") }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, t("gp.search.submit")),
      ),
    ],
    async (data) => {
      if (!data.q) throw new FormProblem("gp_search_empty", { q: "gp_search_empty" });
      const list = pagedList({
        load: (cursor) => get("/patients", { q: data.q, cursor, limit: 20 }),
        render: patientRow,
        empty: t("gp.search.none"),
      });
      clear(results, list.el);
      await list.reload();
    },
  );

  const register = registerForm((patient) => {
    location.hash = patientHref(patient);
  });

  main.append(
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "find-title" },
        h("h2", { id: "find-title" }, t("gp.search.title")),
        search,
        results,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "register-title" },
        h("h2", { id: "register-title" }, t("gp.register.title")),
        register,
      ),
    ),
  );
  q.focus();
}

function registerForm(onRegistered) {
  const iin = h("input", {
    name: "iin",
    inputmode: "numeric",
    autocomplete: "off",
    maxlength: "12",
    required: true,
  });
  const birth = h("input", { name: "birth_date", type: "date", required: true });
  const sex = select("sex", sexes(), { empty: t("gp.choose"), required: true });
  // The IIN carries the birth date and sex; fill them in unless the GP already did.
  iin.addEventListener("input", () => {
    const derived = fromIin(iin.value.trim());
    if (!derived) return;
    if (!birth.value) birth.value = derived.birth_date;
    if (!sex.value) sex.value = derived.sex;
  });
  return gpForm(
    { class: "grid" },
    [
      field(t("gp.register.iin"), iin, { hint: t("gp.register.iin_hint") }),
      field(
        t("gp.register.full_name"),
        h("input", { name: "full_name", autocomplete: "off", required: true }),
      ),
      field(t("gp.register.birth_date"), birth),
      field(t("gp.register.sex"), sex),
      field(
        t("gp.register.phone"),
        h("input", { name: "phone", type: "tel", autocomplete: "off", placeholder: "+77011234567" }),
        { hint: t("gp.optional") },
      ),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("gp.register.submit")),
      ),
    ],
    async (data, form_) => {
      const missing = Object.fromEntries(
        ["iin", "full_name", "birth_date", "sex"].filter((k) => !data[k]).map((k) => [k, "missing"]),
      );
      if (Object.keys(missing).length) throw new FormProblem("gp_fields_missing", missing);
      const body = { iin: data.iin, full_name: data.full_name, birth_date: data.birth_date, sex: data.sex };
      if (data.phone) body.phone = data.phone;
      const patient = await post("/patients", body);
      form_.reset();
      form_.notice.show("success", t("gp.register.done", { name: patient.full_name }));
      onRegistered(patient);
    },
  );
}

// --- one patient ---------------------------------------------------------------------------

async function renderPatientPage(main, id, { me }) {
  const back = h("p", {}, h("a", { href: "#/patients" }, t("gp.patient.back")));
  let patient;
  try {
    patient = await get(`/patients/${id}`);
  } catch (error) {
    if (error.status === undefined) throw error;
    main.append(back, h("p", { class: "notice error", role: "alert" }, errorText(error)));
    return;
  }
  const booking = h("section", { class: "card", "aria-labelledby": "book-title" });
  const passport = h("section", { class: "card", "aria-labelledby": "passport-title" });
  const account = accountCard(patient);
  const toBooking = h("button", { type: "button", class: "primary" }, t("gp.book.open"));
  toBooking.addEventListener("click", () => {
    booking.scrollIntoView({ block: "start" });
    booking.querySelector("select[name=specialty]")?.focus();
  });
  main.append(
    back,
    h(
      "section",
      { class: "card patient-card", "aria-labelledby": "patient-title" },
      h("h2", { id: "patient-title", class: "patient-name" }, patient.full_name),
      facts(patient),
      h("div", { class: "actions" }, toBooking),
    ),
    h("div", { class: "columns" }, booking, h("div", { class: "stack" }, passport, account)),
    h("div", { class: "columns" }, followUpCards(patient)),
  );
  renderBooking(booking, patient);
  await gpPassport(passport, patient, me);
}

/** An account for the patient: the GP invites them, and the one-time link goes to the
 * patient by SMS (the record's phone) or e-mail, never through the GP. */
function accountCard(patient) {
  const said = notice();
  const open = h("button", { type: "button", class: "secondary" }, t("gp.invite.button"));
  const invite = form(
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
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("gp.invite.send"))),
    ],
    async (data, el) => {
      const body = { username: data.username };
      if (data.email) body.email = data.email;
      const out = await post(`/patients/${patient.id}/account`, body);
      el.hidden = true;
      open.hidden = true;
      linkNotice(said, "admin.patients.created", out);
    },
  );
  open.addEventListener("click", () => {
    invite.hidden = false;
    open.setAttribute("aria-expanded", "true");
    invite.querySelector("input")?.focus();
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "account-title" },
    h("h2", { id: "account-title" }, t("gp.invite.title")),
    h("p", { class: "muted" }, t("gp.invite.explain")),
    h("div", { class: "actions" }, open),
    invite,
    said,
  );
}

function slotLabel(slot) {
  return [
    at(slot.starts_at),
    " – ",
    h("time", { datetime: slot.ends_at }, formatTime(slot.ends_at)),
    slot.region ? h("span", { class: "muted" }, ` · ${label(REGIONS, slot.region)}`) : null,
  ];
}

function renderBooking(section, patient) {
  clear(section, h("h2", { id: "book-title" }, t("gp.book.title")));
  let lastBody = null;
  let key = null;

  const slotPicker = h("div", { class: "slot-picker", hidden: true });
  const slotFilters = h(
    "div",
    { class: "grid" },
    field(t("gp.book.region"), select("region", REGIONS, { empty: t("gp.book.any_region") })),
    field(t("gp.book.from"), h("input", { name: "from", type: "date", value: isoDay(new Date()) })),
  );
  const showSlots = h("button", { type: "button", class: "secondary" }, t("gp.book.show_slots"));
  const slotsBox = h("div", { class: "slots" });
  const slotsField = h(
    "fieldset",
    { class: "field" },
    h("legend", {}, t("gp.book.free_slots")),
    slotsBox,
    h("p", { class: "field-error", hidden: true }),
  );
  slotPicker.append(slotFilters, h("div", { class: "actions" }, showSlots), slotsField);

  const urgencies = Object.fromEntries(Object.keys(URGENCIES).map((k) => [k, label(URGENCIES, k)]));
  const whenField = radios(
    t("gp.book.time"),
    "when",
    { earliest: t("gp.book.earliest"), pick: t("gp.book.pick") },
    "earliest",
  );
  const submit = h("button", { type: "submit", class: "primary" }, t("gp.book.submit"));
  // ECG images, lab results: uploaded as they are chosen, attached once booked.
  const files = uploader();
  const el = gpForm(
    { class: "grid booking", "aria-labelledby": "book-title" },
    [
      h(
        "p",
        { class: "wide selected-patient" },
        `${t("gp.book.patient")}: `,
        h("strong", {}, patient.full_name),
        ` · ${t("gp.patient.iin")} ${patient.iin}`,
      ),
      field(
        t("gp.book.specialty"),
        select("specialty", SPECIALTIES, { empty: t("gp.choose"), required: true }),
      ),
      field(t("gp.book.urgency"), select("urgency", urgencies, { value: "routine" })),
      radios(t("gp.book.mode"), "mode", { video: t("gp.book.video"), async: t("gp.book.async") }, "video"),
      whenField,
      field(t("gp.book.reason"), h("textarea", { name: "reason", rows: "3", required: true }), {
        wide: true,
      }),
      h("div", { class: "wide" }, slotPicker),
      files.element,
      h("div", { class: "actions wide" }, submit),
    ],
    async (data, form_) => {
      const missing = {};
      if (!data.specialty) missing.specialty = "missing";
      if (!data.reason) missing.reason = "missing";
      if (data.mode === "video" && data.when === "pick" && !data.slot_id) missing.slot_id = "gp_choose_slot";
      if (Object.keys(missing).length) throw new FormProblem("gp_fields_missing", missing);
      const body = {
        patient_id: patient.id,
        specialty: data.specialty,
        mode: data.mode,
        urgency: data.urgency,
        reason: data.reason,
      };
      if (data.mode === "video" && data.when === "pick") body.slot_id = data.slot_id;
      // One key per booking: a retry of the same request (a lost answer) books once.
      const text = JSON.stringify(body);
      if (text !== lastBody) [lastBody, key] = [text, idempotencyKey()];
      let booked;
      try {
        booked = await post("/consultations", body, { "Idempotency-Key": key });
      } catch (error) {
        if (error.status === 409 && body.slot_id) loadSlots();
        throw error;
      }
      lastBody = null;
      await attachAll(booked.id, await files.done());
      files.reset();
      // A fresh form for the next booking; the notice says what was booked.
      form_.reset();
      slotPicker.hidden = true;
      slots = null;
      clear(slotsBox);
      sync();
      form_.notice.show(
        "success",
        booked.mode === "video"
          ? t("gp.book.booked", { specialty: label(SPECIALTIES, booked.specialty) })
          : t("gp.book.sent", { specialty: label(SPECIALTIES, booked.specialty) }),
        booked.mode === "video" ? [" ", at(booked.starts_at), ". "] : " ",
        h("a", { href: "#/consultations" }, t("gp.book.see_consultations")),
      );
    },
  );

  let slots = null;
  function loadSlots() {
    const data = values(el);
    if (!data.specialty) {
      showProblem(el, el.notice, new FormProblem("gp_fields_missing", { specialty: "gp_choose_specialty" }));
      return;
    }
    slots = pagedList({
      load: (cursor) =>
        get("/slots", {
          specialty: data.specialty,
          region: data.region,
          from: data.from ? localInstant(data.from) : "",
          cursor,
        }),
      render: (slot) => {
        const id = uid("slot");
        return h(
          "li",
          { class: "radio" },
          h("input", { type: "radio", name: "slot_id", id, value: slot.id }),
          h("label", { for: id }, slotLabel(slot)),
        );
      },
      empty: t("gp.book.no_slots"),
    });
    clear(slotsBox, slots.el);
    return busy(showSlots, slots.reload);
  }
  showSlots.addEventListener("click", loadSlots);
  // What the form starts with is what a reset goes back to.
  for (const input of el.querySelectorAll("input")) {
    input.defaultChecked = input.checked;
    input.defaultValue = input.value;
  }
  for (const option of el.querySelectorAll("option")) option.defaultSelected = option.selected;

  function sync() {
    const data = values(el);
    const video = data.mode === "video";
    whenField.hidden = !video;
    slotPicker.hidden = !(video && data.when === "pick");
    submit.textContent = video ? t("gp.book.submit") : t("gp.book.send");
  }
  el.addEventListener("change", (event) => {
    sync();
    if (event.target.name === "specialty" && !slotPicker.hidden) loadSlots();
    if (event.target.name === "when" && event.target.value === "pick" && !slots && values(el).specialty)
      loadSlots();
  });
  section.append(el);
  sync();
}

// --- consultations -------------------------------------------------------------------------

function renderConsultations(main, { me, live }) {
  const patientName = patientNames();
  const statuses = Object.fromEntries(Object.keys(STATUSES).map((k) => [k, label(STATUSES, k)]));
  const status = select("status", statuses, { empty: t("gp.consultations.all") });
  const list = pagedList({
    load: (cursor) => get("/consultations", { status: status.value, cursor }),
    render: (c) => {
      const consent = consentAction(c);
      const record = recordAction(c, { me });
      const chat = chatAction(c, { me, live });
      // Who takes part, while the consultation is open.
      const people = OPEN.has(c.status) ? participantsAction(c, { me }) : null;
      const move = moveAction(c, { me, onChange: () => list.reload() });
      const item = consultationItem(c, {
        me,
        patientName,
        onChange: () => list.reload(),
        extra: () =>
          [move?.button, record.button, chat.button, people?.button, consent?.button].filter(
            Boolean,
          ),
      });
      item.append(...[move?.panel, record.panel, chat.panel, people?.panel].filter(Boolean));
      if (consent) item.append(consent.panel);
      return item;
    },
    empty: t("gp.consultations.none"),
  });
  status.addEventListener("change", () => list.reload({ fresh: true }));
  main.append(
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "toolbar" },
        field(t("gp.consultations.status"), status),
        h("a", { class: "button primary", href: "#/patients" }, t("gp.consultations.book")),
      ),
      list.el,
    ),
  );
  list.reload();
  return refreshOnEvents(live, () => list.reload());
}

/**
 * "Patient consent" on a consultation: the specialist's access rests on the patient's consent,
 * asked for at booking. The patient approves in their account, or here at the point of care
 * with a one-time code. Returns {button, panel}, or null when consent no longer matters.
 */
function consentAction(c) {
  if (["cancelled", "no_show"].includes(c.status)) return null;
  const panel = h("div", { class: "consent-panel", id: uid("consent"), hidden: true });
  const button = h(
    "button",
    { type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": panel.id },
    t("gp.consent.button"),
  );
  button.addEventListener("click", () => {
    // Rebuilt on every opening: where consent stands is read afresh from the server.
    if (panel.hidden) {
      clear(panel);
      fillConsentPanel(panel, c);
    }
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
  });
  return { button, panel };
}

function fillConsentPanel(panel, c) {
  panel.append(h("h3", {}, t("gp.consent.button")));
  if (!c.specialist_id) {
    panel.append(h("p", {}, t("gp.consent.no_specialist")));
    return;
  }
  const until = consultationAccessUntil(c);
  panel.append(
    h("p", {}, t("gp.consent.specialist_needs"), " ", personLater(c.specialist_id, { me: null })),
    h("p", {}, t("gp.consent.until"), " ", at(until), ". ", t("gp.consent.patient_can")),
    h("h4", {}, t("gp.consent.point_of_care")),
    h("p", { class: "muted" }, t("gp.consent.point_of_care_how")),
    pointOfCare({
      patientId: c.patient_id,
      granteeId: c.specialist_id,
      consultationId: c.id,
      expiresAt: until,
    }),
  );
}
