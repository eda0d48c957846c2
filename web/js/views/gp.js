// The GP's pages: find or register a patient, book a consultation, follow its consultations.

import { get, idempotencyKey, post } from "../api.js";
import { REGIONS, SPECIALTIES, STATUSES, URGENCIES, label } from "../codes.js";
import {
  busy,
  clear,
  day,
  field,
  form,
  h,
  isoDay,
  localInstant,
  pagedList,
  radios,
  select,
  showError,
  uid,
  values,
  when,
} from "../dom.js";
import { personLater } from "../people.js";
import { ACCESS_TEXT, consultationAccessUntil, pointOfCare } from "./consent.js";
import { consultationItem, patientNames, refreshOnEvents } from "./consultations.js";

export const live = true;

export const routes = [
  { path: "#/patients", title: "Patients and booking", render: renderPatients },
  { path: "#/consultations", title: "My consultations", render: renderConsultations },
];

const SEXES = { female: "Female", male: "Male" };

/** Birth date and sex from an IIN (digits 1-6 YYMMDD, digit 7 century and sex), or null. */
export function fromIin(iin) {
  if (!/^\d{12}$/.test(iin)) return null;
  const century = Number(iin[6]);
  if (century < 1 || century > 6) return null;
  const year = 1700 + 100 * Math.ceil(century / 2) + Number(iin.slice(0, 2));
  const birth = `${year}-${iin.slice(2, 4)}-${iin.slice(4, 6)}`;
  return { birth_date: birth, sex: century % 2 ? "male" : "female" };
}

function patientCard(patient, onBook) {
  const book = h("button", { type: "button", class: "primary" }, "Book a consultation");
  book.addEventListener("click", () => onBook(patient));
  return h(
    "div",
    { class: "patient-card", dataset: { id: patient.id } },
    h("p", { class: "patient-name" }, h("strong", {}, patient.full_name)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "IIN"),
      h("dd", {}, patient.iin),
      h("dt", {}, "Born"),
      h("dd", {}, day(patient.birth_date)),
      h("dt", {}, "Sex"),
      h("dd", {}, SEXES[patient.sex]),
      patient.phone ? [h("dt", {}, "Phone"), h("dd", {}, patient.phone)] : null,
    ),
    h("div", { class: "actions" }, book),
  );
}

function renderPatients(main) {
  const booking = h("section", { class: "card", "aria-labelledby": "book-title" });
  const found = h("div", { class: "found", "aria-live": "polite" });
  const choose = (patient) => {
    renderBooking(booking, patient);
    booking.querySelector("select[name=specialty]").focus();
  };

  const iinInput = h("input", {
    name: "iin",
    inputmode: "numeric",
    autocomplete: "off",
    maxlength: "12",
    pattern: "\\d{12}",
    required: true,
  });
  const find = form(
    { class: "inline", role: "search" },
    [
      field("Patient IIN", iinInput, { hint: "12 digits" }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Find")),
    ],
    async (data, el) => {
      clear(found);
      const page = await get("/patients", { iin: data.iin, limit: 1 });
      if (!page.items.length) {
        el.notice.show(
          "info",
          "No patient with this IIN is registered at your clinic. Register the patient below.",
        );
        register.elements.iin.value = data.iin;
        register.elements.iin.dispatchEvent(new Event("input"));
        return;
      }
      found.append(patientCard(page.items[0], choose));
    },
  );

  const register = registerForm((patient) => {
    clear(found, patientCard(patient, choose));
    choose(patient);
  });

  renderBooking(booking, null);
  main.append(
    h(
      "div",
      { class: "columns" },
      h(
        "div",
        { class: "stack" },
        h(
          "section",
          { class: "card", "aria-labelledby": "find-title" },
          h("h2", { id: "find-title" }, "Find a patient"),
          find,
          found,
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "register-title" },
          h("h2", { id: "register-title" }, "Register a patient"),
          register,
        ),
      ),
      booking,
    ),
  );
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
  const sex = select("sex", SEXES, { empty: "Choose…", required: true });
  // The IIN carries the birth date and sex; fill them in unless the GP already did.
  iin.addEventListener("input", () => {
    const derived = fromIin(iin.value.trim());
    if (!derived) return;
    if (!birth.value) birth.value = derived.birth_date;
    if (!sex.value) sex.value = derived.sex;
  });
  const el = form(
    { class: "grid" },
    [
      field("IIN", iin, { hint: "12 digits; birth date and sex are read from it" }),
      field("Full name", h("input", { name: "full_name", autocomplete: "off", required: true })),
      field("Birth date", birth),
      field("Sex", sex),
      field(
        "Phone",
        h("input", { name: "phone", type: "tel", autocomplete: "off", placeholder: "+77011234567" }),
        { hint: "Optional" },
      ),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, "Register patient"),
      ),
    ],
    async (data, form_) => {
      const body = { iin: data.iin, full_name: data.full_name, birth_date: data.birth_date, sex: data.sex };
      if (data.phone) body.phone = data.phone;
      const patient = await post("/patients", body);
      form_.reset();
      form_.notice.show("success", `${patient.full_name} is registered.`);
      onRegistered(patient);
    },
  );
  return el;
}

function slotLabel(slot) {
  return [
    when(slot.starts_at),
    " – ",
    when(slot.ends_at, { timeOnly: true }),
    slot.region ? h("span", { class: "muted" }, ` · ${label(REGIONS, slot.region)}`) : null,
  ];
}

