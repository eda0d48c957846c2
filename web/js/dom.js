// Small DOM helpers: element builder, labelled fields, error display, badges, paged lists.
// Everything is built with createElement/textContent, so server text is never parsed as HTML.
// Every text shown here comes from the catalogues (i18n.js) in the chosen language.

import { errorText, fieldErrorText, formatDate, formatDateTime, formatTime, t } from "./i18n.js";

let serial = 0;
export const uid = (prefix = "f") => `${prefix}-${++serial}`;

/** h("button", {class: "primary", on: {click}}, "Save") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A <select> from a {value: label} table, with an optional leading empty choice. */
export function select(name, table, { empty, value, required } = {}) {
  const options = empty === undefined ? [] : [h("option", { value: "" }, empty)];
  for (const [code, text] of Object.entries(table)) options.push(h("option", { value: code }, text));
  const el = h("select", { name, required }, options);
  if (value !== undefined) el.value = value;
  return el;
}

/** A labelled control with a slot for its error message (found by the control's name). */
export function field(labelText, control, { hint, wide } = {}) {
  control.id ||= uid(control.name || "f");
  const error = h("p", { class: "field-error", id: uid("err"), hidden: true });
  const described = [error.id];
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: uid("hint") }, hint);
    described.push(hintEl.id);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  return h(
    "div",
    { class: wide ? "field wide" : "field" },
    h("label", { for: control.id }, labelText),
    control,
    hintEl,
    error,
  );
}

/** A group of radio buttons in a fieldset; the legend names the group. */
export function radios(legend, name, table, value) {
  return h(
    "fieldset",
    { class: "field radios" },
    h("legend", {}, legend),
    Object.entries(table).map(([code, text]) => {
      const id = uid(name);
      return h(
        "span",
        { class: "radio" },
        h("input", { type: "radio", name, id, value: code, checked: code === value }),
        h("label", { for: id }, text),
      );
    }),
    h("p", { class: "field-error", hidden: true }),
  );
}

/** The form's named values as strings (checkbox groups as arrays). */
export function values(form) {
  const data = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") {
      if (el.dataset.group) (data[el.name] ||= []).push(...(el.checked ? [el.value] : []));
      else data[el.name] = el.checked;
    } else if (el.type === "radio") {
      if (el.checked) data[el.name] = el.value;
    } else data[el.name] = el.type === "password" ? el.value : el.value.trim();
  }
  return data;
}

/** A live message region: role=status for news, role=alert for problems. */
export function notice() {
  const el = h("div", { class: "notice", role: "status", "aria-live": "polite", hidden: true });
  el.show = (kind, ...content) => {
    el.className = `notice ${kind}`;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    clear(el, ...content);
    el.hidden = false;
  };
  el.hide = () => {
    el.hidden = true;
    el.replaceChildren();
  };
  return el;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
}

/** The text for one field of an ApiError: its field code's catalogue entry with its numbers. */
export function fieldMessage(error, path) {
  const code = error.fieldCodes?.[path];
  // A page's own check (not an ApiError) names its fields with texts already translated.
  if (!code && !("status" in error) && error.fields?.[path]) return error.fields[path];
  return fieldErrorText(code || "invalid", error.fieldParams?.[path] || {});
}

// A control marked invalid clears its message as soon as it is changed.
function clearWhenFixed(control, slot) {
  const fixed = () => {
    control.removeAttribute("aria-invalid");
    slot.hidden = true;
    slot.textContent = "";
  };
  control.addEventListener("input", fixed, { once: true });
  control.addEventListener("change", fixed, { once: true });
}

/**
 * Show an API error: its translated text in the notice (errorText), each named field's
 * message (fieldErrorText of its code) next to its control. Field paths look like "iin" or
 * "diagnoses.0"; the first segment names the control. Messages for fields the form does not
 * have are listed in the notice.
 */
export function showError(form, noticeEl, error) {
  if (form) clearErrors(form);
  const unplaced = [];
  const paths = new Set([...Object.keys(error.fields || {}), ...Object.keys(error.fieldCodes || {})]);
  for (const path of paths) {
    const message = fieldMessage(error, path);
    const name = path.split(".")[0];
    const control = form?.elements.namedItem(name);
    const first = control instanceof RadioNodeList ? control[0] : control;
    const box = first?.closest(".field");
    const slot = box?.querySelector(".field-error");
    if (!slot) {
      if (!unplaced.includes(message)) unplaced.push(message);
      continue;
    }
    for (const el of control instanceof RadioNodeList ? control : [control]) {
      el.setAttribute("aria-invalid", "true");
      clearWhenFixed(el, slot);
    }
    slot.textContent = message;
    slot.hidden = false;
  }
  noticeEl?.show(
    "error",
    errorText(error),
    unplaced.length
      ? h(
          "ul",
          {},
          unplaced.map((u) => h("li", {}, u)),
        )
      : null,
  );
  form?.querySelector("[aria-invalid]")?.focus();
}

/** Run an async action from a button or form, disabling it meanwhile. */
export async function busy(control, action) {
  const controls = control instanceof HTMLFormElement ? [...control.querySelectorAll("button")] : [control];
  controls.forEach((c) => {
    c.disabled = true;
    c.setAttribute("aria-busy", "true");
  });
  try {
    return await action();
  } finally {
    controls.forEach((c) => {
      c.disabled = false;
      c.removeAttribute("aria-busy");
    });
  }
}

