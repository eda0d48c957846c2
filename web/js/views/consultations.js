// One consultation as a list item with the actions the viewer may take on it.
// The server has the last word on every action; the buttons only hide what cannot apply.

import { get, post } from "../api.js";
import { MODES, SPECIALTIES, STATUSES, URGENCIES, label } from "../codes.js";
import { badge, busy, clear, field, form, h, notice, uid } from "../dom.js";
import { errorText, formatDateTime, has, t } from "../i18n.js";
import { consultationFiles } from "../files.js";
import { personLater } from "../people.js";
import { groupedEntries } from "./gp-passport.js";
import { prepareEntries } from "./passport.js";

const OPEN = new Set(["requested", "scheduled", "in_progress"]);

const at = (iso) => (iso ? h("time", { datetime: iso }, formatDateTime(iso)) : "—");

/** Patient names by id, fetched once; a patient the viewer may not read stays unnamed. */
export function patientNames() {
  const cache = new Map();
  return (id) => {
    if (!cache.has(id))
      cache.set(
        id,
        get(`/patients/${id}`).catch(() => null),
      );
    const el = h("span", { class: "patient" }, t("consultation.a_patient"));
    cache.get(id).then((patient) => {
      if (patient)
        el.replaceChildren(h("strong", {}, patient.full_name), ` · ${t("consultation.iin")} ${patient.iin}`);
    });
    return el;
  };
}

function actionsFor(c, me) {
  const video = c.mode === "video";
  const mine = c.specialist_id === me.id;
  const list = [];
  if (me.role === "specialist" && c.status === "requested" && !video && !c.specialist_id)
    list.push(["claim", t("consultation.action.claim"), "primary"]);
  if (video && c.status === "scheduled") list.push(["start", t("consultation.action.start"), "primary"]);
  if (me.role === "specialist" && mine && c.status === "in_progress")
    list.push(["complete", t("consultation.action.complete"), "primary"]);
  if (video && c.status === "scheduled")
    list.push(["no-show", t("consultation.action.no_show"), "secondary"]);
  if (
    (c.status === "scheduled" || (c.status === "requested" && me.role !== "specialist")) &&
    me.role !== "patient"
  )
    list.push(["cancel", t("consultation.action.cancel"), "danger"]);
  return list;
}

const CONFIRM = {
  cancel: "consultation.confirm.cancel",
  "no-show": "consultation.confirm.no_show",
};

/**
 * A consultation item. onChange(updated) runs after a successful action; extra(c) may add
 * more controls (the specialist's passport editor button).
 */
export function consultationItem(c, { me, patientName, onChange, extra }) {
  const note = notice();
  const time = c.starts_at ? at(c.starts_at) : h("span", {}, `${t("consultation.sent")} `, at(c.created_at));
  const act = async (action, body) => {
    note.hide();
    try {
      onChange(await post(`/consultations/${c.id}/${action}`, body));
    } catch (error) {
      if (!error.detail) throw error;
      note.show("error", errorText(error));
    }
  };
  // Completing asks for the conclusion the GP will read.
  const conclusion = form(
    { class: "conclude", hidden: true },
    [
      field(t("consultation.conclusion_for_gp"), h("textarea", { name: "conclusion", rows: "3" })),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, t("consultation.complete_submit")),
      ),
    ],
    (data) => act("complete", data.conclusion ? { conclusion: data.conclusion } : undefined),
  );
  const buttons = actionsFor(c, me).map(([action, text, kind]) => {
    const button = h("button", { type: "button", class: kind, dataset: { action } }, text);
    button.addEventListener("click", () => {
      if (action === "complete") {
        conclusion.hidden = !conclusion.hidden;
        button.setAttribute("aria-expanded", String(!conclusion.hidden));
        if (!conclusion.hidden) conclusion.elements.conclusion.focus();
        return;
      }
      return busy(button, async () => {
        if (CONFIRM[action] && !window.confirm(t(CONFIRM[action]))) return;
        await act(action);
      });
    });
    return button;
  });
  if (c.mode === "video" && (c.status === "scheduled" || c.status === "in_progress")) {
    buttons.push(
      h(
        "a",
        {
          class: "button secondary",
          href: `/static/call.html?consultation=${encodeURIComponent(c.id)}`,
          target: "_blank",
          rel: "noopener",
        },
        t("consultation.join"),
      ),
    );
  }
  const more = extra?.(c);
  if (more) buttons.push(...[more].flat());
  return h(
    "li",
    {
      class: `item consultation${OPEN.has(c.status) ? "" : " closed"}`,
      dataset: { id: c.id, status: c.status },
    },
    h(
      "div",
      { class: "item-head" },
      h("span", { class: "when" }, time),
      h("span", { class: "specialty" }, label(SPECIALTIES, c.specialty)),
      h(
        "span",
        { class: "badges" },
        badge(`status-${c.status}`, label(STATUSES, c.status)),
        c.urgency !== "routine" ? badge(`urgency-${c.urgency}`, label(URGENCIES, c.urgency)) : null,
        badge(
          "mode",
          has(`consultation.mode.${c.mode}`) ? t(`consultation.mode.${c.mode}`) : label(MODES, c.mode),
        ),
      ),
    ),
    h(
      "div",
      { class: "item-body" },
      patientName(c.patient_id),
      whoTakesPart(c, me),
      h("p", { class: "reason" }, c.reason),
      consultationFiles(c, me),
      c.conclusion
        ? h("p", { class: "conclusion" }, h("strong", {}, `${t("consultation.conclusion")}: `), c.conclusion)
        : null,
    ),
    buttons.length ? h("div", { class: "actions" }, buttons) : null,
    conclusion,
    note,
  );
}

