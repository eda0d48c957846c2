// Consent at the point of care (a one-time code the patient reads out) and emergency access,
// shared by the GP and specialist views.

import { get, post } from "../api.js";
import { busy, field, form, h, notice } from "../dom.js";
import { errorText, fieldErrorText, formatDateTime, t } from "../i18n.js";
import { person } from "../people.js";

// A booked specialist may work on the passport until 72 hours after the consultation.
const AFTER_CONSULTATION_MS = 72 * 3600 * 1000;
const CODE = /^\d{6}$/;

export const ACCESS_TEXT = {
  get read() {
    return t("consent.access.read");
  },
  get read_write() {
    return t("consent.access.read_write");
  },
};

const when = (iso) => (iso ? h("time", { datetime: iso }, formatDateTime(iso)) : "—");

/** Until when a consultation's specialist needs access: 72 hours after it (never in the past). */
export function consultationAccessUntil(c) {
  const end = Date.parse(c.ends_at || c.starts_at || c.created_at) || Date.now();
  return new Date(Math.max(end, Date.now()) + AFTER_CONSULTATION_MS).toISOString();
}

/**
 * The point-of-care flow for one consultation's grantee. It shows where the consultation's
 * consent request stands (booking makes one), sends a one-time code for it (the server texts
 * a 6-digit code to the patient), or makes a new request when none is pending; the clinician
 * types the code the patient reads out and confirms. onGranted(grant) runs after a confirmed
 * code.
 */
export function pointOfCare({
  patientId,
  granteeId,
  consultationId,
  access = "read_write",
  expiresAt,
  onGranted,
}) {
  let request = null;
  const status = notice();
  const send = h(
    "button",
    { type: "button", class: "secondary", dataset: { step: "send" } },
    t("consent.send_code"),
  );
  const withdraw = h(
    "button",
    { type: "button", class: "secondary", dataset: { step: "withdraw" }, hidden: true },
    t("consent.withdraw"),
  );
  const codeInput = h("input", {
    name: "code",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: "6",
    pattern: "\\d{6}",
    spellcheck: "false",
    class: "code-input",
    required: true,
  });
  const confirmForm = form(
    { class: "inline code-form", hidden: true },
    [
      field(t("consent.code_label"), codeInput, { hint: t("consent.code_hint") }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("consent.confirm"))),
    ],
    async (data, el) => {
      if (request?.status !== "pending") throw { detail: t("consent.send_first") };
      if (!CODE.test(data.code))
        throw { detail: t("consent.six_digits"), fields: { code: t("consent.six_digits_field") } };
      try {
        const grant = await post(`/consent-requests/${request.id}/confirm`, { code: data.code });
        request = { ...request, status: "confirmed", grant };
        el.reset();
        show();
        onGranted?.(grant);
      } catch (error) {
        if (error.status === 409 && consultationId) {
          // Expired: a new code helps. Locked or no longer pending: only a new request.
          await load();
          if (request?.status !== "pending") {
            // The code form is gone with the request: the panel's notice says what next.
            status.show(
              "error",
              t(request ? `consent.last.${request.status}` : "consent.no_longer_pending"),
              " ",
              t("consent.ask_again"),
            );
            return;
          }
          throw {
            detail: `${t("consent.code_expired")} ${t("consent.new_code_hint")}`,
            fields: { code: t("consent.code_spent") },
          };
        }
        if (error.status === 422 && error.fields?.code) {
          // How many tries are left: a number the server sends (or writes in its message).
          const params = error.fieldParams?.code || {};
          const found = /(\d+) attempt/.exec(String(error.fields.code));
          const left = params.left ?? params.attempts_left ?? (found ? Number(found[1]) : null);
          const message =
            left == null
              ? fieldErrorText(error.fieldCodes?.code || "invalid", params)
              : t("consent.wrong_code", { count: left, n: left });
          throw { detail: message, fields: { code: message } };
        }
        if (error.status !== undefined) throw { detail: errorText(error) };
        throw error;
      }
    },
  );

  function show() {
    const state = request?.status;
    // A grant the patient has since revoked (or that ran out) no longer counts as given.
    const given = state === "confirmed" && request.grant_active !== false;
    withdraw.hidden = state !== "pending";
    confirmForm.hidden = !(state === "pending" && request.code_expires_at);
    send.hidden = given;
    send.textContent =
      state === "pending" && request.code_expires_at ? t("consent.send_new_code") : t("consent.send_code");
    if (!request) {
      status.show("info", t(consultationId ? "consent.none_waiting" : "consent.none_waiting_patient"));
    } else if (state === "confirmed" && !given) {
      status.show("warning", t("consent.revoked"));
    } else if (state === "confirmed") {
      status.show(
        "success",
        h("strong", {}, t("consent.given")),
        " ",
        ACCESS_TEXT[request.access] || request.access,
        ": ",
        person(request.grantee, { id: request.grantee_user_id }),
        ", ",
        t("consent.until"),
        " ",
        when(request.grant?.expires_at || request.expires_at),
        ".",
      );
    } else if (state === "pending") {
      status.show(
        "info",
        request.code_expires_at ? [t("consent.code_sent"), " ", when(request.code_expires_at), ". "] : null,
        t(request.code_expires_at ? "consent.read_it_out" : "consent.pending_no_code"),
      );
    } else {
      status.show(
        state === "declined" ? "warning" : "info",
        t(`consent.last.${state}`),
        " ",
        t("consent.ask_again"),
      );
    }
  }

  async function load() {
    // Without a consultation (the GP's own request from the patient's page) there is no
    // earlier request to find: the first code makes one.
    if (!consultationId) return show();
    try {
      const page = await get(`/consultations/${consultationId}/consent-requests`);
      // Newest first: the latest request for this grantee tells where consent stands.
      request = page.items.find((r) => r.grantee_user_id === granteeId) || null;
    } catch (error) {
      if (!error.detail) throw error;
      status.show("error", errorText(error));
      return;
    }
    show();
  }

  send.addEventListener("click", () =>
    busy(send, async () => {
      status.hide();
      confirmForm.notice.hide();
      try {
        if (request?.status === "pending") {
          request = await post(`/consent-requests/${request.id}/send-code`);
        } else {
          request = await post(`/patients/${patientId}/consent-requests`, {
            grantee_user_id: granteeId,
            access,
            expires_at: expiresAt,
            consultation_id: consultationId,
          });
        }
        codeInput.removeAttribute("aria-invalid");
        show();
        codeInput.focus();
      } catch (error) {
        if (!error.detail) throw error;
        if (error.status === 409) await load();
        status.show("error", errorText(error));
      }
    }),
  );

  withdraw.addEventListener("click", () =>
    busy(withdraw, async () => {
      try {
        request = await post(`/consent-requests/${request.id}/withdraw`);
        show();
      } catch (error) {
        if (!error.detail) throw error;
        status.show("error", errorText(error));
      }
    }),
  );

  load();
  return h(
    "div",
    { class: "point-of-care" },
    h("div", { class: "actions" }, send, withdraw),
    status,
    confirmForm,
  );
}

