// The specialist's pages: the queue (today, upcoming, past), writing in the passport with
// ICD-10 codes picked from a list, completing with a conclusion, and availability.

import { get, post } from "../api.js";
import { REGIONS, ROUTES_OF_ADMINISTRATION, SPECIALTIES, label } from "../codes.js";
import { badge, busy, clear, field, h, notice, pagedList } from "../dom.js";
import { attachFormulary, checkPrescription, clearFindings, renderFindings, savePrescription } from "../findings.js";
import { errorText, formatDate, formatDateTime, formatTime, t } from "../i18n.js";
import { icdPicker } from "../icd.js";
import { suggestCodes } from "../suggest.js";
import { apiForm, renderAvailability, showApiError, timeZone } from "./availability.js";
import { recordAction, refreshOnEvents } from "./consultations.js";
import { chatAction } from "../chat.js";
import { participantsAction } from "../participants.js";
import { moveAction } from "./moving.js";
import { consultationFiles } from "../files.js";
import { uploader } from "../upload.js";
import { openPassport } from "./passport.js";

export const live = true;

export const routes = [
  {
    path: "#/queue",
    get title() {
      return t("spec.nav.queue");
    },
    render: renderQueue,
  },
  {
    path: "#/availability",
    get title() {
      return t("spec.nav.availability");
    },
    render: renderAvailability,
  },
];

const PERIODS = ["today", "upcoming", "past"];

/** Whether a video call can be joined now (from 15 minutes before its time). */
const hasBegun = (c) => Boolean(c.starts_at) && Date.now() >= new Date(c.starts_at).getTime();
const isOpen = (c) => Boolean(c.call_opens_at) && Date.now() >= new Date(c.call_opens_at).getTime();

/** "Woman, 45 years · Akmola region": what the queue tells of a patient, never an id. */
export function patientSummary(p) {
  if (!p) return "";
  const parts = [
    t(`spec.sex.${p.sex}`),
    t("spec.patient.age", { count: p.age, n: p.age }),
  ];
  const place = p.region ? label(REGIONS, p.region) : t("spec.patient.no_region");
  return `${parts.join(", ")} · ${place}`;
}

/** The summary by consultation, for the passport pane (which asks by patient id). */
const summaries = new Map();
const summaryOf = (patientId) => h("span", { class: "patient" }, summaries.get(patientId) || t("spec.patient.label"));

