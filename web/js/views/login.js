import { get, post } from "../api.js";
import { clear, field, form, h } from "../dom.js";
import { t } from "../i18n.js";

/**
 * The sign-in form; onSignedIn(me) runs once the session cookie is set. Rendered again on a
 * language switch with what was typed (`username`) and without taking the focus (`focus`).
 * Returns its controls.
 */
export function renderLogin(main, onSignedIn, { username: typed = "", focus = true } = {}) {
  const username = h("input", {
    name: "username",
    autocomplete: "username",
    required: true,
    autocapitalize: "none",
    spellcheck: "false",
    value: typed,
  });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const signIn = form(
    { class: "card narrow", "aria-labelledby": "login-title" },
    [
      h("h1", { id: "login-title", tabindex: "-1" }, t("login.title")),
      h("p", { class: "muted" }, t("login.tagline")),
      field(t("login.username"), username),
      field(t("login.password"), password),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("login.submit"))),
    ],
    async (data, el) => {
      if (!data.username || !data.password) {
        el.notice.show("error", t("login.missing"));
        (data.username ? password : username).focus();
        return;
      }
      await post("/auth/login", { username: data.username, password: data.password });
      onSignedIn(await get("/me"));
    },
  );
  clear(main, signIn);
  if (focus) username.focus();
  return { username, password };
}