/**
 * Emergency (break-glass) access: a written reason of at least 20 characters opens read
 * access for at most 4 hours. onOpened(session) runs after it opens, onEnded() after it ends.
 */
export function breakGlass({ patientId, onOpened, onEnded }) {
  const reason = h("textarea", {
    name: "reason",
    rows: "3",
    minlength: "20",
    maxlength: "2000",
    required: true,
  });
  const count = h(
    "span",
    { class: "hint count", "aria-live": "off" },
    t("consent.glass.count_short", { n: 0 }),
  );
  reason.addEventListener("input", () => {
    const n = reason.value.trim().length;
    count.textContent =
      n >= 20 ? t("consent.glass.count", { count: n, n }) : t("consent.glass.count_short", { n });
  });
  const running = notice();
  const el = form(
    { class: "break-glass-form" },
    [
      field(t("consent.glass.reason"), reason, {
        hint: t("consent.glass.reason_hint"),
      }),
      count,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "danger" }, t("consent.glass.open")),
      ),
    ],
    async (data, form_) => {
      if (data.reason.length < 20)
        throw {
          detail: t("consent.glass.reason_needed"),
          fields: { reason: t("consent.glass.reason_short", { n: data.reason.length }) },
        };
      const opened = await post(`/patients/${patientId}/break-glass`, { reason: data.reason });
      form_.reset();
      count.textContent = t("consent.glass.count_short", { n: 0 });
      const end = h("button", { type: "button", class: "secondary" }, t("consent.glass.end"));
      end.addEventListener("click", () =>
        busy(end, async () => {
          try {
            await post(`/break-glass/${opened.id}/end`);
            running.show("info", t("consent.glass.ended"));
            el.hidden = false;
            onEnded?.();
          } catch (error) {
            running.show("error", errorText(error));
          }
        }),
      );
      running.show(
        "warning",
        h("strong", {}, `${t("consent.glass.open_until")} `),
        when(opened.ends_at),
        `. ${t("consent.glass.in_audit")} `,
        end,
      );
      // One session at a time: the form comes back when this one ends.
      el.hidden = true;
      onOpened?.(opened);
    },
  );
  return h(
    "section",
    { class: "break-glass", "aria-label": t("consent.glass.label") },
    h("h3", {}, t("consent.glass.title")),
    h("p", { class: "warning" }, h("strong", {}, `${t("consent.glass.only")} `), t("consent.glass.explain")),
    el,
    running,
  );
}