/** A form whose submit runs handler(values, form) with errors shown in its notice. */
export function form(attrs, children, handler) {
  const note = notice();
  const el = h("form", { ...attrs, novalidate: true }, children, note);
  el.notice = note;
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el);
    note.hide();
    await busy(el, async () => {
      try {
        await handler(values(el), el);
      } catch (error) {
        if (!error.detail) throw error;
        showError(el, note, error);
      }
    });
  });
  return el;
}

export const badge = (kind, text) => h("span", { class: `badge badge-${kind}` }, text);

/** An ISO time in the chosen language and the browser's time zone, inside a <time> element. */
export function when(iso, { timeOnly = false } = {}) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h(
    "time",
    { datetime: iso },
    timeOnly ? formatTime(iso) : formatDateTime(iso, { weekday: true, zone: true }),
  );
}

/** A calendar day (YYYY-MM-DD) in the chosen language. */
export const day = (isoDate) => formatDate(isoDate);

/** The ISO date (YYYY-MM-DD) of a Date in local time, for <input type=date>. */
export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Local date + time inputs as an ISO-8601 instant with the browser's offset. */
export function localInstant(dateValue, timeValue = "00:00") {
  const [y, m, d] = dateValue.split("-").map(Number);
  const [hh, mm] = timeValue.split(":").map(Number);
  return new Date(y, m - 1, d, hh, mm).toISOString();
}

/**
 * "passport.read" or "no_show" as a developer reads it: "Passport read", "No show". Not for
 * pages: show a code through its catalogue entry (tCode in i18n.js, or a table of codes.js).
 */
export const humanize = (key) => key.replaceAll(/[._]/g, " ").replace(/^./, (c) => c.toUpperCase());

/** A shortened reference with the full id in its title, only where a person must quote one. */
export const shortId = (id) => (id ? h("code", { title: id }, String(id).slice(0, 8)) : "—");

/** A pagedList's wrap for rows of a table: `wrap: tableOf(["When", "Who"], "What it lists")`. */
export const tableOf = (headers, caption) => (tbody) =>
  h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      tbody,
    ),
  );

/**
 * A list that loads page after page: load(cursor) → {items, next}; render(item) → node.
 * Returns {el, list, reload}. The "Show more" button appears while the server says there is more.
 * `empty` is the text shown when there are no items (a t() text, or a function giving one);
 * `key(item)` says when an item has changed, so its node is rebuilt on a reload.
 *
 * Loads run one after another, so a live refresh and "Show more" never drop each other's
 * items, and a refresh reloads as many items as are shown: pages a person opened stay open.
 * reload({fresh: true}) starts again from the first page (a different list, say).
 */
export function pagedList({
  load,
  render,
  empty = t("common.empty"),
  tag = "ul",
  wrap,
  key = JSON.stringify,
  moreText = t("common.show_more"),
  listClass = "",
}) {
  const list = h(tag, { class: `items ${listClass}`.trim() });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, moreText);
  const note = notice();
  const emptyEl = h("p", { class: "muted empty", hidden: true });
  const snapshots = new WeakMap();
  let next = null;
  let queue = Promise.resolve();
  let pending = null; // a reload queued and not yet started: later ones join it

  async function fetchPage(reset, fresh) {
    const wanted = reset && !fresh ? list.childElementCount : 0;
    const items = [];
    let cursor = reset ? null : next;
    try {
      do {
        const page = await load(cursor);
        items.push(...(page.items || []));
        cursor = page.next || null;
      } while (reset && cursor && items.length < wanted);
    } catch (error) {
      if (!error.detail) throw error;
      note.show("error", errorText(error));
      return;
    }
    // A reload keeps the nodes of unchanged items, so a live refresh does not wipe
    // what someone is typing into one of them.
    const keep = new Map();
    if (reset) for (const node of list.children) keep.set(snapshots.get(node), node);
    const nodes = items.map((item) => {
      const snapshot = key(item);
      const node = keep.get(snapshot) || render(item);
      snapshots.set(node, snapshot);
      return node;
    });
    if (reset) list.replaceChildren(...nodes);
    else list.append(...nodes);
    note.hide();
    next = cursor;
    more.hidden = !next;
    emptyEl.textContent = typeof empty === "function" ? empty() : empty;
    emptyEl.hidden = list.childElementCount > 0;
  }
  const enqueue = (job) => {
    const run = queue.then(job);
    queue = run.catch(() => {});
    return run;
  };
  function reload({ fresh = false } = {}) {
    if (pending) {
      pending.fresh ||= fresh;
      return pending.run;
    }
    const job = { fresh };
    pending = job;
    job.run = enqueue(() => {
      pending = null;
      return fetchPage(true, job.fresh);
    });
    return job.run;
  }
  more.addEventListener("click", () => busy(more, () => enqueue(() => fetchPage(false, false))));
  const el = h("div", { class: "paged" }, note, wrap ? wrap(list) : list, emptyEl, more);
  return { el, list, reload };
}
