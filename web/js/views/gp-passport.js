// The patient's health passport as the GP reads it on the patient's page: notes with the
// specialist's diagnoses, diagnoses, prescriptions (one line each), results and attachments,
// under the same consent rules as the specialist. Without consent: what that means, and how
// to ask the patient for it (a one-time code at the point of care).

import { get } from "../api.js";
import { badge, busy, clear, h } from "../dom.js";
import { errorText, t } from "../i18n.js";
import { person } from "../people.js";
import { pointOfCare } from "./consent.js";
import { at } from "./gp-forms.js";
import { entrySummary, prepareEntries } from "./passport.js";

// What the GP asks for: reading the passport for 30 days.
const ASK_DAYS = 30;

const GROUPS = [
  ["allergy", "rx.allergy.title"],
  ["note", "passport.group.notes"],
  ["diagnosis", "passport.group.diagnoses"],
  ["prescription", "passport.group.prescriptions"],
  ["lab_result", "passport.group.lab_results"],
  ["referral", "passport.group.referrals"],
  ["attachment", "passport.group.attachments"],
];

/** One entry as a list item: what it says, who wrote it and when. */
export function entryItem(e, { me }) {
  return h(
    "li",
    { class: `item entry kind-${e.kind}` },
    h("div", { class: "item-body" }, entrySummary(e)),
    h(
      "p",
      { class: "meta muted" },
      at(e.created_at),
      " · ",
      e.author_id === me.id ? t("passport.by_you") : person(null, { id: e.author_id }),
      e.superseded_by ? [" ", badge("corrected", t("passport.corrected"))] : null,
    ),
  );
}

/** Entries grouped by kind under headings; the newest version of each only. */
export function groupedEntries(entries, { me, level = "h3", empty = "passport.empty" }) {
  const current = entries.filter((e) => !e.superseded_by);
  if (!current.length) return h("p", { class: "muted empty" }, t(empty));
  return GROUPS.map(([kind, key]) => {
    const mine = current.filter((e) => e.kind === kind);
    if (!mine.length) return null;
    return h(
      "div",
      { class: `entry-group group-${kind}` },
      h(level, {}, t(key)),
      h(
        "ul",
        { class: "items" },
        mine.map((e) => entryItem(e, { me })),
      ),
    );
  });
}

async function allEntries(patientId) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(`/patients/${patientId}/passport`, { cursor, limit: 200 });
    items.push(...page.items);
    cursor = page.next;
  } while (cursor && items.length < 2000);
  return items;
}

/** Fill section with the patient's passport as the GP may read it. */
export async function gpPassport(section, patient, me) {
  const content = h("div", { class: "passport-content", "aria-live": "polite" });
  const reload = h("button", { type: "button", class: "secondary" }, t("passport.reload"));
  reload.addEventListener("click", () => busy(reload, load));
  clear(
    section,
    h(
      "div",
      { class: "toolbar" },
      h("h2", { id: "passport-title" }, t("passport.title")),
      h("div", { class: "actions" }, reload),
    ),
    content,
  );

  async function load() {
    let entries;
    try {
      entries = await allEntries(patient.id);
    } catch (error) {
      if (error.status === undefined) throw error;
      clear(
        content,
        error.status === 403
          ? refusal(error)
          : h("p", { class: "notice error", role: "alert" }, errorText(error)),
      );
      return;
    }
    await prepareEntries(entries);
    clear(content, groupedEntries(entries, { me }));
  }

  function refusal(error) {
    const expiresAt = new Date(Date.now() + ASK_DAYS * 24 * 3600 * 1000).toISOString();
    return h(
      "div",
      { class: "refusal" },
      h(
        "div",
        { class: "notice error", role: "alert" },
        h("strong", {}, errorText(error)),
        " ",
        t("passport.denied_logged"),
      ),
      h("h3", {}, t("passport.ask_title")),
      h("p", {}, t("passport.ask_how", { days: ASK_DAYS })),
      pointOfCare({
        patientId: patient.id,
        granteeId: me.id,
        consultationId: null,
        access: "read",
        expiresAt,
        onGranted: () => load(),
      }),
    );
  }

  await load();
}
