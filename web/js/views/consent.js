// Consent at the point of care (a one-time code the patient reads out) and emergency access,
// shared by the GP and specialist views.

import { post } from "../api.js";
import { busy, field, form, h, notice, shortId, when } from "../dom.js";

// A booked specialist may work on the passport until 72 hours after the consultation.
const AFTER_CONSULTATION_MS = 72 * 3600 * 1000;
const CODE = /^\d{6}$/;

export const ACCESS_TEXT = { read: "Read only", read_write: "Read and write" };

/** Until when a consultation's specialist needs access: 72 hours after it (never in the past). */
export function consultationAccessUntil(c) {
  const end = Date.parse(c.ends_at || c.starts_at || c.created_at) || Date.now();
  return new Date(Math.max(end, Date.now()) + AFTER_CONSULTATION_MS).toISOString();
}

// The requests this browser made, so a list reload or a page refresh keeps the flow going.
// Clinicians have no endpoint listing consent requests; only the patient lists theirs.
const remembered = new Map();
const storeKey = (key) => `tc.consent-request.${key}`;

function recall(key) {
  if (remembered.has(key)) return remembered.get(key);
  try {
    const saved = JSON.parse(sessionStorage.getItem(storeKey(key)) || "null");
    if (saved) remembered.set(key, saved);
    return saved;
  } catch {
    return null;
  }
}

function remember(key, value) {
  remembered.set(key, value);
  try {
    if (value) sessionStorage.setItem(storeKey(key), JSON.stringify(value));
    else sessionStorage.removeItem(storeKey(key));
  } catch {
    // Storage may be unavailable (private mode); the in-memory copy still works.
  }
}

/**
 * The point-of-care flow: "Send code to patient" makes a consent request for the grantee
 * (the server texts a 6-digit code to the patient) or sends a new code for the pending one;
 * the clinician types the code the patient reads out and confirms. onGranted(grant) runs
 * after a confirmed code.
 */
export function pointOfCare({ patientId, granteeId, access = "read_write", expiresAt, key, onGranted }) {
  const memoryKey = key || `${patientId}.${granteeId}`;
  const status = notice();
  const send = h(
    "button",
    { type: "button", class: "secondary", dataset: { step: "send" } },
    "Send code to patient",
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
        hint: "The code works for 10 minutes and for 5 attempts.",
      }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Confirm")),
    ],
    async (data, el) => {
      const request = recall(memoryKey);
      if (!request) throw { detail: "Send a code to the patient first." };
      if (!CODE.test(data.code))
        throw {
          detail: "The code has 6 digits.",
          fields: { code: "enter the 6 digits the patient received" },
        };
      try {
        const grant = await post(`/consent-requests/${request.id}/confirm`, { code: data.code });
        remember(memoryKey, { ...request, status: "confirmed", grant });
        el.reset();
        show();
        onGranted?.(grant);
      } catch (error) {
        if (error.status === 409) {
          // Expired, out of attempts, or no longer pending: only a new code helps.
          send.textContent = "Send a new code";
          throw {
            detail: `${error.detail} Use "Send a new code" and ask the patient for the new one.`,
            fields: { code: "this code can no longer be used" },
          };
        }
        if (error.status === 422 && error.fields?.code) {
          const message = error.fields.code;
          const spent = /\b0 attempt/.test(message);
          throw {
            detail: `${message[0].toUpperCase()}${message.slice(1)}.${spent ? ' Use "Send a new code" and ask the patient for the new one.' : ""}`,
            fields: error.fields,
          };
        }
        throw error;
      }
    },
  );

  function show() {
    const request = recall(memoryKey);
    if (request?.status === "confirmed") {
      status.show(
        "success",
        h("strong", {}, "Consent confirmed with the patient's code. "),
        `${ACCESS_TEXT[request.access] || request.access} access for user `,
        shortId(request.grantee_user_id),
        " until ",
        when(request.grant?.expires_at || request.expires_at),
        ".",
      );
      confirmForm.hidden = true;
      send.hidden = true;
      return;
    }
    send.hidden = false;
    if (request) {
      status.show(
        "info",
        "A code was sent to the patient's phone",
        request.code_expires_at ? [" and works until ", when(request.code_expires_at)] : "",
        ". Ask the patient to read it out, then enter it below.",
      );
      confirmForm.hidden = false;
      send.textContent = "Send a new code";
    }
  }

  send.addEventListener("click", () =>
    busy(send, async () => {
      status.hide();
      confirmForm.notice.hide();
      const known = recall(memoryKey);
      try {
        let request = null;
        if (known && known.status !== "confirmed") {
          try {
            request = await post(`/consent-requests/${known.id}/send-code`);
          } catch (error) {
            // Gone (another account) or no longer pending: start a new request below.
            if (![404, 409].includes(error.status)) throw error;
          }
        }
        request ||= await post(`/patients/${patientId}/consent-requests`, {
          grantee_user_id: granteeId,
          access,
          expires_at: expiresAt,
        });
        remember(memoryKey, request);
        codeInput.removeAttribute("aria-invalid");
        show();
        codeInput.focus();
      } catch (error) {
        if (!error.detail) throw error;
        status.show("error", error.detail);
      }
    }),
  );

  show();
  return h("div", { class: "point-of-care" }, h("div", { class: "actions" }, send), status, confirmForm);
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
