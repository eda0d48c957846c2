// The GP's "Follow-up": the facility's patients in chronic-disease programmes, overdue first
// (a visit, readings or the yearly specialist review past due), with one click to send the
// review to the specialty; the "needs attention" list of readings outside their targets;
// and, on a patient's page, their programmes (enrol, proposals from their diagnoses) and
// their measurements.

import { get, post } from "../api.js";
import { SPECIALTIES, label } from "../codes.js";
import { badge, busy, clear, field, form, h, notice, select } from "../dom.js";
import { errorText, formatDate, formatDateTime, t } from "../i18n.js";
import { measurementsCard, reading } from "./measurements.js";

const programmeName = (code) => t(`followup.programme.${code}`);
const patientHref = (id) => `#/patients?id=${encodeURIComponent(id)}`;

function due(key, iso) {
  return iso ? h("span", { class: "followup-due" }, t(key, { date: formatDate(iso) })) : null;
}

/** One click: an async case to the programme's review specialty, for the yearly review. */
function reviewButton(row, said) {
  const button = h(
    "button",
    { type: "button", class: row.overdue.includes("review") ? "primary" : "secondary" },
    t("followup.book_review", { specialty: label(SPECIALTIES, row.review_specialty) }),
  );
  button.addEventListener("click", () =>
    busy(button, async () => {
      try {
        await post("/consultations", {
          patient_id: row.patient_id,
          specialty: row.review_specialty,
          mode: "async",
          urgency: "routine",
          reason: t("followup.review_reason", { programme: programmeName(row.programme) }),
        });
        said.show("success", t("followup.review_booked", { name: row.patient_name }));
        button.disabled = true;
      } catch (error) {
        if (error.status === undefined) throw error;
        said.show("error", errorText(error));
      }
    }),
  );
  return button;
}

function followUpItem(row, said) {
  const overdue = row.overdue.length > 0;
  return h(
    "li",
    { class: `item followup-row${overdue ? " overdue" : ""}`, dataset: { patient: row.patient_id } },
    h(
      "div",
      { class: "item-head" },
      h("a", { class: "patient-name", href: patientHref(row.patient_id) }, h("strong", {}, row.patient_name)),
      h("span", { class: "specialty" }, programmeName(row.programme)),
      h(
        "span",
        { class: "badges" },
        row.overdue.map((what) => badge("overdue", t(`followup.overdue.${what}`))),
        row.attention ? badge("outcome-bad", t("followup.attention_count", { count: row.attention })) : null,
        overdue ? null : badge("outcome-ok", t("followup.on_track")),
      ),
    ),
    h(
      "p",
      { class: "meta muted" },
      due("followup.visit_due", row.visit_due),
      row.measurement_due ? [" · ", due("followup.measurement_due", row.measurement_due)] : null,
      row.review_due ? [" · ", due("followup.review_due", row.review_due)] : null,
    ),
    row.missing_measures.length
      ? h(
          "p",
          { class: "meta" },
          t("followup.missing", {
            measures: row.missing_measures.map((m) => t(`followup.measure.${m}`)).join(", "),
          }),
        )
      : null,
    row.review_specialty ? h("div", { class: "actions" }, reviewButton(row, said)) : null,
  );
}

function attentionItem(item, reload) {
  const seen = h("button", { type: "button", class: "secondary" }, t("followup.mark_seen"));
  seen.addEventListener("click", () =>
    busy(seen, async () => {
      await post(`/attention/${item.id}/resolve`);
      await reload();
    }),
  );
  return h(
    "li",
    { class: "item followup-attention-item" },
    h(
      "div",
      { class: "item-head" },
      h(
        "a",
        { class: "patient-name", href: patientHref(item.patient_id) },
        h("strong", {}, item.patient_name),
      ),
      h("span", {}, t(`followup.measure.${item.measure}`), ": ", h("strong", {}, reading(item))),
      h(
        "span",
        { class: "badges" },
        badge(
          "outcome-bad",
          item.reason === "run"
            ? t("followup.attention_run", { count: item.run })
            : t("followup.out_of_target"),
        ),
      ),
    ),
    h(
      "p",
      { class: "meta muted" },
      h("time", { datetime: item.measured_at }, formatDateTime(item.measured_at)),
      " · ",
      programmeName(item.programme),
    ),
    h("div", { class: "actions" }, seen),
  );
}

