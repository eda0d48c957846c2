// Who takes part in a consultation beyond its GP and its specialist, on its card: the
// specialists invited into it (each with where the patient's consent for them stands), a way
// for the consultation's specialist to invite a specialist of another specialty (found by
// name), and for its GP to invite the patient to the call. The server has the last word on
// every invitation (POST /consultations/{id}/participants, POST .../call/options).

import { get, post } from "./api.js";
import { busy, clear, field, form, h, notice, uid } from "./dom.js";
import { errorText, t } from "./i18n.js";
import { personLater } from "./people.js";

const OPEN = new Set(["requested", "scheduled", "in_progress"]);
const CONSENT = new Set(["pending", "confirmed"]);

function invitedList(items, me) {
  if (!items.length) return h("p", { class: "muted empty" }, t("participants.none"));
  return h(
    "ul",
    { class: "participants" },
    items.map((p) =>
      h(
        "li",
        { dataset: { user: p.user_id } },
        personLater(p.user_id, { me }),
        " · ",
        h(
          "span",
          { class: `consent consent-${p.consent_status}` },
          t(`participants.consent.${CONSENT.has(p.consent_status) ? p.consent_status : "other"}`),
        ),
      ),
    ),
  );
}

/** The specialist's invitation form: a name to search, the specialists of other specialties. */
function inviteForm(c, me, onInvited) {
  const search = h("input", { type: "search", name: "q", autocomplete: "off", spellcheck: "false" });
  const first = () => h("option", { value: "" }, t("participants.type_first"));
  const pick = h("select", { name: "user_id", required: true }, first());
  let asked = 0;
  let timer = null;
  const find = async () => {
    const text = search.value.trim();
    const mine = ++asked;
    if (text.length < 2) {
      clear(pick, first());
      return;
    }
    let found = [];
    try {
      found = (await get("/people", { q: text })).items;
    } catch {
      found = [];
    }
    if (mine !== asked) return;
    // Specialists of another specialty than the consultation's.
    const fit = found.filter(
      (p) => p.role === "specialist" && p.id !== me.id && (p.specialties || []).some((s) => s !== c.specialty),
    );
    clear(
      pick,
      fit.length
        ? [h("option", { value: "" }, t("participants.choose")), fit.map((p) => h("option", { value: p.id }, p.name))]
        : h("option", { value: "" }, t("participants.no_one")),
    );
    if (fit.length === 1) pick.value = fit[0].id;
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(find, 250);
  });
  return form(
    { class: "invite-specialist" },
    [
      h("h4", {}, t("participants.invite_title")),
      field(t("participants.search"), search, { hint: t("participants.search_hint") }),
      field(t("participants.specialist"), pick),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("participants.invite"))),
    ],
    async (data, el) => {
      await post(`/consultations/${c.id}/participants`, { user_id: data.user_id || null });
      el.reset();
      clear(pick, first());
      await onInvited(t("participants.invited"));
    },
  );
}

/** The GP's button: invite the patient to the call; one without an account is sent the
 * link by SMS (the card says to which number, hinted). */
function invitePatient(c, onInvited, options) {
  // Invited already: say so, and where the link goes.
  if (options.patient_invited)
    return h(
      "p",
      { class: "invite-patient muted" },
      options.patient_sms_to
        ? t("participants.patient_sms", { phone: options.patient_sms_to })
        : t("participants.patient_invited"),
    );
  const note = notice();
  const button = h("button", { type: "button", class: "secondary" }, t("participants.invite_patient"));
  button.addEventListener("click", () =>
    busy(button, async () => {
      note.hide();
      try {
        const options = await post(`/consultations/${c.id}/call/options`, { invite_patient: true });
        await onInvited(
          options.patient_sms_to
            ? t("participants.patient_sms", { phone: options.patient_sms_to })
            : t("participants.patient_invited"),
        );
      } catch (error) {
        if (error.status === undefined) throw error;
        note.show("error", errorText(error));
      }
    }),
  );
  return h(
    "div",
    { class: "invite-patient" },
    h("p", { class: "muted" }, t("participants.invite_patient_hint")),
    h("div", { class: "actions" }, button),
    note,
  );
}

async function fill(panel, c, me, news) {
  const title = h("h3", {}, t("participants.title"));
  let page;
  try {
    page = await get(`/consultations/${c.id}/participants`);
  } catch (error) {
    if (error.status === undefined) throw error;
    clear(panel, title, h("p", { class: "notice error", role: "alert" }, errorText(error)));
    return;
  }
  const status = notice();
  const again = async (text) => {
    await fill(panel, c, me, text);
  };
  const open = OPEN.has(c.status);
  const gpOfCall = open && c.mode === "video" && c.requester_id === me.id;
  const options = gpOfCall ? await get(`/consultations/${c.id}/call/options`) : null;
  clear(
    panel,
    title,
    invitedList(page.items, me),
    open && c.specialist_id === me.id ? inviteForm(c, me, again) : null,
    gpOfCall ? invitePatient(c, again, options) : null,
    status,
  );
  if (news) status.show("success", news);
}

/** "Participants" on a consultation's card: a button and the panel it opens. */
export function participantsAction(c, { me }) {
  const panel = h("div", { class: "participants-panel", id: uid("participants"), hidden: true, tabindex: "-1" });
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-expanded": "false",
      "aria-controls": panel.id,
      dataset: { open: "participants" },
    },
    t("participants.button"),
  );
  button.addEventListener("click", () =>
    busy(button, async () => {
      if (panel.hidden) {
        await fill(panel, c, me);
        panel.hidden = false;
        panel.focus();
      } else panel.hidden = true;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    }),
  );
  return { button, panel };
}
