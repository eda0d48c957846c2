// A consultation's chat on its card (the GP's consultations, the specialist's queue): its
// messages, newest last, each with who wrote it and when, and a box to write one while the
// consultation is open; read only afterwards. The server decides who may read and write
// (POST/GET /consultations/{id}/chat); the same messages are shown in the call room.

import { get, post } from "./api.js";
import { busy, clear, field, form, h, uid } from "./dom.js";
import { errorText, formatDateTime, t } from "./i18n.js";
import { personLater } from "./people.js";

const OPEN = new Set(["requested", "scheduled", "in_progress"]);

function messageItem(m, me) {
  return h(
    "li",
    { class: m.mine ? "mine" : null },
    h("span", { class: "who" }, m.mine ? t("people.you") : personLater(m.author_id, { me })),
    " ",
    h("time", { datetime: m.created_at, class: "muted" }, formatDateTime(m.created_at)),
    h("p", {}, m.text),
  );
}

async function fillChat(panel, c, me) {
  const title = h("h3", {}, t("chat.title"));
  let page;
  try {
    page = await get(`/consultations/${c.id}/chat`);
  } catch (error) {
    if (error.status === undefined) throw error;
    clear(panel, title, h("p", { class: "notice error", role: "alert" }, errorText(error)));
    return;
  }
  const log = h("ol", { class: "chat-messages", "aria-live": "polite" });
  const empty = h("p", { class: "muted empty" }, t("chat.empty"));
  const add = (m) => {
    log.append(messageItem(m, me));
    empty.hidden = true;
  };
  empty.hidden = page.items.length > 0;
  page.items.forEach(add);
  let writing = h("p", { class: "muted chat-read-only" }, t("chat.read_only"));
  if (OPEN.has(c.status)) {
    writing = form(
      { class: "chat-write" },
      [
        field(t("chat.label"), h("textarea", { name: "text", rows: "2", maxlength: "2000", required: true })),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("chat.send"))),
      ],
      async (data, el) => {
        add(await post(`/consultations/${c.id}/chat`, { text: data.text || "" }));
        el.reset();
        el.elements.text.focus();
      },
    );
  }
  clear(panel, title, log, empty, writing);
}

/** "Messages" on a consultation's card: a button and the panel it opens. Returns {button, panel}. */
export function chatAction(c, { me }) {
  const panel = h("div", { class: "chat-panel", id: uid("chat"), hidden: true, tabindex: "-1" });
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-expanded": "false",
      "aria-controls": panel.id,
      dataset: { open: "chat" },
    },
    t("chat.button"),
  );
  button.addEventListener("click", () =>
    busy(button, async () => {
      if (panel.hidden) {
        // Read afresh on every opening.
        await fillChat(panel, c, me);
        panel.hidden = false;
        panel.focus();
      } else panel.hidden = true;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    }),
  );
  return { button, panel };
}