/** The other clinicians of a consultation, by name: its specialist, and who referred it. */
function whoTakesPart(c, me) {
  const parts = [];
  if (c.specialist_id && c.specialist_id !== me.id)
    parts.push([`${t("consultation.with")} `, personLater(c.specialist_id, { me })]);
  if (c.requester_id && c.requester_id !== me.id && c.requester_id !== c.specialist_id)
    parts.push([`${t("consultation.referred_by")} `, personLater(c.requester_id, { me })]);
  if (!parts.length) return null;
  return h(
    "p",
    { class: "people muted" },
    parts.map((part, i) => (i ? [" · ", ...part] : part)),
  );
}

/** Reload when the event stream says a consultation changed; returns the cleanup. */
export function refreshOnEvents(live, reload) {
  if (!live) return null;
  let timer = null;
  const onMessage = (event) => {
    if (event.detail.type !== "consultation") return;
    // Bursts of events (a busy queue) cause one reload, not one each.
    clearTimeout(timer);
    timer = setTimeout(reload, 300);
  };
  const onState = (event) => event.detail === "live" && reload();
  live.addEventListener("message", onMessage);
  live.addEventListener("state", onState);
  return () => {
    clearTimeout(timer);
    live.removeEventListener("message", onMessage);
    live.removeEventListener("state", onState);
  };
}

/**
 * "Record" on a consultation: its full record (the referral, the conclusion and what was
 * written into the passport in it), read afresh on every opening. Returns {button, panel}.
 */
export function recordAction(c, { me }) {
  const panel = h("div", { class: "record-panel", id: uid("record"), hidden: true, tabindex: "-1" });
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-expanded": "false",
      "aria-controls": panel.id,
      dataset: { open: "record" },
    },
    t("consultation.record.button"),
  );
  button.addEventListener("click", () =>
    busy(button, async () => {
      if (panel.hidden) {
        clear(panel, h("p", { class: "muted" }, t("consultation.record.loading")));
        panel.hidden = false;
        await fillRecord(panel, c, me);
        panel.focus();
      } else panel.hidden = true;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    }),
  );
  return { button, panel };
}

async function fillRecord(panel, c, me) {
  let record;
  try {
    record = await get(`/consultations/${c.id}/record`);
  } catch (error) {
    if (error.status === undefined) throw error;
    clear(
      panel,
      h("h3", {}, t("consultation.record.title")),
      h("p", { class: "notice error", role: "alert" }, errorText(error)),
      error.code === "consent_denied" ? h("p", {}, t("consultation.record.ask_consent")) : null,
    );
    return;
  }
  const { consultation: rc, entries } = record;
  await prepareEntries(entries);
  clear(
    panel,
    h("h3", {}, t("consultation.record.title")),
    h(
      "dl",
      { class: "facts record-facts" },
      h("dt", {}, t("consultation.record.referral")),
      h(
        "dd",
        {},
        label(SPECIALTIES, rc.specialty),
        " · ",
        label(URGENCIES, rc.urgency),
        " · ",
        at(rc.created_at),
        h("p", { class: "reason" }, rc.reason),
      ),
      h("dt", {}, t("consultation.conclusion")),
      h("dd", {}, rc.conclusion || h("span", { class: "muted" }, t("consultation.record.no_conclusion"))),
    ),
    groupedEntries(entries, { me, level: "h4", empty: "consultation.record.empty" }),
  );
}
