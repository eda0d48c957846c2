// A clinician reading a patient's health passport for a consultation: the entries when the
// patient has consented, otherwise the refusal with the ways forward and emergency access.

import { get } from "../api.js";
import { entryFile } from "../files.js";
import { findingItem } from "../findings.js";
import { diagnosisTitle, learnTitles } from "../icd.js";
import { PASSPORT_KINDS, SPECIALTIES, label } from "../codes.js";
import { errorText, has, language, t } from "../i18n.js";
import { badge, busy, clear, h, notice, pagedList, shortId, when } from "../dom.js";
import { namePeople, person } from "../people.js";
import { breakGlass, consultationAccessUntil, pointOfCare } from "./consent.js";
import { reading } from "./measurements.js";

const SHORT = 280;

const clip = (text) => {
  const value = String(text ?? "").trim();
  return value.length > SHORT ? `${value.slice(0, SHORT - 1)}…` : value;
};

/** A route of administration in the chosen language ("oral" → "by mouth"). */
const routeText = (route) => (route && has(`passport.route.${route}`) ? t(`passport.route.${route}`) : route);

/** A prescription as one line: "Amlodipine 5 mg, by mouth, once daily, 30 days". */
export function prescriptionLine(b) {
  const head = [b.medication, b.dose].filter(Boolean).join(" ");
  const days = b.duration_days ? t("passport.days", { count: b.duration_days, n: b.duration_days }) : "";
  return [head, routeText(b.route), b.frequency, days].filter(Boolean).join(", ");
}

/**
 * What the checks left on a written prescription: "outside the formulary" for free text, and
 * for one confirmed despite high findings, the reason and those findings.
 */
function prescriptionMarks(b) {
  const marks = [];
  if (b.in_formulary === false) marks.push(h("p", { class: "entry-more rx-outside" }, badge("rx-low", t("rx.outside_formulary"))));
  const reason = b.checks?.override_reason;
  if (reason) {
    const high = (b.checks.findings || []).filter((f) => f.severity === "high");
    marks.push(
      h(
        "div",
        { class: "entry-more rx-confirmed" },
        h("p", {}, t("passport.rx_confirmed", { reason: clip(reason) })),
        high.length ? h("ul", { class: "rx-findings", role: "list" }, high.map(findingItem)) : null,
      ),
    );
  }
  return marks;
}

const lower = (text) => text.toLocaleLowerCase(language());

/** An allergy as one line: "Penicillin — rash, severe" (with "intolerance" or "resolved"). */
export function allergyLine(b) {
  const severity = has(`rx.allergy.severity.${b.severity}`) ? lower(t(`rx.allergy.severity.${b.severity}`)) : "";
  const parts = [b.reaction, severity];
  if (b.type === "intolerance") parts.push(lower(t("rx.allergy.type.intolerance")));
  if (b.status && b.status !== "active" && has(`rx.allergy.status.${b.status}`))
    parts.push(lower(t(`rx.allergy.status.${b.status}`)));
  const rest = parts.filter(Boolean).join(", ");
  return rest ? `${b.substance ?? ""} — ${rest}` : String(b.substance ?? "");
}

/** An attachment without a file here: its title and its kind in words, never a MIME type. */
function attachmentLine(b) {
  const type = String(b.content_type || "");
  const kind =
    type === "application/pdf"
      ? t("files.pdf")
      : type === "application/dicom"
        ? t("files.dicom")
        : type.startsWith("image/")
          ? t("passport.picture")
          : "";
  const title = b.title ?? t("passport.attachment");
  return kind ? `${title} (${kind})` : title;
}

/**
 * What entries need before they are shown: their authors' names and their diagnoses' titles in
 * the reader's language, asked for together (the entries still show if either fails).
 */
export async function prepareEntries(entries) {
  await Promise.all([
    namePeople(entries.map((e) => e.author_id)).catch(() => {}),
    learnTitles(entries).catch(() => {}),
  ]);
}

/** One line or two that say what an entry holds, by kind. */
export function entrySummary(entry) {
  const b = entry.body && typeof entry.body === "object" ? entry.body : {};
  const lines = [];
  switch (entry.kind) {
    case "note":
      lines.push(clip(b.text));
      if (b.diagnoses?.length)
        lines.push(t("passport.diagnoses", { list: b.diagnoses.map(diagnosisTitle).join("; ") }));
      break;
    case "diagnosis":
      lines.push(diagnosisTitle(b));
      if (b.comment) lines.push(clip(b.comment));
      break;
    case "prescription":
      lines.push(prescriptionLine(b));
      if (b.instructions) lines.push(clip(b.instructions));
      break;
    case "allergy":
      lines.push(allergyLine(b));
      break;
    case "lab_result":
      lines.push(
        `${b.test ?? t("passport.result")}: ${b.value ?? ""}${b.unit ? ` ${b.unit}` : ""}` +
          (b.reference_range ? ` (${t("passport.reference", { range: b.reference_range })})` : ""),
      );
      break;
    case "referral":
      lines.push(`${b.specialty ? label(SPECIALTIES, b.specialty) : ""}: ${clip(b.reason)}`);
      break;
    case "attachment":
      // The file's tile below says what it is (PDF, picture, DICOM) and its size.
      lines.push(b.file_id ? (b.title ?? t("passport.attachment")) : attachmentLine(b));
      break;
    case "observation":
      lines.push(`${t(`followup.measure.${b.measure}`)}: ${reading(b)}`);
      break;
    default:
      lines.push(clip(JSON.stringify(b)));
  }
  const shown = lines
    .filter(Boolean)
    .map((line, i) => h("p", { class: i ? "entry-more" : "entry-text" }, line));
  if (entry.kind === "attachment" && b.file_id) shown.push(entryFile(b));
  if (entry.kind === "prescription") shown.push(...prescriptionMarks(b));
  return shown;
}

