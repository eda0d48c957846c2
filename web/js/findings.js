// Prescription checks in a form: the findings shown next to the field they concern, and the
// confirm-with-reason flow for a prescription with high-severity findings.
//
//   import { checkPrescription, renderFindings, savePrescription } from "../findings.js";
//   const out = await checkPrescription(patientId, body);   // {findings, blocked, drug, ...}
//   renderFindings(form, out.findings);                      // next to medication, dose, ...
//   const entry = await savePrescription(form, consultationId, body);  // null if not confirmed
//   attachFormulary(form.elements.medication);              // the formulary as a datalist
//
// The form's controls are found by name (medication, dose, route, frequency, duration_days);
// each has a ".field" box around it (dom.js field()). Findings for a field the form does not
// have are listed at the top of the form. All text comes from the rx.* catalogue keys.

import { get, post } from "./api.js";
import { badge, clear, h, uid } from "./dom.js";
import { formatDate, formatList, formatNumber, has, language, t } from "./i18n.js";

export const SEVERITIES = ["high", "moderate", "low"];

const tOr = (key, fallback) => (has(key) ? t(key) : String(fallback ?? ""));

/** The parameters of a finding, made readable in the chosen language. */
function readable(finding) {
  const p = { ...(finding.params || {}) };
  for (const name of ["total", "maximum", "times_per_day", "usual", "min", "max", "days"])
    if (typeof p[name] === "number") p[name] = formatNumber(p[name]);
  if (p.unit) p.unit = tOr(`rx.unit.${p.unit}`, p.unit);
  if (p.per) p.per = tOr(`rx.per.${p.per}`, p.per);
  if (p.route) p.route = tOr(`rx.route.${p.route}`, p.route);
  if (Array.isArray(p.routes)) p.routes = formatList(p.routes.map((r) => tOr(`rx.route.${r}`, r)));
  if (p.since) p.since = formatDate(p.since);
  if (p.interaction) p.interaction = tOr(`rx.interaction.${p.interaction}`, p.interaction);
  p.reaction = p.reaction ? ` (${p.reaction})` : "";
  return p;
}

/** The sentence for one finding. */
export const findingText = (finding) => t(`rx.finding.${finding.code}`, readable(finding));

/** One finding as a list item: its severity badge and its sentence. */
export function findingItem(finding) {
  return h(
    "li",
    { class: `rx-finding rx-${finding.severity}`, dataset: { code: finding.code } },
    badge(`rx-${finding.severity}`, t(`rx.severity.${finding.severity}`)),
    " ",
    h("span", {}, findingText(finding)),
  );
}

/** Remove the findings shown in a form. */
export function clearFindings(form) {
  for (const el of form.querySelectorAll(".rx-findings")) {
    const control = el.previousElementSibling?.matches?.("input, select, textarea")
      ? el.previousElementSibling
      : null;
    el.remove();
    if (control) {
      const ids = (control.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter((id) => id && id !== el.id);
      control.setAttribute("aria-describedby", ids.join(" "));
    }
  }
  for (const el of form.querySelectorAll("[data-rx-severity]")) el.removeAttribute("data-rx-severity");
}

/**
 * Show findings next to the fields they concern (most severe first), each control described
 * by its list for screen readers. Returns the findings no field of the form could take.
 */
export function renderFindings(form, findings) {
  clearFindings(form);
  const order = (f) => SEVERITIES.indexOf(f.severity);
  const byField = new Map();
  for (const finding of [...findings].sort((a, b) => order(a) - order(b))) {
    if (!byField.has(finding.field)) byField.set(finding.field, []);
    byField.get(finding.field).push(finding);
  }
  const rest = [];
  for (const [name, list] of byField) {
    const control = form.elements.namedItem(name);
    if (!(control instanceof Element) || !control.closest(".field")) {
      rest.push(...list);
      continue;
    }
    const el = h("ul", { class: "rx-findings", id: uid("rx"), role: "list" }, list.map(findingItem));
    control.after(el);
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    control.setAttribute("aria-describedby", [...described, el.id].join(" "));
    control.dataset.rxSeverity = list[0].severity;
  }
  if (rest.length) {
    const el = h(
      "div",
      { class: "rx-findings rx-general", role: "group", "aria-label": t("rx.findings.title") },
      h("ul", { role: "list" }, rest.map(findingItem)),
    );
    form.prepend(el);
  }
  return rest;
}

/**
 * Offer the formulary's drugs as the medication is typed (GET /formulary?q=), in the page's
 * language; free text stays possible (it is checked as outside the formulary).
 */
export function attachFormulary(input) {
  const list = h("datalist", { id: uid("rx-drugs"), class: "rx-drugs" });
  input.setAttribute("list", list.id);
  input.after(list);
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2 || q === asked) return;
    timer = setTimeout(async () => {
      asked = q;
      try {
        const page = await get("/formulary", { q, limit: 10 });
        clear(
          list,
          page.items.map((drug) => h("option", { value: drug.name[language()] || drug.name.en }, drug.atc)),
        );
      } catch {
        clear(list); // the search is a help: the field still takes any text
      }
    }, 200);
  });
  return list;
}

