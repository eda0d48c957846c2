// The specialist's pages: today's live queue, the passport editor, published availability.

import { get, post } from "../api.js";
import { ROUTES_OF_ADMINISTRATION, SPECIALTIES, label } from "../codes.js";
import { busy, clear, field, form, h, isoDay, localInstant, pagedList, select, when } from "../dom.js";
import { consultationItem, patientNames, refreshOnEvents } from "./consultations.js";
import { openPassport } from "./passport.js";

export const live = true;

export const routes = [
  { path: "#/queue", title: "Today's queue", render: renderQueue },
  { path: "#/availability", title: "Availability", render: renderAvailability },
];

function todayRange() {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setDate(end.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString() };
}

function renderQueue(main, { me, live }) {
  const patientName = patientNames();
  const editor = h("section", { class: "card editor", "aria-labelledby": "editor-title", hidden: true });
  const passport = h("section", {
    class: "card passport",
    "aria-labelledby": "passport-title",
    hidden: true,
  });
  const reloadAll = () => lists.forEach((l) => l.reload());
  const item = (c) =>
    consultationItem(c, {
      me,
      patientName,
      onChange: reloadAll,
      extra: (c_) => {
        if (c_.specialist_id !== me.id) return null;
        const read = h(
          "button",
          { type: "button", class: "secondary", dataset: { open: "passport" } },
          "Open passport",
        );
        read.addEventListener("click", () =>
          busy(read, () => openPassport(passport, c_, { me, patientName })),
        );
        if (!["in_progress", "completed"].includes(c_.status)) return read;
        const open = h(
          "button",
          { type: "button", class: "secondary", dataset: { open: "editor" } },
          "Write in passport",
        );
        open.addEventListener("click", () => openEditor(editor, c_, patientName));
        return [read, open];
      },
    });
  const calls = pagedList({
    load: (cursor) => get("/consultations", { mode: "video", ...todayRange(), cursor }),
    render: item,
    empty: "No calls booked for today.",
  });
  const waiting = pagedList({
    load: (cursor) => get("/consultations", { mode: "async", status: "requested", cursor }),
    render: item,
    empty: "No async cases are waiting in your specialties.",
  });
  const mine = pagedList({
    load: (cursor) => get("/consultations", { mode: "async", status: "in_progress", cursor }),
    render: item,
    empty: "You have no open async cases.",
  });
  const lists = [calls, waiting, mine];
  const specialties = (me.specialties || []).map((s) => label(SPECIALTIES, s)).join(", ");
  main.append(
    h(
      "p",
      { class: "muted" },
      `${new Intl.DateTimeFormat(undefined, { dateStyle: "full" }).format(new Date())}`,
      specialties ? ` · ${specialties}` : "",
    ),
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "calls-title" },
        h("h2", { id: "calls-title" }, "Today's calls"),
        calls.el,
      ),
      h(
        "div",
        { class: "stack" },
        h(
          "section",
          { class: "card", "aria-labelledby": "waiting-title" },
          h("h2", { id: "waiting-title" }, "Async cases waiting"),
          waiting.el,
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "mine-title" },
          h("h2", { id: "mine-title" }, "My open async cases"),
          mine.el,
        ),
      ),
    ),
    editor,
    passport,
  );
  reloadAll();
  return refreshOnEvents(live, reloadAll);
}

const ICD10 = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;

function noConsent(error, noticeEl) {
  if (error.status !== 403) throw error;
  noticeEl.show(
    "error",
    h("strong", {}, "No write consent. "),
    "The patient has not given you write access to their passport, so nothing was saved. The patient can approve the request in their account, or you can use a point-of-care code under Open passport. ",
    h("span", { class: "muted" }, `(${error.detail})`),
  );
}

