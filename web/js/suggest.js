// ICD-10 codes suggested from a note while it is written, for the consultation's specialist
// (POST /consultations/{id}/coding-suggestions), and the record of what was suggested and
// chosen once the note is saved (POST /consultations/{id}/coding-feedback).
//
//   const help = suggestCodes(textarea, consultationId, ({ code, title }) => addDiagnosis(code));
//   ... after the note is written:
//   await recordCodingFeedback(consultationId, entry.id, help.suggested(), chosenCodes);
//
// The list is a labelled region under the textarea: each suggestion shows its code, its title
// (in the page's language where the project has one) and the note's words that matched, with
// a button that hands it to the callback. The specialist picks; nothing is added by itself.

import { post } from "./api.js";
import { h, clear, uid } from "./dom.js";
import { t, language, errorText, formatList } from "./i18n.js";

const STYLESHEET = "/static/css/suggest.css";
const MIN_LENGTH = 3;

function ensureStylesheet() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href: STYLESHEET }));
}

/**
 * Suggest codes for the note in `textarea` as it changes (after a pause in typing).
 * `onPick({code, title})` is called when a suggestion is chosen.
 * Options: `delay` (ms, default 400), `container` (where the list goes; default: right after
 * the textarea).
 * Returns {element, refresh(), suggested(), destroy()}; `suggested()` is every code offered,
 * first offered first, for the feedback.
 */
export function suggestCodes(textarea, consultationId, onPick, { delay = 400, container } = {}) {
  ensureStylesheet();
  const headingId = uid("coding");
  const status = h("p", { class: "hint coding-status", role: "status", "aria-live": "polite" });
  const list = h("ul", { class: "coding-list", "aria-labelledby": headingId });
  const element = h(
    "section",
    { class: "coding-suggestions", "aria-labelledby": headingId },
    h("h4", { id: headingId }, t("coding.suggest.title")),
    h("p", { class: "hint" }, t("coding.suggest.hint")),
    status,
    list,
  );
  if (container) container.append(element);
  else textarea.after(element);

  const offered = [];
  let timer = null;
  let asked = 0;
  let lastText = null;

  function render(items) {
    clear(list);
    for (const item of items) {
      if (!offered.includes(item.code)) offered.push(item.code);
      const button = h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": t("coding.suggest.add_label", { code: item.code, title: item.title }),
          on: {
            click: () => {
              onPick({ code: item.code, title: item.title });
              button.disabled = true;
              button.textContent = t("coding.suggest.added");
            },
          },
        },
        t("coding.suggest.add"),
      );
      list.append(
        h(
          "li",
          { class: "coding-item" },
          h(
            "div",
            { class: "coding-text" },
            h("span", { class: "coding-code" }, item.code),
            " ",
            h("span", { class: "coding-title" }, item.title),
            item.why.length
              ? h("span", { class: "coding-why" }, t("coding.suggest.why", { words: formatList(item.why) }))
              : null,
          ),
          button,
        ),
      );
    }
    status.textContent = items.length
      ? t("coding.suggest.count", { count: items.length })
      : t("coding.suggest.none");
  }

  async function refresh() {
    const text = textarea.value;
    if (text === lastText) return;
    lastText = text;
    const mine = ++asked;
    if (text.trim().length < MIN_LENGTH) {
      render([]);
      return;
    }
    status.textContent = t("coding.suggest.loading");
    try {
      const answer = await post(`/consultations/${consultationId}/coding-suggestions`, {
        text,
        language: language(),
      });
      if (mine === asked) render(answer.items);
    } catch (err) {
      if (mine === asked) {
        clear(list);
        status.textContent = errorText(err);
        lastText = null;
      }
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, delay);
  }

  textarea.addEventListener("input", schedule);
  if (textarea.value.trim()) refresh();
  else status.textContent = t("coding.suggest.none");

  return {
    element,
    refresh,
    suggested: () => [...offered],
    destroy() {
      clearTimeout(timer);
      textarea.removeEventListener("input", schedule);
      element.remove();
    },
  };
}

/** Keep with a written note the codes that were suggested and the ones it carries. */
export function recordCodingFeedback(consultationId, entryId, suggested, chosen) {
  return post(`/consultations/${consultationId}/coding-feedback`, { entry_id: entryId, suggested, chosen });
}