/** POST /patients/{id}/prescription-checks: the findings, nothing written. */
export const checkPrescription = (patientId, body) =>
  post(`/patients/${patientId}/prescription-checks`, body);

/**
 * Ask for the reason to confirm a prescription despite high-severity findings, in a panel at
 * the end of the form. Resolves with the reason, or null when the prescriber changes it instead.
 */
export function askReason(form) {
  form.querySelector(".rx-confirm")?.remove();
  return new Promise((resolve) => {
    const reason = h("textarea", { name: "override_reason", rows: "2", id: uid("reason"), required: true });
    const hint = h("p", { class: "hint", id: uid("hint") }, t("rx.confirm.hint"));
    const error = h("p", { class: "field-error", id: uid("err"), hidden: true });
    reason.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
    const done = (value) => {
      panel.remove();
      resolve(value);
    };
    const confirm = h("button", { type: "button", class: "primary" }, t("rx.confirm.submit"));
    const cancel = h("button", { type: "button" }, t("rx.confirm.cancel"));
    confirm.addEventListener("click", () => {
      const text = reason.value.trim();
      if (text.length < 5) {
        error.textContent = t("rx.confirm.too_short");
        error.hidden = false;
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
      done(text);
    });
    cancel.addEventListener("click", () => done(null));
    const panel = h(
      "fieldset",
      { class: "rx-confirm wide", role: "group" },
      h("legend", {}, t("rx.confirm.title")),
      h(
        "div",
        { class: "field" },
        h("label", { for: reason.id }, t("rx.confirm.reason")),
        reason,
        hint,
        error,
      ),
      h("div", { class: "actions" }, confirm, cancel),
    );
    const actions = form.querySelector(".actions");
    if (actions) actions.before(panel);
    else form.append(panel);
    reason.focus();
  });
}

/**
 * Write a prescription: on a refusal for high-severity findings (409 prescription_blocked)
 * show them, ask for a reason and write it again with `override: {reason}`. Returns the entry,
 * or null when the prescriber chose to change the prescription. Other errors are thrown.
 */
export async function savePrescription(form, consultationId, body) {
  const url = `/consultations/${consultationId}/prescriptions`;
  try {
    const entry = await post(url, body);
    renderFindings(form, entry?.body?.checks?.findings || []);
    return entry;
  } catch (error) {
    if (error?.status !== 409 || error.code !== "prescription_blocked") throw error;
    renderFindings(form, error.findings || []);
    const reason = await askReason(form);
    if (reason === null) return null;
    const entry = await post(url, { ...body, override: { reason } });
    renderFindings(form, entry?.body?.checks?.findings || []);
    return entry;
  }
}