function renderBooking(section, patient) {
  clear(section, h("h2", { id: "book-title" }, "Book a consultation"));
  if (!patient) {
    section.append(h("p", { class: "muted" }, "Find or register a patient first."));
    return;
  }
  let lastBody = null;
  let key = null;

  const slotPicker = h("div", { class: "slot-picker", hidden: true });
  const slotFilters = h(
    "div",
    { class: "grid" },
    field("Region", select("region", REGIONS, { empty: "Any region" })),
    field("From", h("input", { name: "from", type: "date", value: isoDay(new Date()) })),
  );
  const showSlots = h("button", { type: "button", class: "secondary" }, "Show free slots");
  const slotsBox = h("div", { class: "slots" });
  const slotsField = h(
    "fieldset",
    { class: "field" },
    h("legend", {}, "Free slots"),
    slotsBox,
    h("p", { class: "field-error", hidden: true }),
  );
  slotPicker.append(slotFilters, h("div", { class: "actions" }, showSlots), slotsField);

  const whenField = radios(
    "Time",
    "when",
    { earliest: "Earliest free slot", pick: "Choose a free slot" },
    "earliest",
  );
  const el = form(
    { class: "grid booking", "aria-labelledby": "book-title" },
    [
      h(
        "p",
        { class: "wide selected-patient" },
        "Patient: ",
        h("strong", {}, patient.full_name),
        ` · IIN ${patient.iin}`,
      ),
      field("Specialty", select("specialty", SPECIALTIES, { empty: "Choose…", required: true })),
      field("Urgency", select("urgency", URGENCIES, { value: "routine" })),
      radios("Mode", "mode", { video: "Video call", async: "Async case (store and forward)" }, "video"),
      whenField,
      field("Reason for referral", h("textarea", { name: "reason", rows: "3", required: true }), {
        wide: true,
      }),
      h("div", { class: "wide" }, slotPicker),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, "Book consultation"),
      ),
    ],
    async (data, form_) => {
      const body = {
        patient_id: patient.id,
        specialty: data.specialty,
        mode: data.mode,
        urgency: data.urgency,
        reason: data.reason,
      };
      if (data.mode === "video" && data.when === "pick") {
        if (!data.slot_id) {
          showError(form_, form_.notice, {
            detail: "Choose one of the free slots.",
            fields: { slot_id: "choose a slot" },
          });
          return;
        }
        body.slot_id = data.slot_id;
      }
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
      form_.notice.show(
        "success",
        booked.mode === "video"
          ? ["Booked: ", label(SPECIALTIES, booked.specialty), ", ", when(booked.starts_at), ". "]
          : [`Case sent to the ${label(SPECIALTIES, booked.specialty)} queue. `],
        h("a", { href: "#/consultations" }, "See my consultations"),
      );
      if (booked.mode === "video" && data.when === "pick") loadSlots();
    },
  );

  let slots = null;
  function loadSlots() {
    const data = values(el);
    if (!data.specialty) {
      showError(el, el.notice, {
        detail: "Choose a specialty to see its free slots.",
        fields: { specialty: "choose a specialty" },
      });
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
        const id = `slot-${slot.id}`;
        return h(
          "li",
          { class: "radio" },
          h("input", { type: "radio", name: "slot_id", id, value: slot.id }),
          h("label", { for: id }, slotLabel(slot)),
        );
      },
      empty:
        "No free slots in this specialty from that date. Try another region or date, or send an async case.",
    });
    clear(slotsBox, slots.el);
    return busy(showSlots, slots.reload);
  }
  showSlots.addEventListener("click", loadSlots);

  const sync = () => {
    const data = values(el);
    const video = data.mode === "video";
    whenField.hidden = !video;
    slotPicker.hidden = !(video && data.when === "pick");
    el.querySelector("button[type=submit]").textContent = video ? "Book consultation" : "Send case";
  };
  el.addEventListener("change", (event) => {
    sync();
    if (event.target.name === "specialty" && !slotPicker.hidden) loadSlots();
    if (event.target.name === "when" && event.target.value === "pick" && !slots && values(el).specialty)
      loadSlots();
  });
  section.append(el);
  sync();
}

function renderConsultations(main, { me, live }) {
  const patientName = patientNames();
  const status = select("status", STATUSES, { empty: "All" });
  const list = pagedList({
    load: (cursor) => get("/consultations", { status: status.value, cursor }),
    render: (c) => {
      const consent = consentAction(c);
      const item = consultationItem(c, {
        me,
        patientName,
        onChange: () => list.reload(),
        extra: () => consent?.button,
      });
      if (consent) item.append(consent.panel);
      return item;
    },
    empty: "No consultations yet. Book one from Patients and booking.",
  });
  status.addEventListener("change", () => list.reload());
  main.append(
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "toolbar" },
        field("Status", status),
        h("a", { class: "button primary", href: "#/patients" }, "Book a consultation"),
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
    "Patient consent",
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
  panel.append(h("h3", {}, "Patient consent"));
  if (!c.specialist_id) {
    panel.append(
      h(
        "p",
        {},
        "No specialist has taken this case yet. When one claims it, the patient is asked to give that specialist access to the passport.",
      ),
    );
    return;
  }
  const until = consultationAccessUntil(c);
  panel.append(
    h(
      "p",
      {},
      "The specialist, ",
      personLater(c.specialist_id, { me: null }),
      `, needs the patient's consent to work on the health passport: ${ACCESS_TEXT.read_write.toLowerCase()} access until `,
      when(until),
      ". Booking sent the patient a request; the patient can approve or decline it in their own account, on the Consents page.",
    ),
    h("h4", {}, "At the point of care"),
    h(
      "p",
      { class: "muted" },
      "With the patient in front of you or on the phone: send a one-time code to the patient's phone, ask the patient to read it out, and enter it.",
    ),
    pointOfCare({
      patientId: c.patient_id,
      granteeId: c.specialist_id,
      consultationId: c.id,
      expiresAt: until,
    }),
  );
}
