// The password-reset page, opened from a one-time link (#/reset/<token>) without a session.
// The token is taken out of the address at once, so it stays out of the history.

import { post } from "../api.js";
import { clear, field, form, h } from "../dom.js";
import { errorText, preferredLanguage, setLanguage, t } from "../i18n.js";

/** Renders the page for the token in the current address. */
export async function renderReset(main) {
  const token = decodeURIComponent(location.hash.slice("#/reset/".length));
  history.replaceState(null, "", "#/reset");
  await setLanguage(preferredLanguage());
  document.title = `${t("admin.reset.title")} · Teleconsult`;
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "new-password",
    minlength: "12",
    required: true,
  });
  const again = h("input", { name: "again", type: "password", autocomplete: "new-password", required: true });
  const done = h("div", { hidden: true });
  const page = form(
    { class: "card narrow", "aria-labelledby": "reset-title" },
    [
      h("h1", { id: "reset-title", tabindex: "-1" }, t("admin.reset.title")),
      h("p", { class: "muted" }, t("admin.reset.intro")),
      field(t("admin.reset.password"), password, { hint: t("admin.reset.rules") }),
      field(t("admin.reset.again"), again),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, t("admin.reset.submit")),
      ),
    ],
    async (data, el) => {
      if (!token) return el.notice.show("error", t("error.reset_link_invalid"));
      if (data.password !== data.again) {
        const slot = again.closest(".field").querySelector(".field-error");
        slot.textContent = t("admin.reset.mismatch");
        slot.hidden = false;
        again.setAttribute("aria-invalid", "true");
        again.focus();
        return;
      }
      try {
        const out = await post("/auth/password-reset", { token, password: data.password });
        el.hidden = true;
        done.hidden = false;
        clear(
          done,
          h(
            "div",
            { class: "card narrow" },
            h("h1", { tabindex: "-1" }, t("admin.reset.done_title")),
            h("p", { role: "status" }, t("admin.reset.done", { username: out.username })),
            h("a", { class: "button primary", href: "/" }, t("admin.reset.sign_in")),
          ),
        );
        done.querySelector("h1").focus();
      } catch (error) {
        if (!error.status || error.status === 422) throw error;
        el.notice.show("error", errorText(error));
      }
    },
  );
  clear(main, page, done);
  password.focus();
}