function renderQueue(main, { me, live }) {
  const editor = h("section", { class: "card editor", "aria-labelledby": "editor-title", hidden: true });
  const passport = h("section", { class: "card passport", "aria-labelledby": "passport-title", hidden: true });
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("tab");
  let period = PERIODS.includes(wanted) ? wanted : "today";
  // A card is rebuilt when its consultation changes or its call opens; the others keep
  // their nodes, so a live refresh neither steals a click nor wipes a conclusion being typed.
  const queue = pagedList({
    load: (cursor) => get("/queue", { period, tz: timeZone(), cursor: cursor || undefined }),
    render: queueItem,
    key: (c) => `${period}|${JSON.stringify(c)}|${isOpen(c)}|${hasBegun(c)}`,
    empty: () => t(`spec.queue.empty_${period}`),
    moreText: t("spec.queue.more"),
    listClass: "queue-items",
  });
  const reload = () => queue.reload();

  function queueItem(c) {
    summaries.set(c.patient_id, patientSummary(c.patient));
    const note = notice();
    const act = async (action, body) => {
      note.hide();
      try {
        await post(`/consultations/${c.id}/${action}`, body);
        await reload();
      } catch (error) {
        if (error?.status === undefined) throw error;
        note.show("error", errorText(error));
      }
    };
    const conclusion = apiForm(
      { class: "conclude", hidden: true },
      [
        field(t("spec.complete.conclusion"), h("textarea", { name: "conclusion", rows: "3", required: true }), {
          hint: t("spec.complete.hint"),
        }),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("spec.complete.submit"))),
      ],
      async (data) => {
        if (!window.confirm(t("spec.complete.confirm"))) return;
        await post(`/consultations/${c.id}/complete`, { conclusion: data.conclusion });
        await reload();
      },
    );
    const buttons = [];
    const button = (text, kind, onClick, extra = {}) => {
      const el = h("button", { type: "button", class: kind, ...extra }, text);
      el.addEventListener("click", () => onClick(el));
      buttons.push(el);
      return el;
    };
    const video = c.mode === "video";
    const isMine = c.specialist_id === me.id;
    // Invited into another specialist's consultation (a multidisciplinary consultation).
    const invited = Boolean(c.specialist_id) && !isMine;
    const open = isOpen(c);
    if (!video && c.status === "requested" && !c.specialist_id)
      button(t("spec.action.claim"), "primary", (el) => busy(el, () => act("claim")));
    if (video && c.status === "scheduled" && open && !invited)
      button(t("spec.action.start"), "primary", (el) => busy(el, () => act("start")));
    if (isMine && c.status === "in_progress")
      button(
        t("spec.action.complete"),
        "primary",
        (el) => {
          conclusion.hidden = !conclusion.hidden;
          el.setAttribute("aria-expanded", String(!conclusion.hidden));
          if (!conclusion.hidden) conclusion.elements.conclusion.focus();
        },
        { "aria-expanded": "false", dataset: { action: "complete" } },
      );
    if (video && c.status === "scheduled" && hasBegun(c) && !invited)
      button(t("spec.action.no_show"), "secondary", (el) =>
        busy(el, async () => {
          if (window.confirm(t("spec.action.no_show_confirm"))) await act("no-show");
        }),
      );
    // Its own booked call to another of its free times.
    const move = moveAction(c, { me, onChange: () => reload() });
    if (move) buttons.push(move.button);
    if (isMine && c.status === "scheduled")
      button(t("spec.action.cancel"), "danger", (el) =>
        busy(el, async () => {
          if (window.confirm(t("spec.action.cancel_confirm"))) await act("cancel");
        }),
      );
    if (video && open && ["scheduled", "in_progress"].includes(c.status))
      buttons.push(
        h(
          "a",
          {
            class: "button secondary",
            href: `/static/call.html?consultation=${encodeURIComponent(c.id)}`,
            target: "_blank",
            rel: "noopener",
          },
          t("spec.action.join"),
        ),
      );
    if (isMine || invited) {
      button(t("spec.action.passport"), "secondary", (el) =>
        busy(el, () => openPassport(passport, c, { me, patientName: summaryOf })),
      );
      if (isMine && ["in_progress", "completed"].includes(c.status))
        button(t("spec.action.write"), "secondary", () => openEditor(editor, c), { dataset: { open: "editor" } });
    }
    // The consultation's full record, on the cards in progress and past.
    const record =
      isMine && (c.status === "in_progress" || period === "past") ? recordAction(c, { me }) : null;
    if (record) buttons.push(record.button);
    // The consultation's messages, for the specialists who take part in it.
    const chat = isMine || invited ? chatAction(c, { me, live }) : null;
    if (chat) buttons.push(chat.button);
    const people =
      (isMine || invited) && ["requested", "scheduled", "in_progress"].includes(c.status)
        ? participantsAction(c, { me })
        : null;
    if (people) buttons.push(people.button);
    const when = c.starts_at
      ? h("time", { datetime: c.starts_at }, formatDateTime(c.starts_at))
      : h("span", {}, t("spec.queue.sent", { when: formatDateTime(c.created_at) }));
    return h(
      "li",
      { class: `item consultation status-${c.status}`, dataset: { status: c.status } },
      h(
        "div",
        { class: "item-head" },
        h("span", { class: "when" }, when),
        h("span", { class: "specialty" }, label(SPECIALTIES, c.specialty)),
        h(
          "span",
          { class: "badges" },
          badge(`status-${c.status}`, t(`spec.status.${c.status}`)),
          c.urgency !== "routine" ? badge(`urgency-${c.urgency}`, t(`spec.urgency.${c.urgency}`)) : null,
          badge("mode", t(`spec.mode.${c.mode}`)),
        ),
      ),
      h(
        "div",
        { class: "item-body" },
        h("p", { class: "patient-summary" }, patientSummary(c.patient)),
        h("p", { class: "reason" }, c.reason),
        consultationFiles(c, me),
        video && c.status === "scheduled" && !open && c.call_opens_at
          ? h(
              "p",
              { class: "call-opens muted" },
              t("spec.queue.call_opens", { time: formatTime(c.call_opens_at) }),
            )
          : null,
        c.conclusion
          ? h("p", { class: "conclusion" }, h("strong", {}, t("spec.queue.conclusion")), " ", c.conclusion)
          : null,
      ),
      buttons.length ? h("div", { class: "actions" }, buttons) : null,
      move?.panel,
      record?.panel,
      chat?.panel,
      people?.panel,
      conclusion,
      note,
    );
  }

  // Tabs: the ARIA tabs pattern, arrows move between them.
  const tabs = PERIODS.map((p) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${p}`,
        "aria-controls": "queue-panel",
        "aria-selected": String(p === period),
        tabindex: p === period ? "0" : "-1",
        dataset: { period: p },
      },
      t(`spec.queue.tab_${p}`),
    ),
  );
  const choose = (p, focus) => {
    period = p;
    for (const tab of tabs) {
      const on = tab.dataset.period === p;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    }
    panel.setAttribute("aria-labelledby", `tab-${p}`);
    history.replaceState(null, "", `#/queue?tab=${p}`);
    queue.reload({ fresh: true });
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => choose(tab.dataset.period, false));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        choose(PERIODS[event.key === "Home" ? 0 : PERIODS.length - 1], true);
      } else if (step) {
        event.preventDefault();
        choose(PERIODS[(i + step + PERIODS.length) % PERIODS.length], true);
      }
    });
  });
  const panel = h(
    "div",
    { role: "tabpanel", id: "queue-panel", class: "card", "aria-labelledby": `tab-${period}`, tabindex: "0" },
    queue.el,
  );
  const specialties = (me.specialties || []).map((s) => label(SPECIALTIES, s)).join(", ");
  main.append(
    h("p", { class: "muted" }, formatDate(new Date().toISOString()), specialties ? ` · ${specialties}` : ""),
    h("div", { role: "tablist", class: "tabs", "aria-label": t("spec.queue.tabs") }, tabs),
    panel,
    editor,
    passport,
  );
  reload();
  // Each minute: a call that opens meanwhile gets its join button.
  const tick = setInterval(reload, 60_000);
  const stop = refreshOnEvents(live, reload);
  return () => {
    clearInterval(tick);
    stop?.();
  };
}

