// The single-page app: who is logged in decides which views exist; the hash picks one.
// The header holds a language switch on every page, sign-in included: the whole current view
// is rendered again in the new language, and a signed-in user's choice is stored on the
// account (PATCH /me), so it follows them to another browser.

import { ApiError, get, onUnauthorized, patch, post } from "./api.js";
import { bell } from "./bell.js";
import { ROLES, setCodes } from "./codes.js";
import { badge, clear, h, uid } from "./dom.js";
import { LiveEvents } from "./events.js";
import {
  LANGUAGES,
  errorText,
  language,
  onLanguageChange,
  preferredLanguage,
  setLanguage,
  t,
} from "./i18n.js";
import { renderLogin } from "./views/login.js";

const VIEWS = {
  gp: () => import("./views/gp.js"),
  specialist: () => import("./views/specialist.js"),
  patient: () => import("./views/patient.js"),
  admin: () => import("./views/admin.js"),
};

const main = document.getElementById("main");
const userBox = document.getElementById("user");
const nav = document.getElementById("nav");
const langBox = document.getElementById("lang");

const session = { me: null, routes: [], live: null, cleanup: null, wanted: null, login: null };

/**
 * A route's title in the chosen language. Views declare it as `titleKey` (a catalogue key),
 * as a function returning the text, or (not translated) as a plain string `title`.
 */
export function routeTitle(r) {
  if (r.titleKey) return t(r.titleKey);
  return typeof r.title === "function" ? r.title() : r.title;
}

function heading(title) {
  return h("h1", { tabindex: "-1" }, title);
}

function showFailure(error) {
  clear(main, h("p", { class: "notice error", role: "alert" }, errorText(error)));
}

async function start() {
  renderLanguageSwitch();
  try {
    await setLanguage(preferredLanguage());
    translatePage();
    langBox.control.value = language();
    // The views name specialties, regions and care levels from these tables.
    setCodes(await get("/codes"));
    session.me = await get("/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin();
    return showFailure(error);
  }
  await enter();
}

// ---- The language switch ----

/** Texts of the static page (index.html) that the app translates: [data-i18n] elements. */
function translatePage() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]"))
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

function renderLanguageSwitch() {
  const control = h(
    "select",
    { id: uid("language"), name: "language", class: "language-select" },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, lang: code }, name)),
  );
  control.value = language();
  const text = h("label", { for: control.id, class: "visually-hidden", "data-i18n": "common.language" });
  control.addEventListener("change", () => switchLanguage(control.value));
  clear(langBox, text, control);
  langBox.control = control;
}

/** Switch to a language chosen in the header; a signed-in user's account remembers it. */
async function switchLanguage(code) {
  const previous = language();
  if (code === previous) return;
  if (session.me) {
    try {
      session.me = { ...session.me, ...(await patch("/me", { language: code })) };
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      langBox.control.value = previous;
      return showNotice(error);
    }
  }
  await setLanguage(code);
}

function showNotice(error) {
  const box = h("p", { class: "notice error", role: "alert" }, errorText(error));
  main.prepend(box);
}

/** Everything visible again in the new language, keeping the place and the focus. */
async function rerender() {
  translatePage();
  if (langBox.control) langBox.control.value = language();
  if (session.me && session.routes.length) {
    renderHeader();
    await route({ focus: false });
  } else if (session.login) {
    showLogin();
  }
}

// ---- Signing in and out ----

function showLogin() {
  teardown();
  session.me = null;
  clear(userBox);
  clear(nav);
  nav.hidden = true;
  // Come back to the page asked for (a bookmark, an expired session) after signing in.
  if (location.hash.startsWith("#/") && location.hash !== "#/login") session.wanted = location.hash;
  history.replaceState(null, "", "#/login");
  document.title = `${t("login.title")} · ${t("app.name")}`;
  // A re-render after a language switch keeps what was typed and where the focus was.
  const typed = session.login?.username?.value || "";
  const focusOnSwitch = document.activeElement === langBox.control;
  session.login = renderLogin(
    main,
    async (me) => {
      session.login = null;
      session.me = me;
      await accountLanguage();
      history.replaceState(null, "", session.wanted || "#/");
      session.wanted = null;
      await enter();
    },
    { username: typed, focus: !focusOnSwitch },
  );
}

