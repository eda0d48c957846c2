// Consent at the point of care (a one-time code the patient reads out) and emergency access,
// shared by the GP and specialist views.

import { get, post } from "../api.js";
import { busy, field, form, h, notice, when } from "../dom.js";
import { person } from "../people.js";

// A booked specialist may work on the passport until 72 hours after the consultation.
const AFTER_CONSULTATION_MS = 72 * 3600 * 1000;
const CODE = /^\d{6}$/;

export const ACCESS_TEXT = { read: "Read only", read_write: "Read and write" };

/** Until when a consultation's specialist needs access: 72 hours after it (never in the past). */
export function consultationAccessUntil(c) {
  const end = Date.parse(c.ends_at || c.starts_at || c.created_at) || Date.now();
  return new Date(Math.max(end, Date.now()) + AFTER_CONSULTATION_MS).toISOString();
}

const STATUS_TEXT = {
  pending: "waiting for the patient",
  confirmed: "given",
  declined: "declined by the patient",
  withdrawn: "withdrawn",
  locked: "locked after too many wrong codes",
};

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
    "Send code to patient",
  );
  const withdraw = h(
    "button",
    { type: "button", class: "secondary", dataset: { step: "withdraw" }, hidden: true },
    "Withdraw request",
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
      field("6-digit code from the patient", codeInput, {
        hint: "The code works for 10 minutes; 5 wrong codes lock the request.",
      }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Confirm")),
    ],
    async (data, el) => {
      if (request?.status !== "pending") throw { detail: "Send a code to the patient first." };
      if (!CODE.test(data.code))
        throw {
          detail: "The code has 6 digits.",
          fields: { code: "enter the 6 digits the patient received" },
        };
      try {
        const grant = await post(`/consent-requests/${request.id}/confirm`, { code: data.code });
        request = { ...request, status: "confirmed", grant };
        el.reset();
        show();
        onGranted?.(grant);
      } catch (error) {
        if (error.status === 409) {
          // Expired: a new code helps. Locked or no longer pending: only a new request.
          await load();
          if (request?.status !== "pending") {
            // The code form is gone with the request: the panel's notice says what next.
            status.show("error", `${error.detail} Use "Send code to patient" to ask again.`);
            return;
          }
          throw {
            detail: `${error.detail} Use "Send a new code" and ask the patient for the new one.`,
            fields: { code: "this code can no longer be used" },
          };
        }
        if (error.status === 422 && error.fields?.code) {
          const message = error.fields.code;
          throw {
            detail: `${message[0].toUpperCase()}${message.slice(1)}.`,
            fields: error.fields,
          };
        }
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
      state === "pending" && request.code_expires_at ? "Send a new code" : "Send code to patient";
    if (!request) {
      status.show(
        "info",
        "No consent request is waiting for this consultation. Send a code to ask the patient.",
      );
    } else if (state === "confirmed" && !given) {
      status.show(
        "warning",
        "The patient's consent for this consultation was revoked or has ended. Send a code to ask again.",
      );
    } else if (state === "confirmed") {
      status.show(
        "success",
        h("strong", {}, "Consent given. "),
        `${ACCESS_TEXT[request.access] || request.access} access for `,
        person(request.grantee, { id: request.grantee_user_id }),
        " until ",
        when(request.grant?.expires_at || request.expires_at),
        ".",
      );
    } else if (state === "pending") {
      status.show(
        "info",
        `Consent request ${STATUS_TEXT.pending}`,
        request.code_expires_at
          ? [". A code was sent to the patient's phone and works until ", when(request.code_expires_at)]
          : " (the patient can approve it in their account)",
        request.code_expires_at
          ? ". Ask the patient to read it out, then enter it below."
          : ", or send a one-time code now.",
      );
    } else {
      status.show(
        state === "declined" ? "warning" : "info",
        `The last consent request was ${STATUS_TEXT[state] || state}. Send a code to ask the patient again.`,
      );
    }
  }

  async function load() {
    try {
      const page = await get(`/consultations/${consultationId}/consent-requests`);
      // Newest first: the latest request for this grantee tells where consent stands.
      request = page.items.find((r) => r.grantee_user_id === granteeId) || null;
    } catch (error) {
      if (!error.detail) throw error;
      status.show("error", error.detail);
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
        status.show("error", error.detail);
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
        status.show("error", error.detail);
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
  const count = h("span", { class: "hint count", "aria-live": "off" }, "0 / 20 characters");
  reason.addEventListener("input", () => {
    const n = reason.value.trim().length;
    count.textContent = n >= 20 ? `${n} characters` : `${n} / 20 characters`;
  });
  const running = notice();
  const el = form(
    { class: "break-glass-form" },
    [
      field("Reason for emergency access", reason, {
        hint: "At least 20 characters: what is the emergency and why the patient cannot consent.",
      }),
      count,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "danger" }, "Open emergency access"),
      ),
    ],
    async (data, form_) => {
      if (data.reason.length < 20)
        throw {
          detail: "Write the reason for emergency access (at least 20 characters).",
          fields: { reason: `at least 20 characters (now ${data.reason.length})` },
        };
      const opened = await post(`/patients/${patientId}/break-glass`, { reason: data.reason });
      form_.reset();
      count.textContent = "0 / 20 characters";
      const end = h("button", { type: "button", class: "secondary" }, "End emergency access");
      end.addEventListener("click", () =>
        busy(end, async () => {
          try {
            await post(`/break-glass/${opened.id}/end`);
            running.show("info", "Emergency access has ended.");
            el.hidden = false;
            onEnded?.();
          } catch (error) {
            running.show("error", error.detail);
          }
        }),
      );
      running.show(
        "warning",
        h("strong", {}, "Emergency access is open until "),
        when(opened.ends_at),
        ". It is in the audit log with your reason and the patient sees it. ",
        end,
      );
      // One session at a time: the form comes back when this one ends.
      el.hidden = true;
      onOpened?.(opened);
    },
  );
  return h(
    "section",
    { class: "break-glass", "aria-label": "Emergency access" },
    h("h3", {}, "Emergency access (break-glass)"),
    h(
      "p",
      { class: "warning" },
      h("strong", {}, "Only for an emergency in which the patient cannot give consent. "),
      "It opens read access for at most 4 hours. The opening, your reason and its end are written to the audit log, reviewed by administrators and shown to the patient.",
    ),
    el,
    running,
  );
}