function entryItem(e, { me, c }) {
  return h(
    "li",
    { class: `item entry kind-${e.kind}`, dataset: { seq: e.seq } },
    h(
      "div",
      { class: "item-head" },
      h("span", { class: "seq" }, `#${e.seq}`),
      badge(`kind-${e.kind}`, label(PASSPORT_KINDS, e.kind)),
      when(e.created_at),
      e.superseded_by ? badge("corrected", t("passport.corrected")) : null,
    ),
    h("div", { class: "item-body" }, entrySummary(e)),
    h(
      "p",
      { class: "meta muted" },
      `${t("passport.by")} `,
      e.author_id === me.id ? t("passport.you") : person(null, { id: e.author_id }),
      e.consultation_id
        ? e.consultation_id === c.id
          ? ` · ${t("passport.this_consultation")}`
          : [` · ${t("passport.another_consultation")}`]
        : null,
    ),
    h(
      "details",
      { class: "technical" },
      h("summary", {}, t("passport.technical")),
      `${t("passport.hash")} `,
      shortId(e.hash),
    ),
  );
}

/** Fill section with the passport of consultation c's patient, as me may see it. */
export function openPassport(section, c, { me, patientName }) {
  const base = `/patients/${c.patient_id}`;
  const status = notice();
  const content = h("div", { class: "passport-content" });
  let emergency = false;
  const glass = breakGlass({
    patientId: c.patient_id,
    onOpened: () => {
      emergency = true;
      load();
    },
    onEnded: () => {
      emergency = false;
      load();
    },
  });
  const verify = h("button", { type: "button", class: "secondary", hidden: true }, t("passport.verify"));
  verify.addEventListener("click", () =>
    busy(verify, async () => {
      try {
        const result = await get(`${base}/passport/verify`);
        if (result.ok)
          status.show("success", t("passport.chain_intact", { count: result.entries, n: result.entries }));
        else
          status.show(
            "error",
            result.first_bad?.seq
              ? t("passport.chain_broken_at", { seq: result.first_bad.seq })
              : t("passport.chain_broken"),
          );
      } catch (error) {
        status.show("error", errorText(error));
      }
    }),
  );
  const reload = h("button", { type: "button", class: "secondary" }, t("passport.reload"));
  reload.addEventListener("click", () => busy(reload, load));
  const close = h("button", { type: "button", class: "secondary" }, t("passport.close"));
  close.addEventListener("click", () => {
    section.hidden = true;
    document.querySelector(`li[data-id="${c.id}"] button[data-open="passport"]`)?.focus();
  });

  async function load() {
    status.hide();
    let first;
    try {
      first = await get(`${base}/passport`);
    } catch (error) {
      if (!error.detail) throw error;
      verify.hidden = true;
      glass.hidden = false;
      if (error.status === 403) clear(content, refusal(error));
      else clear(content, h("p", { class: "notice error", role: "alert" }, errorText(error)));
      return;
    }
    verify.hidden = false;
    glass.hidden = !emergency;
    let pending = first;
    const list = pagedList({
      load: async (cursor) => {
        let page = pending;
        pending = null;
        if (cursor || !page) page = await get(`${base}/passport`, { cursor });
        await prepareEntries(page.items);
        return page;
      },
      render: (e) => entryItem(e, { me, c }),
      empty: t("passport.empty"),
      tag: "ol",
    });
    clear(content, list.el);
    await list.reload();
  }

  function refusal(error) {
    const again = h("button", { type: "button", class: "secondary" }, t("passport.open_again"));
    again.addEventListener("click", () => busy(again, load));
    return h(
      "div",
      { class: "refusal" },
      h(
        "div",
        { class: "notice error", role: "alert" },
        h("strong", {}, errorText(error)),
        ` ${t("passport.denied_logged")}`,
      ),
      h("h3", {}, t("passport.two_ways")),
      h(
        "ol",
        { class: "ways" },
        h(
          "li",
          {},
          h("strong", {}, `${t("passport.way_account")} `),
          t("passport.way_account_how"),
          h("div", { class: "actions" }, again),
        ),
        h(
          "li",
          {},
          h("strong", {}, `${t("passport.way_code")} `),
          t("passport.way_code_how"),
          pointOfCare({
            patientId: c.patient_id,
            granteeId: me.id,
            consultationId: c.id,
            expiresAt: consultationAccessUntil(c),
            onGranted: () => load(),
          }),
        ),
      ),
    );
  }

  glass.hidden = true;
  clear(
    section,
    h(
      "div",
      { class: "toolbar" },
      h("h2", { id: "passport-title", tabindex: "-1" }, t("passport.title")),
      h("div", { class: "actions" }, verify, reload, close),
    ),
    h("p", {}, patientName(c.patient_id)),
    status,
    content,
    glass,
  );
  section.hidden = false;
  section.querySelector("h2").focus();
  section.scrollIntoView({ block: "start" });
  return load();
}