function openEditor(section, c, patientName) {
  const diagnoses = h("input", { name: "diagnoses", autocomplete: "off", placeholder: "I10, E11.9" });
  const note = form(
    { class: "grid" },
    [
      h("h3", { class: "wide" }, "Note and diagnoses"),
      field("Note", h("textarea", { name: "text", rows: "5", required: true }), { wide: true }),
      field("ICD-10 diagnoses", diagnoses, {
        hint: "Codes separated by commas, e.g. I10, E11.9",
        wide: true,
      }),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, "Save note")),
    ],
    async (data, el) => {
      const codes = data.diagnoses
        .toUpperCase()
        .split(/[\s,;]+/)
        .filter(Boolean);
      const bad = codes.filter((code) => !ICD10.test(code));
      if (bad.length)
        throw {
          detail: "Some diagnoses are not ICD-10 codes.",
          fields: { diagnoses: `not ICD-10: ${bad.join(", ")}` },
        };
      try {
        const entry = await post(`/consultations/${c.id}/notes`, { text: data.text, diagnoses: codes });
        el.reset();
        el.notice.show("success", `Saved to the passport${entry?.seq ? ` as entry ${entry.seq}` : ""}.`);
      } catch (error) {
        noConsent(error, el.notice);
      }
    },
  );
  const prescription = form(
    { class: "grid" },
    [
      h("h3", { class: "wide" }, "Prescription"),
      field("Medication", h("input", { name: "medication", autocomplete: "off", required: true })),
      field("Dose", h("input", { name: "dose", autocomplete: "off", placeholder: "5 mg", required: true })),
      field(
        "Route",
        select(
          "route",
          Object.fromEntries(ROUTES_OF_ADMINISTRATION.map((r) => [r, r[0].toUpperCase() + r.slice(1)])),
          { value: "oral" },
        ),
      ),
      field(
        "Frequency",
        h("input", { name: "frequency", autocomplete: "off", placeholder: "once daily", required: true }),
      ),
      field(
        "Duration (days)",
        h("input", {
          name: "duration_days",
          type: "number",
          min: "1",
          max: "3650",
          inputmode: "numeric",
          required: true,
        }),
      ),
      field("Instructions", h("textarea", { name: "instructions", rows: "2" }), { wide: true }),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, "Save prescription"),
      ),
    ],
    async (data, el) => {
      const days = Number.parseInt(data.duration_days, 10);
      if (!Number.isFinite(days))
        throw { detail: "Enter the duration in days.", fields: { duration_days: "a whole number of days" } };
      const body = {
        medication: data.medication,
        dose: data.dose,
        route: data.route,
        frequency: data.frequency,
        duration_days: days,
        instructions: data.instructions,
      };
      try {
        const entry = await post(`/consultations/${c.id}/prescriptions`, body);
        el.reset();
        el.notice.show(
          "success",
          `Prescription saved to the passport${entry?.seq ? ` as entry ${entry.seq}` : ""}.`,
        );
      } catch (error) {
        noConsent(error, el.notice);
      }
    },
  );
  const close = h("button", { type: "button", class: "secondary" }, "Close");
  close.addEventListener("click", () => {
    section.hidden = true;
    document.querySelector(`li[data-id="${c.id}"] button[data-open="editor"]`)?.focus();
  });
  clear(
    section,
    h(
      "div",
      { class: "toolbar" },
      h("h2", { id: "editor-title", tabindex: "-1" }, "Write in the passport"),
      close,
    ),
    h(
      "p",
      {},
      patientName(c.patient_id),
      " · ",
      label(SPECIALTIES, c.specialty),
      c.starts_at ? [" · ", when(c.starts_at)] : null,
    ),
    h("div", { class: "columns" }, note, prescription),
  );
  section.hidden = false;
  section.querySelector("h2").focus();
  section.scrollIntoView({ block: "start" });
}

function renderAvailability(main, { me }) {
  const mySlots = pagedList({
    load: (cursor) => get("/slots", { specialist_id: me.id, cursor }),
    render: (slot) =>
      h(
        "li",
        { class: "item slot" },
        when(slot.starts_at),
        " – ",
        when(slot.ends_at, { timeOnly: true }),
        " ",
        h("span", { class: "muted" }, label(SPECIALTIES, slot.specialty)),
      ),
    empty: "No free slots published.",
  });
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const publish = form(
    { class: "grid" },
    [
      field("Date", h("input", { name: "date", type: "date", value: isoDay(tomorrow), required: true })),
      field("Start", h("input", { name: "starts_at", type: "time", value: "09:00", required: true })),
      field("End", h("input", { name: "ends_at", type: "time", value: "12:00", required: true })),
      field(
        "Slot minutes",
        h("input", {
          name: "slot_minutes",
          type: "number",
          min: "5",
          max: "240",
          value: "20",
          inputmode: "numeric",
        }),
      ),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, "Publish availability"),
      ),
    ],
    async (data, el) => {
      if (!data.date || !data.starts_at || !data.ends_at)
        throw {
          detail: "Give the date, start and end.",
          fields: Object.fromEntries(
            ["date", "starts_at", "ends_at"].filter((k) => !data[k]).map((k) => [k, "required"]),
          ),
        };
      const body = {
        starts_at: localInstant(data.date, data.starts_at),
        ends_at: localInstant(data.date, data.ends_at),
      };
      if (data.slot_minutes) body.slot_minutes = Number(data.slot_minutes);
      const window = await post(`/specialists/${me.id}/availability`, body);
      el.notice.show(
        "success",
        `Published ${window.slots} slots of ${window.slot_minutes} minutes: `,
        when(window.starts_at),
        " – ",
        when(window.ends_at, { timeOnly: true }),
        ".",
      );
      mySlots.reload();
    },
  );
  main.append(
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "publish-title" },
        h("h2", { id: "publish-title" }, "Publish availability"),
        h("p", { class: "muted" }, "Times are in your local time zone."),
        publish,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "slots-title" },
        h("h2", { id: "slots-title" }, "My free slots"),
        mySlots.el,
      ),
    ),
  );
  mySlots.reload();
}
