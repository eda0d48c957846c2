// Forms of the GP's pages whose problems are shown in the chosen language: the notice says
// what went wrong (errorText) and each field's message sits next to it (fieldErrorText), gone
// as soon as that field is changed.

import { busy, clearErrors, h, notice, values } from "../dom.js";
import { errorText, fieldErrorText, formatDate, formatDateTime } from "../i18n.js";

/** A problem found before asking the server, shaped like an ApiError. */
export class FormProblem extends Error {
  constructor(code, fieldCodes = {}) {
    super(code);
    this.code = code;
    this.status = 422;
    this.fieldCodes = fieldCodes;
    this.fieldParams = {};
    this.fields = {};
  }
}

const isProblem = (error) => error && (error.status !== undefined || error instanceof FormProblem);

function controlsOf(form, name) {
  const control = form?.elements.namedItem(name);
  if (!control) return [];
  return control instanceof RadioNodeList ? [...control] : [control];
}

function slotOf(control) {
  return control?.closest(".field")?.querySelector(".field-error") || null;
}

/** Show an error: the translated message in the notice, each field's next to the field. */
export function showProblem(form, noticeEl, error) {
  if (form) clearErrors(form);
  const codes = { ...Object.fromEntries(Object.keys(error.fields || {}).map((k) => [k, "invalid"])) };
  Object.assign(codes, error.fieldCodes || {});
  const params = error.fieldParams || {};
  for (const [path, code] of Object.entries(codes)) {
    const controls = controlsOf(form, path.split(".")[0]);
    const slot = slotOf(controls[0]);
    if (!slot) continue;
    for (const el of controls) el.setAttribute("aria-invalid", "true");
    slot.textContent = fieldErrorText(code, params[path] || {});
    slot.hidden = false;
  }
  noticeEl?.show("error", errorText(error));
  form?.querySelector("[aria-invalid]")?.focus();
}

/** A field's message goes away once the field is changed. */
function forgetProblem(form, target) {
  if (!target?.name) return;
  const controls = controlsOf(form, target.name);
  if (!controls.some((el) => el.hasAttribute("aria-invalid"))) return;
  for (const el of controls) el.removeAttribute("aria-invalid");
  const slot = slotOf(controls[0]);
  if (slot) {
    slot.hidden = true;
    slot.textContent = "";
  }
  if (!form.querySelector("[aria-invalid]")) form.notice.hide();
}

/**
 * A form whose submit runs handler(values, form); every button of the form is disabled while
 * it runs (a double click submits once), and its problems are shown translated.
 */
export function gpForm(attrs, children, handler) {
  const note = notice();
  const el = h("form", { ...attrs, novalidate: true }, children, note);
  el.notice = note;
  el.addEventListener("input", (event) => forgetProblem(el, event.target));
  el.addEventListener("change", (event) => forgetProblem(el, event.target));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (el.getAttribute("aria-busy") === "true") return;
    el.setAttribute("aria-busy", "true");
    clearErrors(el);
    note.hide();
    try {
      await busy(el, async () => {
        try {
          await handler(values(el), el);
        } catch (error) {
          if (!isProblem(error)) throw error;
          showProblem(el, note, error);
        }
      });
    } finally {
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

/** An instant in the chosen language and the browser's time zone, in a <time> element. */
export const at = (iso) => (iso ? h("time", { datetime: iso }, formatDateTime(iso)) : "—");

/** A calendar day (YYYY-MM-DD) in the chosen language. */
export const onDay = (isoDate) => (isoDate ? h("time", { datetime: isoDate }, formatDate(isoDate)) : "—");