export async function renderFollowUp(main) {
  const said = notice();
  const attention = h("section", { class: "card followup-attention", "aria-labelledby": "attention-title" });
  const enrolled = h("section", { class: "card followup-list", "aria-labelledby": "followup-title" });
  main.append(said, attention, enrolled);

  async function loadAttention() {
    const { items } = await get("/attention");
    clear(
      attention,
      h("h2", { id: "attention-title" }, t("followup.attention_title")),
      items.length
        ? h(
            "ul",
            { class: "items" },
            items.map((i) => attentionItem(i, load)),
          )
        : h("p", { class: "muted empty" }, t("followup.attention_empty")),
    );
  }

  async function loadList() {
    const { items } = await get("/followup");
    const overdue = items.filter((r) => r.overdue.length).length;
    clear(
      enrolled,
      h("h2", { id: "followup-title" }, t("followup.list_title")),
      h("p", { class: "muted" }, t("followup.summary", { count: items.length, overdue })),
      items.length
        ? h(
            "ul",
            { class: "items" },
            items.map((r) => followUpItem(r, said)),
          )
        : h("p", { class: "muted empty" }, t("followup.empty")),
    );
  }

  async function load() {
    await Promise.all([loadList(), loadAttention()]);
  }

  await load();
}

/** On the GP's patient page: the patient's programmes, proposals, and enrolment. */
export async function programmesCard(section, patient) {
  const said = notice();
  const [{ items: programmes }, mine] = await Promise.all([
    get("/programmes"),
    get(`/patients/${patient.id}/programmes`),
  ]);
  const active = mine.enrolments.filter((e) => !e.ended_at);
  const activeCodes = new Set(active.map((e) => e.programme));
  const choices = Object.fromEntries(
    programmes.filter((p) => !activeCodes.has(p.code)).map((p) => [p.code, programmeName(p.code)]),
  );
  const chosen = select("programme", choices, { empty: t("followup.choose_programme") });
  const enrol = async (code) => {
    try {
      await post(`/patients/${patient.id}/programmes`, { programme: code });
      await programmesCard(section, patient);
    } catch (error) {
      if (error.status === undefined) throw error;
      said.show("error", errorText(error));
    }
  };
  const enrolButton = h("button", { type: "button", class: "primary" }, t("followup.enrol"));
  enrolButton.addEventListener("click", () => {
    if (!chosen.value) return said.show("error", t("followup.choose_programme"));
    return busy(enrolButton, () => enrol(chosen.value));
  });
  clear(
    section,
    h("h2", { id: "programmes-title" }, t("followup.programmes_title")),
    active.length
      ? h(
          "ul",
          { class: "items" },
          active.map((e) =>
            h(
              "li",
              { class: "item followup-enrolment" },
              h("strong", {}, programmeName(e.programme)),
              h(
                "span",
                { class: "muted" },
                ` · ${t("followup.enrolled_on", { date: formatDate(e.enrolled_at) })}`,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("followup.not_enrolled")),
    mine.proposed.map((code) => {
      const yes = h("button", { type: "button", class: "secondary" }, t("followup.enrol_proposed"));
      yes.addEventListener("click", () => busy(yes, () => enrol(code)));
      return h(
        "p",
        { class: "notice info followup-proposal" },
        t("followup.proposed", { programme: programmeName(code) }),
        " ",
        yes,
      );
    }),
    Object.keys(choices).length
      ? h(
          "div",
          { class: "inline followup-enrol" },
          field(t("followup.programme_label"), chosen),
          h("div", { class: "actions" }, enrolButton),
        )
      : null,
    said,
  );
  section.setAttribute("aria-labelledby", "programmes-title");
}

/** The follow-up cards of the GP's patient page (programmes, then measurements). */
export function followUpCards(patient) {
  const programmes = h("section", { class: "card followup-programmes" });
  const measurements = h("section", { class: "card followup-measurements" });
  programmesCard(programmes, patient).catch((error) => {
    if (error.status === undefined) throw error;
    clear(programmes, h("p", { class: "notice error", role: "alert" }, errorText(error)));
  });
  measurementsCard(measurements, patient.id);
  return [programmes, measurements];
}

// --- administrators: the programmes, and the systems that push results ------------------

const numberOrNull = (v) => (v === "" || v === undefined ? null : Number(v));

function targetRow(target, index) {
  const n = (name, value, labelKey) =>
    field(
      t(labelKey),
      h("input", { name: `targets.${index}.${name}`, type: "number", step: "any", value: value ?? "" }),
    );
  return h(
    "fieldset",
    { class: "followup-target-row grid" },
    h("legend", {}, t(`followup.measure.${target.measure}`)),
    h("input", { type: "hidden", name: `targets.${index}.measure`, value: target.measure }),
    n("low", target.low, "followup.target.line_low"),
    n("high", target.high, "followup.target.line_high"),
    target.measure === "bp" ? n("high2", target.high2, "followup.target.line_high2") : null,
  );
}

function programmeForm(programme) {
  const specialties = Object.fromEntries(Object.keys(SPECIALTIES).map((k) => [k, label(SPECIALTIES, k)]));
  const el = form(
    { class: "grid followup-programme", dataset: { programme: programme.code } },
    [
      h("h3", {}, programmeName(programme.code)),
      field(t("followup.admin.icd10"), h("input", { name: "icd10", value: programme.icd10.join(", ") }), {
        hint: t("followup.admin.icd10_hint"),
      }),
      field(
        t("followup.admin.visit_interval"),
        h("input", {
          name: "visit_interval_days",
          type: "number",
          min: "7",
          value: programme.visit_interval_days,
        }),
      ),
      field(
        t("followup.admin.review_specialty"),
        select("review_specialty", specialties, {
          empty: t("followup.admin.no_review"),
          value: programme.review_specialty ?? "",
        }),
      ),
      field(
        t("followup.admin.review_interval"),
        h("input", {
          name: "review_interval_days",
          type: "number",
          min: "30",
          value: programme.review_interval_days,
        }),
      ),
      h("div", { class: "wide" }, programme.targets.map(targetRow)),
      h("p", { class: "hint wide" }, t("followup.admin.source", { source: programme.source })),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("followup.admin.save")),
      ),
    ],
    async (data, formEl) => {
      const body = {
        icd10: data.icd10
          .split(/[\s,;]+/)
          .filter(Boolean)
          .map((c) => c.toUpperCase()),
        visit_interval_days: numberOrNull(data.visit_interval_days),
        review_specialty: data.review_specialty || null,
        review_interval_days: numberOrNull(data.review_interval_days),
        targets: programme.targets.map((target, i) => ({
          measure: target.measure,
          low: numberOrNull(data[`targets.${i}.low`]),
          high: numberOrNull(data[`targets.${i}.high`]),
          high2: target.measure === "bp" ? numberOrNull(data[`targets.${i}.high2`]) : null,
        })),
      };
      await post(`/programmes/${programme.code}`, body);
      formEl.notice.show("success", t("followup.admin.saved"));
    },
  );
  return h("section", { class: "card" }, el);
}

function systemsCard(facilities) {
  const list = h("ul", { class: "items followup-systems" });
  const facilityName = Object.fromEntries(facilities.map((f) => [f.id, f.name]));
  const show = async () => {
    const { items } = await get("/system-accounts");
    clear(
      list,
      items.length
        ? items.map((s) =>
            h(
              "li",
              { class: "item" },
              h("strong", {}, s.name),
              h(
                "span",
                { class: "muted" },
                ` · ${t(`followup.admin.kind.${s.kind}`)} · ${facilityName[s.facility_id] ?? ""} · `,
                formatDate(s.created_at),
              ),
            ),
          )
        : h("li", { class: "muted empty" }, t("followup.admin.no_systems")),
    );
  };
  const key = h("div", { class: "followup-key", "aria-live": "polite" });
  const kinds = {
    laboratory: t("followup.admin.kind.laboratory"),
    hospital: t("followup.admin.kind.hospital"),
  };
  const create = form(
    { class: "grid" },
    [
      field(t("followup.admin.system_name"), h("input", { name: "name", required: true, maxlength: "200" })),
      field(t("followup.admin.system_kind"), select("kind", kinds, { value: "laboratory" })),
      field(
        t("followup.admin.system_facility"),
        select("facility_id", facilityName, { empty: t("followup.admin.choose_facility") }),
      ),
      h(
        "div",
        { class: "actions wide" },
        h("button", { type: "submit", class: "primary" }, t("followup.admin.create")),
      ),
    ],
    async (data, el) => {
      const made = await post("/system-accounts", data);
      el.reset();
      clear(
        key,
        h(
          "div",
          { class: "notice success", role: "status" },
          h("p", {}, t("followup.admin.key_once", { name: made.name })),
          h("p", {}, h("code", { class: "followup-api-key" }, made.api_key)),
        ),
      );
      await show();
    },
  );
  show();
  return h(
    "section",
    { class: "card", "aria-labelledby": "systems-title" },
    h("h2", { id: "systems-title" }, t("followup.admin.systems_title")),
    h("p", { class: "muted" }, t("followup.admin.systems_intro")),
    list,
    h("h3", {}, t("followup.admin.new_system")),
    create,
    key,
  );
}

export async function renderProgrammesAdmin(main) {
  const [{ items }, facilities] = await Promise.all([
    get("/programmes"),
    get("/facilities", { limit: 500 }).catch(() => ({ items: [] })),
  ]);
  main.append(
    h("p", { class: "muted" }, t("followup.admin.intro")),
    ...items.map(programmeForm),
    systemsCard(facilities.items),
  );
}
