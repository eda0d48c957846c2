// A patient's access log in plain words: who (name, role, facility), what happened to which
// parts of the passport, until when and why. The server gives each entry an `event` and its
// `details` (src/teleconsult/audit/wording.py); the words come from the catalogues
// (patient.log.*). The technical record (ids, hashes) shows only when asked for, in a
// <details> element. The patient reads their own log (Who accessed my data); an administrator
// reviewing emergency access reads the patient's too (and that look is itself logged).

import { get } from "../api.js";
import { SPECIALTIES, label } from "../codes.js";
import { badge, h, pagedList } from "../dom.js";
import { errorText, formatDateTime, formatList, has, t } from "../i18n.js";

/** An ISO instant in the chosen language and the browser's time zone, in a <time>. */
export const at = (iso) =>
  iso ? h("time", { datetime: iso }, formatDateTime(iso)) : h("span", { class: "muted" }, "—");

/** "Cardiology specialist", "General practitioner": what someone does. */
export function roleName(p) {
  // A system account (a laboratory's, a hospital's) says which kind it is.
  if (p.role === "laboratory" || p.role === "hospital") return t(`followup.admin.kind.${p.role}`);
  if (p.role === "specialist" && p.specialties?.length)
    return t("patient.role.specialist_of", {
      specialties: formatList(p.specialties.map((s) => label(SPECIALTIES, s))),
    });
  return has(`patient.role.${p.role}`) ? t(`patient.role.${p.role}`) : String(p.role ?? "");
}

/**
 * A person as the patient's pages name them: "You", "Aigerim Nurlanovna (Cardiology
 * specialist, Regional hospital)", "Another patient" where the name is withheld, "The system".
 */
export function personText(p, me) {
  if (!p) return t("patient.person.system");
  if (me && p.id && p.id === me.id) return t("patient.person.you");
  if (!p.name) return t("patient.person.another_patient");
  if (p.role === "patient") return p.name;
  const what = [roleName(p), p.facility].filter(Boolean).join(", ");
  return what ? `${p.name} (${what})` : p.name;
}

/** "Read only" / "Read and write". */
export const accessText = (access) => t(`patient.access.${access === "read_write" ? "read_write" : "read"}`);

/** The parts of the passport a grant or request covers ("Notes, Diagnoses"), or all of it. */
export const partsText = (categories) =>
  categories?.length
    ? formatList(categories.map((c) => (has(`patient.category.${c}`) ? t(`patient.category.${c}`) : c)))
    : t("patient.category.all");

/** An ApiError as a person reads it, for pagedList and form (both show `detail`). */
export function readable(error) {
  if (!error || error.status === undefined) return error;
  const fields = {};
  for (const path of Object.keys(error.fields || {})) {
    const code = error.fieldCodes?.[path] || "invalid";
    const params = error.fieldParams?.[path] || {};
    fields[path] = has(`field.${code}`) ? t(`field.${code}`, params) : t("field.invalid");
  }
  return {
    status: error.status,
    code: error.code,
    detail: errorText(error),
    fields,
    fieldCodes: error.fieldCodes || {},
    fieldParams: error.fieldParams || {},
  };
}

const OUTCOMES = { permit: "allowed", ok: "done", deny: "refused", failure: "failed" };
const OUTCOME_KIND = { allowed: "ok", done: "ok", refused: "bad", failed: "bad" };

/** The title of an event: "Opened the health passport", "Gave access"... */
function eventTitle(a) {
  const d = a.details || {};
  if (a.event === "passport_denied") return t(`patient.log.denied.${d.wanted || "read"}`);
  const key = `patient.log.event.${a.event}`;
  return has(key) ? t(key) : t("patient.log.event.other");
}

/** Why it was allowed or refused, in words. */
function whyText(a) {
  const d = a.details || {};
  if (d.denial)
    return d.denial === "not_covered"
      ? t("patient.log.denial.not_covered", { parts: partsText(d.missing) })
      : t(`patient.log.denial.${has(`patient.log.denial.${d.denial}`) ? d.denial : "other"}`);
  if (d.basis && has(`patient.log.basis.${d.basis}`)) return t(`patient.log.basis.${d.basis}`);
  if (d.by) return t(`patient.log.by.${d.by}`);
  if (d.how) return t(`patient.log.how.${d.how}`);
  if (d.via) return t(`patient.log.via.${d.via}`);
  return null;
}

/** The facts of an entry, label and value each: who got access, what, until when, why. */
function facts(a, me) {
  const d = a.details || {};
  const rows = [];
  const add = (key, value) => {
    if (value !== null && value !== undefined && value !== "")
      rows.push([t(`patient.log.fact.${key}`), value]);
  };
  if (d.grantee) add("grantee", personText(d.grantee, me));
  else if (d.grantee_facility) add("grantee", d.grantee_facility);
  if (d.kind) add("kind", has(`patient.kind.${d.kind}`) ? t(`patient.kind.${d.kind}`) : d.kind);
  if (d.entry) add("entry", `#${d.entry}`);
  if (d.access) add("access", accessText(d.access));
  if ("categories" in d && (d.grantee || d.grantee_facility || d.access))
    add("parts", partsText(d.categories));
  if (d.until) add("until", at(d.until));
  if (d.moved_from) add("moved_from", at(d.moved_from));
  if (d.moved_to) add("moved_to", at(d.moved_to));
  if (d.left !== undefined) add("left", String(d.left));
  if (d.attempts) add("attempts", String(d.attempts));
  add("why", whyText(a));
  if (d.why) add("reason", d.why);
  return rows;
}

/** One entry of the log as a table row. */
function row(a, me) {
  const outcome = OUTCOMES[a.outcome] || "other";
  const list = facts(a, me);
  return h(
    "tr",
    { dataset: { event: a.event || "other" } },
    h("td", {}, at(a.at)),
    h("td", {}, personText(a.actor, me)),
    h(
      "td",
      {},
      h("strong", { class: "log-event" }, eventTitle(a)),
      list.length
        ? h(
            "dl",
            { class: "log-facts" },
            list.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
          )
        : null,
    ),
    h("td", {}, badge(`outcome-${OUTCOME_KIND[outcome] || "other"}`, t(`patient.log.outcome.${outcome}`))),
    h(
      "td",
      {},
      h(
        "details",
        { class: "technical" },
        h("summary", {}, t("patient.log.technical")),
        h("code", {}, `${a.action} · ${a.outcome} · ${a.reason}`),
      ),
    ),
  );
}

/** A paged table of the patient's access log, newest first: {el, reload}. */
export function accessLog(patientId, { me, empty, caption }) {
  return pagedList({
    load: async (cursor) => {
      try {
        return await get(`/patients/${patientId}/access-log`, { cursor, newest_first: true });
      } catch (error) {
        throw readable(error);
      }
    },
    render: (a) => row(a, me),
    empty: empty ?? t("patient.log.empty"),
    tag: "tbody",
    wrap: (tbody) =>
      h(
        "div",
        { class: "table-wrap access-log" },
        h(
          "table",
          {},
          h("caption", { class: "visually-hidden" }, caption ?? t("patient.log.caption")),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["when", "who", "what", "outcome", "record"].map((k) =>
                h("th", { scope: "col" }, t(`patient.log.column.${k}`)),
              ),
            ),
          ),
          tbody,
        ),
      ),
  });
}