/** After sign-in the account's language wins; an account without one keeps the current one. */
async function accountLanguage() {
  const { me } = session;
  if (me.language && me.language in LANGUAGES) {
    await setLanguage(me.language);
    return;
  }
  try {
    session.me = { ...me, ...(await patch("/me", { language: language() })) };
  } catch {
    // Only a preference: the pages work the same without it being stored.
  }
}

async function enter() {
  const { me } = session;
  if (me.language && me.language !== language()) await setLanguage(me.language);
  const module = await VIEWS[me.role]();
  session.routes = module.routes;
  if (module.live) session.live = new LiveEvents();
  renderHeader();
  route();
}

const LIVE_STATES = { live: "app.live.live", connecting: "app.live.connecting", offline: "app.live.offline" };

function renderHeader() {
  const { me, routes } = session;
  const logout = h("button", { type: "button", class: "secondary" }, t("app.logout"));
  logout.addEventListener("click", async () => {
    try {
      await post("/auth/logout");
    } catch {
      // The session may be gone already; the login page is right either way.
    }
    showLogin();
  });
  const live = session.live ? h("span", { class: "live", title: t("app.live.title") }) : null;
  if (live) {
    const show = (state) => {
      live.dataset.state = state;
      live.textContent = t(LIVE_STATES[state] || "app.live.connecting");
    };
    show(session.live.state);
    // The header is rebuilt on a language switch; only the live one listens.
    const listener = (event) =>
      live.isConnected ? show(event.detail) : session.live?.removeEventListener("state", listener);
    session.live.addEventListener("state", listener);
  }
  clear(
    userBox,
    live,
    bell(),
    h(
      "span",
      { class: "who" },
      h("strong", { class: "name" }, me.full_name),
      " ",
      badge("role", ROLES[me.role] || me.role),
    ),
    logout,
  );
  clear(
    nav,
    h(
      "ul",
      {},
      routes.map((r) => h("li", {}, h("a", { href: r.path }, routeTitle(r)))),
    ),
  );
  nav.hidden = false;
}

function teardown() {
  session.cleanup?.();
  session.cleanup = null;
  session.live?.close();
  session.live = null;
  session.routes = [];
}

async function route({ focus = true } = {}) {
  if (!session.me) return;
  const current = session.routes.find((r) => location.hash.startsWith(r.path)) || session.routes[0];
  if (!location.hash.startsWith(current.path)) history.replaceState(null, "", current.path);
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === current.path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  session.cleanup?.();
  session.cleanup = null;
  const titleText = routeTitle(current);
  document.title = `${titleText} · ${t("app.name")}`;
  const title = heading(titleText);
  const view = h("div", { class: "view" });
  clear(main, title, view);
  if (focus) title.focus({ preventScroll: true });
  let cleanup = null;
  try {
    cleanup = (await current.render(view, { me: session.me, live: session.live })) || null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (view.isConnected) view.prepend(h("p", { class: "notice error", role: "alert" }, errorText(error)));
  }
  // Another route may have replaced this view while it was loading.
  if (view.isConnected) session.cleanup = cleanup;
  else cleanup?.();
}

// Only "#/..." hashes are routes; others (the skip link's "#main") are in-page anchors.
window.addEventListener("hashchange", () => {
  if (!location.hash.startsWith("#/")) return;
  if (session.me) route();
  else if (location.hash !== "#/login") {
    session.wanted = location.hash;
    history.replaceState(null, "", "#/login");
  }
});
onUnauthorized(() => session.me && showLogin());
onLanguageChange(rerender);
// A one-time password-reset link opens its own page, signed in or not.
if (location.hash.startsWith("#/reset/")) {
  setLanguage(preferredLanguage())
    .then(() => import("./views/reset.js"))
    .then((m) => m.renderReset(main));
} else start();
