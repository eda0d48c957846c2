// The single-page app: who is logged in decides which views exist; the hash picks one.

import { ApiError, get, onUnauthorized, post } from "./api.js";
import { ROLES, setCodes } from "./codes.js";
import { badge, clear, h } from "./dom.js";
import { LiveEvents } from "./events.js";
import { preferredLanguage, setLanguage, t } from "./i18n.js";
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

const session = { me: null, routes: [], live: null, cleanup: null, wanted: null };

function heading(title) {
  return h("h1", { tabindex: "-1" }, title);
}

async function start() {
  try {
    await setLanguage(preferredLanguage());
    // The views name specialties, regions and care levels from these tables.
    setCodes(await get("/codes"));
    session.me = await get("/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin();
    return clear(main, h("p", { class: "notice error", role: "alert" }, error.detail || String(error)));
  }
  await enter();
}

function showLogin() {
  teardown();
  session.me = null;
  clear(userBox);
  clear(nav);
  nav.hidden = true;
  // Come back to the page asked for (a bookmark, an expired session) after signing in.
  if (location.hash.startsWith("#/") && location.hash !== "#/login") session.wanted = location.hash;
  history.replaceState(null, "", "#/login");
  document.title = `${t("login.title")} · Teleconsult`;
  renderLogin(main, async (me) => {
    session.me = me;
    history.replaceState(null, "", session.wanted || "#/");
    session.wanted = null;
    await enter();
  });
}

async function enter() {
  const { me } = session;
  const module = await VIEWS[me.role]();
  session.routes = module.routes;
  if (module.live) session.live = new LiveEvents();
  renderHeader();
  route();
}

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
  const live = session.live ? h("span", { class: "live", title: "Live updates" }) : null;
  if (live) {
    const show = (state) => {
      live.dataset.state = state;
      live.textContent = { live: "Live", connecting: "Connecting…", offline: "Offline" }[state];
    };
    show(session.live.state);
    session.live.addEventListener("state", (event) => show(event.detail));
  }
  clear(
    userBox,
    live,
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
      routes.map((r) => h("li", {}, h("a", { href: r.path }, r.title))),
    ),
  );
  nav.hidden = false;
}

function teardown() {
  session.cleanup?.();
  session.cleanup = null;
  session.live?.close();
  session.live = null;
}

async function route() {
  if (!session.me) return;
  const current = session.routes.find((r) => location.hash.startsWith(r.path)) || session.routes[0];
  if (!location.hash.startsWith(current.path)) history.replaceState(null, "", current.path);
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === current.path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  session.cleanup?.();
  document.title = `${current.title} · Teleconsult`;
  const title = heading(current.title);
  const view = h("div", { class: "view" });
  clear(main, title, view);
  title.focus({ preventScroll: true });
  const cleanup = (await current.render(view, { me: session.me, live: session.live })) || null;
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
// A one-time password-reset link opens its own page, signed in or not.
if (location.hash.startsWith("#/reset/")) import("./views/reset.js").then((m) => m.renderReset(main));
else start();
