// People by name: pages show who wrote, asked, was granted or looked, never a bare id.
// Names come with the API's answers (access log, grants, requests, emergency sessions) or,
// for passport entries, from GET /people, asked once per id and remembered for the page.

import { get } from "./api.js";
import { ROLES, SPECIALTIES, label } from "./codes.js";
import { h } from "./dom.js";
import { formatList, t } from "./i18n.js";

const known = new Map();

/** Look up the people behind ids not asked for yet (100 per request). */
export async function namePeople(ids) {
  const missing = [...new Set(ids.filter(Boolean))].filter((id) => !known.has(id));
  for (let i = 0; i < missing.length; i += 100) {
    const chunk = missing.slice(i, i + 100);
    const found = await get("/people", { ids: chunk.join(",") });
    for (const id of chunk) known.set(id, null);
    for (const p of found.items) known.set(p.id, p);
  }
}

/** The person remembered for an id (after namePeople), or null. */
export const personOf = (id) => known.get(id) ?? null;

/** "Cardiology specialist, Regional hospital", "Laboratory, City clinic": what someone does,
 * and where (translated). */
export function roleText(p) {
  let what;
  if (p.role === "laboratory" || p.role === "hospital") {
    // A system account (a laboratory's, a hospital's) says which kind it is.
    what = t(`followup.admin.kind.${p.role}`);
  } else if (p.role === "specialist" && p.specialties?.length) {
    what = t("people.specialist_of", {
      specialties: formatList(p.specialties.map((s) => label(SPECIALTIES, s))),
    });
  } else {
    what = label(ROLES, p.role);
  }
  return p.facility ? t("people.role_at", { what, facility: p.facility }) : what;
}

/**
 * A person as a page names them: "You", their name with what they do and where, "Another
 * patient" where the name is withheld, or "Unknown person" when nobody is known by the id
 * (never the id itself).
 */
export function person(p, { me, id } = {}) {
  const who = p ?? (id ? personOf(id) : null);
  if (who && me && who.id === me.id) return h("span", { class: "person" }, t("people.you"));
  if (!who) return h("span", { class: "person muted" }, t(id ? "people.unknown" : "people.system"));
  if (!who.name) return h("span", { class: "person" }, t("people.another_patient"));
  return h(
    "span",
    { class: "person" },
    h("span", { class: "person-name" }, who.name),
    who.role === "patient" ? null : h("span", { class: "person-role muted" }, ` (${roleText(who)})`),
  );
}

// Ids asked for within one turn of the event loop go to GET /people together.
const waiting = new Map();
let queued = null;

function lookup(id) {
  if (known.has(id)) return Promise.resolve();
  if (waiting.has(id)) return waiting.get(id);
  if (!queued) {
    const ids = new Set();
    const done = new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => {
        queued = null;
        return namePeople([...ids]);
      })
      .catch(() => {});
    queued = { ids, done };
  }
  queued.ids.add(id);
  waiting.set(id, queued.done);
  return queued.done;
}

/** person() for an id not looked up yet: "…" at once, the name when it arrives. */
export function personLater(id, opts = {}) {
  if (known.has(id) || (opts.me && id === opts.me.id)) return person(null, { ...opts, id });
  const el = h("span", { class: "person muted", "aria-busy": "true" }, "…");
  lookup(id).then(() => el.replaceWith(person(null, { ...opts, id })));
  return el;
}
