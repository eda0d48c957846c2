// One consultation as a list item with the actions the viewer may take on it.
// The server has the last word on every action; the buttons only hide what cannot apply.

import { get, post } from "../api.js";
import { MODES, SPECIALTIES, STATUSES, URGENCIES, label } from "../codes.js";
import { badge, busy, field, form, h, notice, shortId, when } from "../dom.js";
import { personLater } from "../people.js";

const OPEN = new Set(["requested", "scheduled", "in_progress"]);

/** Patient names by id, fetched once; a patient the viewer may not read stays an id. */
export function patientNames() {
  const cache = new Map();
  return (id) => {
    if (!cache.has(id))
      cache.set(
        id,
        get(`/patients/${id}`).catch(() => null),
      );
    const el = h("span", { class: "patient" }, "Patient ", shortId(id));
    cache.get(id).then((patient) => {
      if (patient) el.replaceChildren(h("strong", {}, patient.full_name), ` · IIN ${patient.iin}`);
    });
    return el;
  };
}

function actionsFor(c, me) {
  const video = c.mode === "video";
  const mine = c.specialist_id === me.id;
  const list = [];
  if (me.role === "specialist" && c.status === "requested" && !video && !c.specialist_id)
    list.push(["claim", "Claim case", "primary"]);
  if (video && c.status === "scheduled") list.push(["start", "Start", "primary"]);
  if (me.role === "specialist" && mine && c.status === "in_progress")
    list.push(["complete", "Complete", "primary"]);
  if (video && c.status === "scheduled") list.push(["no-show", "No-show", "secondary"]);
  if (
    (c.status === "scheduled" || (c.status === "requested" && me.role !== "specialist")) &&
    me.role !== "patient"
  )
    list.push(["cancel", "Cancel", "danger"]);
  return list;
}

const CONFIRM = {
  cancel: "Cancel this consultation? Its slot becomes free for others.",
  "no-show": "Record that the patient did not attend?",
};

/**
 * A consultation item. onChange(updated) runs after a successful action; extra(c) may add
 * more controls (the specialist's passport editor button).
 */
export function consultationItem(c, { me, patientName, onChange, extra }) {
  const note = notice();
  const time = c.starts_at ? when(c.starts_at) : h("span", {}, "Sent ", when(c.created_at));
  const act = async (action, body) => {
    note.hide();
    try {
      onChange(await post(`/consultations/${c.id}/${action}`, body));
    } catch (error) {
      if (!error.detail) throw error;
      note.show("error", error.detail);
    }
  };
  // Completing asks for the conclusion the GP will read.
  const conclusion = form(
    { class: "conclude", hidden: true },
    [
      field("Conclusion for the referring GP", h("textarea", { name: "conclusion", rows: "3" })),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "Complete consultation"),
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
        if (CONFIRM[action] && !window.confirm(CONFIRM[action])) return;
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
        "Join call",
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
        badge("mode", label(MODES, c.mode)),
      ),
    ),
    h(
      "div",
      { class: "item-body" },
      patientName(c.patient_id),
      whoTakesPart(c, me),
      h("p", { class: "reason" }, c.reason),
      c.conclusion ? h("p", { class: "conclusion" }, h("strong", {}, "Conclusion: "), c.conclusion) : null,
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
    parts.push(["With ", personLater(c.specialist_id, { me })]);
  if (c.requester_id && c.requester_id !== me.id && c.requester_id !== c.specialist_id)
    parts.push(["Referred by ", personLater(c.requester_id, { me })]);
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
