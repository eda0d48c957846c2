// ICD-10 picking: an ARIA combobox that searches /icd10 as one types (code or title, in the
// chosen language where a translation exists) and collects the chosen codes as removable chips.

import { get } from "./api.js";
import { h, uid } from "./dom.js";
import { language, t } from "./i18n.js";

/**
 * icdPicker({label, hint}) → {el, codes(), reset()}. Keyboard: type to search, ArrowDown/ArrowUp
 * to move through the suggestions, Enter to pick, Escape to close; Backspace in an empty box
 * removes the last code.
 */
export function icdPicker({ label, hint, name = "diagnoses" }) {
  const chosen = new Map();
  const listId = uid("icd-list");
  const input = h("input", {
    name,
    id: uid("icd"),
    type: "text",
    role: "combobox",
    autocomplete: "off",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    placeholder: t("spec.icd.placeholder"),
  });
  const list = h("ul", { id: listId, role: "listbox", class: "icd-options", "aria-label": label, hidden: true });
  const chips = h("ul", { class: "icd-chosen", "aria-label": t("spec.icd.chosen") });
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const error = h("p", { class: "field-error", id: uid("err"), hidden: true });
  const hintEl = hint ? h("p", { class: "hint", id: uid("hint") }, hint) : null;
  input.setAttribute("aria-describedby", [error.id, hintEl?.id].filter(Boolean).join(" "));
  let options = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const li = list.children[index];
    if (li) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }

  function renderChips() {
    chips.replaceChildren(
      ...[...chosen.values()].map((item) => {
        const remove = h(
          "button",
          { type: "button", class: "chip-remove", "aria-label": t("spec.icd.remove", { code: item.code }) },
          "×",
        );
        remove.addEventListener("click", () => {
          chosen.delete(item.code);
          renderChips();
          input.focus();
        });
        return h("li", { class: "chip" }, h("strong", {}, item.code), " ", item.title, " ", remove);
      }),
    );
    chips.hidden = chosen.size === 0;
  }

  function pick(item) {
    chosen.set(item.code, item);
    renderChips();
    input.value = "";
    close();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    status.textContent = t("spec.icd.added", { code: item.code });
    input.focus();
  }

  async function search() {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) return close();
    let items = [];
    try {
      items = (await get("/icd10", { q, lang: language() })).items || [];
    } catch {
      items = [];
    }
    if (mine !== asked) return;
    options = items.filter((item) => !chosen.has(item.code));
    list.replaceChildren(
      ...options.map((item, i) => {
        const li = h(
          "li",
          { role: "option", id: `${listId}-${i}`, "aria-selected": "false", class: "icd-option" },
          h("strong", {}, item.code),
          " ",
          item.title,
        );
        li.addEventListener("mousedown", (event) => event.preventDefault());
        li.addEventListener("click", () => pick(item));
        return li;
      }),
    );
    if (!options.length) list.append(h("li", { class: "icd-none", "aria-disabled": "true" }, t("spec.icd.none")));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    status.textContent = t("spec.icd.found", { count: options.length });
    highlight(options.length ? 0 : -1);
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) return void search();
      if (!options.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + options.length) % options.length);
    } else if (event.key === "Enter") {
      if (!list.hidden && active >= 0 && options[active]) {
        event.preventDefault();
        pick(options[active]);
      }
    } else if (event.key === "Escape") {
      if (!list.hidden) {
        event.preventDefault();
        close();
      }
    } else if (event.key === "Backspace" && !input.value && chosen.size) {
      chosen.delete([...chosen.keys()].pop());
      renderChips();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  renderChips();

  const el = h(
    "div",
    { class: "field wide icd-picker" },
    h("label", { for: input.id }, label),
    chips,
    h("div", { class: "icd-box" }, input, list),
    hintEl,
    error,
    status,
  );
  return {
    el,
    input,
    codes: () => [...chosen.keys()],
    /** Adds a code picked elsewhere (a suggestion from the note). */
    add: (item) => pick(item),
    reset() {
      chosen.clear();
      renderChips();
      input.value = "";
      close();
    },
  };
}

// ---- Titles of codes already written (a passport's diagnoses) ----

// "kk|I10" → the title in that language, as /icd10/titles gave it.
const titles = new Map();

const codesOf = (entries) =>
  entries.flatMap((e) => {
    const b = e.body && typeof e.body === "object" ? e.body : {};
    if (e.kind === "diagnosis") return [b.code];
    if (e.kind === "note") return (b.diagnoses || []).map((d) => (typeof d === "object" ? d?.code : d));
    return [];
  });

/**
 * Learn the titles, in the chosen language, of the codes these passport entries name (a
 * diagnosis, a note's diagnoses), once per code and language. Entries keep the WHO English
 * title they were written with; `diagnosisTitle` shows the reader's where one exists.
 */
export async function learnTitles(entries) {
  const lang = language();
  const wanted = [...new Set(codesOf(entries).filter((code) => code && /^[A-Za-z0-9.]+$/.test(code)))];
  const missing = wanted.filter((code) => !titles.has(`${lang}|${code}`)).slice(0, 80);
  if (!missing.length) return;
  const found = await get("/icd10/titles", { codes: missing.join(","), lang });
  for (const item of found.items || []) titles.set(`${lang}|${item.code}`, item.title);
}

/** "I10 Эссенциалды (біріншілік) гипертензия": a diagnosis's code and its title in the reader's language. */
export function diagnosisTitle(d) {
  if (!d || typeof d !== "object") return String(d ?? "");
  const title = titles.get(`${language()}|${d.code}`) ?? d.title;
  return [d.code, title].filter(Boolean).join(" ");
}
