// "Move" on a booked video call: the free times of its specialist, read afresh on every
// opening; one click on a time moves the call there (POST /consultations/{id}/move). The
// server has the last word: a time taken meanwhile is answered 409 and the list is re-read.

import { get, idempotencyKey, post } from "../api.js";
import { clear, h, notice, uid } from "../dom.js";
import { errorText, formatDateTime, t } from "../i18n.js";

// How many of the specialist's next free times the panel offers.
const OFFERED = 12;

/** Returns {button, panel}, or null when the call cannot be moved by this person now. */
export function moveAction(c, { me, onChange }) {
  const mine = me.id === c.requester_id || me.id === c.specialist_id;
  const ahead = c.starts_at && new Date(c.starts_at) > new Date();
  if (c.mode !== "video" || c.status !== "scheduled" || !mine || !ahead) return null;
  const panel = h("div", { class: "move-panel", id: uid("move"), hidden: true, tabindex: "-1" });
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-expanded": "false",
      "aria-controls": panel.id,
      dataset: { open: "move" },
    },
    t("consultation.action.move"),
  );
  button.addEventListener("click", async () => {
    if (panel.hidden) {
      panel.hidden = false;
      await fillTimes(panel, c, onChange);
      panel.focus();
    } else panel.hidden = true;
    button.setAttribute("aria-expanded", String(!panel.hidden));
  });
  return { button, panel };
}

async function fillTimes(panel, c, onChange, problem = null) {
  const note = notice();
  const times = h("div", { class: "move-times", role: "group", "aria-label": t("consultation.move.title") });
  clear(
    panel,
    h("h3", {}, t("consultation.move.title")),
    h("p", { class: "muted" }, t("consultation.move.hint")),
    times,
    note,
  );
  if (problem) note.show("error", errorText(problem));
  times.append(h("p", { class: "muted" }, t("consultation.move.loading")));
  let page;
  try {
    page = await get("/slots", { specialist_id: c.specialist_id, limit: OFFERED });
  } catch (error) {
    if (error.status === undefined) throw error;
    clear(times);
    note.show("error", errorText(error));
    return;
  }
  if (!page.items.length) {
    clear(times, h("p", {}, t("consultation.move.none")));
    return;
  }
  // One key per chosen time: a retry of the same request (a lost answer) moves once.
  const keys = new Map();
  const choices = page.items.map((slot) => {
    const choice = h(
      "button",
      { type: "button", class: "secondary move-time", dataset: { slot: slot.id } },
      h("time", { datetime: slot.starts_at }, formatDateTime(slot.starts_at, { weekday: true })),
    );
    choice.addEventListener("click", async () => {
      // Every time is disabled while the request runs: one move at a time.
      for (const other of choices) {
        other.disabled = true;
        other.setAttribute("aria-busy", String(other === choice));
      }
      note.hide();
      if (!keys.has(slot.id)) keys.set(slot.id, idempotencyKey());
      try {
        const moved = await post(`/consultations/${c.id}/move`, { slot_id: slot.id }, {
          "Idempotency-Key": keys.get(slot.id),
        });
        onChange(moved);
      } catch (error) {
        if (error.status === undefined) throw error;
        // Taken meanwhile, or no longer offered: show why, with the times as they are now.
        await fillTimes(panel, c, onChange, error);
      }
    });
    return choice;
  });
  clear(times, ...choices);
}
