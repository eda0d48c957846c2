// A consultation's chat on its card (the GP's consultations, the specialist's queue): its
// messages, newest last, each with who wrote it and when, and a box to write one while the
// consultation is open; read only afterwards. The server decides who may read and write
// (POST/GET /consultations/{id}/chat); the same messages are shown in the call room. A file
// is sent as a message of its own (uploaded with its progress bar, then posted); a message
// shows its file's thumbnail or name and opens it in place. While the panel is open, the
// live events' "chat" reads the new messages.

import { get, post } from "./api.js";
import { busy, clear, field, form, h, uid } from "./dom.js";
import { fileTile } from "./files.js";
import { errorText, formatDateTime, t } from "./i18n.js";
import { personLater } from "./people.js";
import { uploader } from "./upload.js";

const OPEN = new Set(["requested", "scheduled", "in_progress"]);
// GPs and specialists upload files; a patient reads the ones sent.
const UPLOADERS = new Set(["gp", "specialist"]);

function messageItem(m, me) {
  return h(
    "li",
    { class: m.mine ? "mine" : null },
    h("span", { class: "who" }, m.mine ? t("people.you") : personLater(m.author_id, { me })),
    " ",
    h("time", { datetime: m.created_at, class: "muted" }, formatDateTime(m.created_at)),
    m.text ? h("p", {}, m.text) : null,
    m.file ? h("div", { class: "chat-file" }, fileTile(m.file)) : null,
  );
}

/** Fill the panel; returns a function that adds the messages not shown yet. */
async function fillChat(panel, c, me) {
  const title = h("h3", {}, t("chat.title"));
  let page;
  try {
    page = await get(`/consultations/${c.id}/chat`);
  } catch (error) {
    if (error.status === undefined) throw error;
    clear(panel, title, h("p", { class: "notice error", role: "alert" }, errorText(error)));
    return null;
  }
  const log = h("ol", { class: "chat-messages", "aria-live": "polite" });
  const empty = h("p", { class: "muted empty" }, t("chat.empty"));
  const seen = new Set();
  const add = (m) => {
    if (seen.has(m.id)) return;
    seen.add(m.id);
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
  let attach = null;
  if (OPEN.has(c.status) && UPLOADERS.has(me?.role)) {
    const files = uploader({
      label: t("chat.attach"),
      id: uid("chat-file"),
      onUploaded: async (file) => add(await post(`/consultations/${c.id}/chat`, { file_id: file.id })),
    });
    attach = h("div", { class: "chat-attach" }, files.element);
  }
  clear(panel, title, log, empty, writing, attach);
  return async () => {
    const fresh = await get(`/consultations/${c.id}/chat`);
    fresh.items.forEach(add);
  };
}

/**
 * "Messages" on a consultation's card: a button and the panel it opens; with `live` (the
 * page's event stream) an open panel shows new messages as they come. Returns {button, panel}.
 */
export function chatAction(c, { me, live }) {
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
  let more = null;
  if (live) {
    const onMessage = (event) => {
      // The card was replaced (a reload): stop listening.
      if (!panel.isConnected) {
        live.removeEventListener("message", onMessage);
        return;
      }
      const m = event.detail;
      if (m.type !== "chat" || m.consultation_id !== c.id || panel.hidden || !more) return;
      more().catch(() => {});
    };
    live.addEventListener("message", onMessage);
  }
  button.addEventListener("click", () =>
    busy(button, async () => {
      if (panel.hidden) {
        // Read afresh on every opening.
        more = await fillChat(panel, c, me);
        panel.hidden = false;
        panel.focus();
      } else panel.hidden = true;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    }),
  );
  return { button, panel };
}