function consentNotice(error, noticeEl) {
  if (error?.status !== 403) return false;
  noticeEl.show("error", h("strong", {}, t("spec.editor.no_consent")), " ", t("spec.editor.no_consent_help"));
  return true;
}

function openEditor(section, c) {
  // The prescription's checks as it is filled in: the pending timer, the latest check's
  // number (older answers are dropped), and whether the patient's consent refused one.
  let checkTimer = null;
  let checking = 0;
  let refused = false;
  const picker = icdPicker({ label: t("spec.editor.diagnoses"), hint: t("spec.editor.diagnoses_hint") });
  const noteText = h("textarea", { name: "text", rows: "5", required: true });
  // Files filed with the note: each an attachment entry of the passport (its hash in the chain).
  const files = uploader({ label: t("files.attach_note"), id: `upload-note-${c.id}` });
  const note = apiForm(
    { class: "grid note-form" },
    [
      h("h3", { class: "wide" }, t("spec.editor.note_title")),
      field(t("spec.editor.note"), noteText, { wide: true }),
      picker.el,
      files.element,
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("spec.editor.save_note"))),
    ],
    async (data, el) => {
      if (!data.text) throw { status: 422, code: "invalid", fieldCodes: { text: "missing" } };
      try {
        const chosen = picker.codes();
        // What was suggested goes with the note, kept with the codes chosen to measure the
        // suggestions (in the note's own transaction).
        const entry = await post(`/consultations/${c.id}/notes`, {
          text: data.text,
          diagnoses: chosen,
          suggested: coding.suggested(),
        });
        for (const file of await files.done())
          await post(`/consultations/${c.id}/entries`, {
            kind: "attachment",
            body: { title: file.name, file_id: file.id },
          });
        // Only a saved note clears the form; a failed one keeps its text to fix and resend.
        refused = false;
        el.elements.text.value = "";
        picker.reset();
        coding.reset();
        files.reset();
        el.notice.show("success", entry?.seq ? t("spec.editor.saved_as", { seq: entry.seq }) : t("spec.editor.saved"));
      } catch (error) {
        if (!consentNotice(error, el.notice)) throw error;
      }
    },
  );
  // ICD-10 codes suggested from the note as it is written; the specialist picks.
  const coding = suggestCodes(noteText, c.id, (item) => picker.add(item));
  const routeOptions = ROUTES_OF_ADMINISTRATION.map((r) => h("option", { value: r }, t(`spec.route.${r}`)));
  const RX_FIELDS = ["medication", "dose", "route", "frequency", "duration_days"];
  const rxBody = (data) => ({
    medication: data.medication,
    dose: data.dose,
    route: data.route,
    frequency: data.frequency,
    duration_days: Number.parseInt(data.duration_days, 10),
    instructions: data.instructions || "",
  });
  const medication = h("input", { name: "medication", autocomplete: "off", required: true });
  // "No problems found" once a filled-in prescription was checked without findings.
  const checked = h("p", { class: "rx-checked muted wide", role: "status" });
  const prescription = apiForm(
    { class: "grid rx-form" },
    [
      h("h3", { class: "wide" }, t("spec.rx.title")),
      field(t("spec.rx.medication"), medication, { hint: t("spec.rx.medication_hint") }),
      field(t("spec.rx.dose"), h("input", { name: "dose", autocomplete: "off", required: true })),
      field(t("spec.rx.route"), h("select", { name: "route", value: "oral" }, routeOptions)),
      field(t("spec.rx.frequency"), h("input", { name: "frequency", autocomplete: "off", required: true })),
      field(
        t("spec.rx.days"),
        h("input", { name: "duration_days", type: "number", min: "1", max: "3650", inputmode: "numeric", required: true }),
      ),
      field(t("spec.rx.instructions"), h("textarea", { name: "instructions", rows: "2" }), { wide: true }),
      checked,
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("spec.rx.save"))),
    ],
    async (data, el) => {
      const missing = ["medication", "dose", "frequency", "duration_days"].filter((k) => !data[k]);
      if (missing.length)
        throw { status: 422, code: "invalid", fieldCodes: Object.fromEntries(missing.map((k) => [k, "missing"])) };
      stopChecking();
      try {
        // High-severity findings ask for a reason before the entry is written.
        const entry = await savePrescription(el, c.id, rxBody(data));
        if (!entry) {
          el.elements.medication.focus();
          return;
        }
        refused = false;
        el.reset();
        el.elements.route.value = "oral";
        clearFindings(el);
        el.notice.show("success", entry?.seq ? t("spec.editor.saved_as", { seq: entry.seq }) : t("spec.editor.saved"));
      } catch (error) {
        if (!consentNotice(error, el.notice)) throw error;
      }
    },
  );
  prescription.elements.route.value = "oral";
  attachFormulary(medication);

  // The findings follow the prescription as it is filled in (a help: nothing is written).
  const stopChecking = () => {
    clearTimeout(checkTimer);
    checking += 1;
    checked.textContent = "";
  };
  const checkNow = async () => {
    const data = Object.fromEntries(RX_FIELDS.map((k) => [k, prescription.elements[k].value.trim()]));
    const body = rxBody(data);
    const mine = ++checking;
    checked.textContent = "";
    if (!data.medication || !data.dose || !data.frequency || !(body.duration_days >= 1 && body.duration_days <= 3650)) {
      clearFindings(prescription);
      return;
    }
    try {
      const out = await checkPrescription(c.patient_id, body);
      if (mine !== checking) return;
      renderFindings(prescription, out.findings);
      checked.textContent = out.findings.length ? "" : t("rx.findings.none");
    } catch (error) {
      if (error?.status === undefined) throw error;
      // Without consent each check would be one more refusal in the patient's access log:
      // the checks wait for the editor to be opened again (saving says what is missing).
      if (error.status === 403) refused = true;
      if (mine === checking) clearFindings(prescription);
    }
  };
  const checkSoon = () => {
    clearTimeout(checkTimer);
    if (refused) return;
    checkTimer = setTimeout(checkNow, 400);
  };
  prescription.addEventListener("input", (event) => {
    if (!RX_FIELDS.includes(event.target.name)) return;
    // A changed prescription is checked again: a confirmation asked for the old one ends.
    prescription.querySelector(".rx-confirm button:not(.primary)")?.click();
    checkSoon();
  });

  const choices = (prefix, codes) => codes.map((code) => h("option", { value: code }, t(`${prefix}.${code}`)));
  const substance = h("input", { name: "substance", autocomplete: "off", required: true });
  const allergy = apiForm(
    { class: "grid allergy-form" },
    [
      h("h3", { class: "wide" }, t("rx.allergy.title")),
      field(t("rx.allergy.substance"), substance, { hint: t("spec.allergy.substance_hint") }),
      field(t("rx.allergy.reaction"), h("input", { name: "reaction", autocomplete: "off" })),
      field(
        t("rx.allergy.severity"),
        h(
          "select",
          { name: "severity", required: true },
          h("option", { value: "" }, t("spec.allergy.choose")),
          choices("rx.allergy.severity", ["mild", "moderate", "severe"]),
        ),
      ),
      field(t("spec.allergy.type"), h("select", { name: "type" }, choices("rx.allergy.type", ["allergy", "intolerance"]))),
      field(
        t("spec.allergy.category"),
        h("select", { name: "category" }, choices("rx.allergy.category", ["medication", "food", "environment", "biologic"])),
      ),
      h("div", { class: "actions wide" }, h("button", { type: "submit", class: "primary" }, t("spec.allergy.save"))),
    ],
    async (data, el) => {
      const missing = ["substance", "severity"].filter((k) => !data[k]);
      if (missing.length)
        throw { status: 422, code: "invalid", fieldCodes: Object.fromEntries(missing.map((k) => [k, "missing"])) };
      try {
        const entry = await post(`/consultations/${c.id}/allergies`, {
          substance: data.substance,
          reaction: data.reaction || "",
          severity: data.severity,
          type: data.type,
          category: data.category,
        });
        el.reset();
        el.notice.show("success", entry?.seq ? t("spec.editor.saved_as", { seq: entry.seq }) : t("spec.editor.saved"));
        refused = false;
        checkSoon(); // the prescription being written is checked against the new allergy
      } catch (error) {
        if (!consentNotice(error, el.notice)) throw error;
      }
    },
  );
  attachFormulary(substance);
  const close = h("button", { type: "button", class: "secondary" }, t("spec.editor.close"));
  close.addEventListener("click", () => {
    section.hidden = true;
    document.querySelector('button[data-open="editor"]')?.focus();
  });
  clear(
    section,
    h("div", { class: "toolbar" }, h("h2", { id: "editor-title", tabindex: "-1" }, t("spec.editor.title")), close),
    h(
      "p",
      {},
      summaries.get(c.patient_id) || "",
      " · ",
      label(SPECIALTIES, c.specialty),
      c.starts_at ? ` · ${formatDateTime(c.starts_at)}` : "",
    ),
    h("div", { class: "columns" }, note, prescription, allergy),
  );
  section.hidden = false;
  section.querySelector("h2").focus();
  section.scrollIntoView({ block: "start" });
}

export { showApiError };
