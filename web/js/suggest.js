// ICD-10 codes suggested from a note while it is written, for the consultation's specialist
// (POST /consultations/{id}/coding-suggestions); what was suggested goes with the note when it
// is saved, kept with its diagnoses (POST /consultations/{id}/notes with `suggested`).
//
//   const help = suggestCodes(textarea, consultationId, ({ code, title }) => addDiagnosis(code));
//   await post(`/consultations/${id}/notes`, { text, diagnoses, suggested: help.suggested() });
//   help.reset();   // the next note starts with nothing offered
//
// A note already written is re-coded with recordCodingFeedback (…/coding-feedback).
//
// The list is a labelled region under the textarea: each suggestion shows its code, its title
// (in the page's language where the project has one) and the note's words that matched, with
// a button that hands it to the callback. The specialist picks; nothing is added by itself.

import { post } from "./api.js";
import { h, clear, uid } from "./dom.js";
import { t, language, errorText, formatList } from "./i18n.js";

const STYLESHEET = "/static/css/suggest.css";
const MIN_LENGTH = 3;
// What the note write takes (NoteIn.suggested).
const MAX_KEPT = 50;

function ensureStylesheet() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href: STYLESHEET }));
}

/**
 * Suggest codes for the note in `textarea` as it changes (after a pause in typing).
 * `onPick({code, title})` is called when a suggestion is chosen.
 * Options: `delay` (ms, default 400), `container` (where the list goes; default: right after
 * the textarea).
 * Returns {element, refresh(), suggested(), reset(), destroy()}. `suggested()` is what was
 * offered for the note: the latest suggestions best first (so that the first is the top one
 * for the text as saved), then codes offered earlier while it was typed, at most 50.
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

  let offered = [];
  let latest = [];
  let timer = null;
  let asked = 0;
  let lastText = null;

  function render(items) {
    clear(list);
    latest = items.map((item) => item.code);
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
    suggested: () => [...latest, ...offered.filter((code) => !latest.includes(code))].slice(0, MAX_KEPT),
    reset() {
      clearTimeout(timer);
      ++asked; // an answer still on its way is for the note just saved
      offered = [];
      lastText = null;
      render([]);
    },
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
