// The bell in every signed-in page's header: how many messages sent to me I have not opened,
// and the list of them (GET /api/v1/me/messages). Opening the list marks the ones shown as
// read (POST /api/v1/me/messages/read, one's own only). The texts are the catalogues'
// "bell.*"; a message's kind names it (bell.kind.<kind>), never its code or link.

import { get, post } from "./api.js";
import { clear, h } from "./dom.js";
import { formatDateTime, has, t } from "./i18n.js";

const REFRESH_MS = 30000;
const SHOWN = 20;

const kindText = (kind) => (has(`bell.kind.${kind}`) ? t(`bell.kind.${kind}`) : t("bell.kind.other"));

function item(m) {
  const when = m.sent_at || m.created_at;
  return h(
    "li",
    { class: m.read_at ? "bell-item" : "bell-item unread" },
    h("span", { class: "bell-what" }, kindText(m.kind)),
    // A message of the pages comes with its words (in the reader's language).
    m.text ? h("span", { class: "bell-text" }, m.text) : null,
    h(
      "span",
      { class: "bell-meta muted" },
      h("time", { datetime: when }, formatDateTime(when)),
      m.channel === "page" ? null : ` · ${t(`notify.channel.${m.channel}`)} ${m.to}`,
    ),
  );
}

/** The bell: a button with the unread count, and its list; it keeps its count fresh while it
 * is on the page. */
export function bell() {
  const count = h("span", { class: "bell-count", hidden: true });
  const button = h(
    "button",
    { type: "button", class: "bell secondary", "aria-expanded": "false" },
    h("span", { class: "bell-icon", "aria-hidden": "true" }, "🔔"),
    count,
  );
  const list = h("ul", { class: "bell-items" });
  const panel = h(
    "section",
    { class: "bell-panel", hidden: true, "aria-label": t("bell.title") },
    h("h2", { class: "bell-title" }, t("bell.title")),
    list,
  );
  const box = h("div", { class: "bell-box" }, button, panel);
  button.setAttribute("aria-controls", (panel.id = `bell-${Math.random().toString(36).slice(2)}`));

  const show = (n) => {
    count.textContent = String(n);
    count.hidden = n === 0;
    button.dataset.unread = String(n);
    button.setAttribute("aria-label", t("bell.label", { count: n }));
  };
  const refresh = async () => {
    try {
      show((await get("/me/messages/unread")).count);
    } catch {
      // The count is a courtesy: the pages work the same without it.
    }
  };
  const close = () => {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
  };
  const open = async () => {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    clear(list, h("li", { class: "muted" }, t("app.loading")));
    const page = await get("/me/messages", { limit: SHOWN });
    const delivered = page.items.filter((m) => m.sent_at);
    clear(list, delivered.length ? delivered.map(item) : h("li", { class: "muted" }, t("bell.empty")));
    const unread = delivered.filter((m) => !m.read_at).map((m) => m.id);
    if (unread.length) show((await post("/me/messages/read", { ids: unread })).count);
  };
  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      close();
      button.focus();
    }
  });
  show(0);
  refresh();
  const timer = setInterval(() => (box.isConnected ? refresh() : clearInterval(timer)), REFRESH_MS);
  return box;
}
