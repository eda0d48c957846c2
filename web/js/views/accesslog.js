// A patient's access log as a table: who did what to the records, with what outcome and why.
// The patient reads their own (Who accessed my data); an administrator reviewing emergency
// access reads the patient's too (and that look is itself logged).

import { get } from "../api.js";
import { badge, h, humanize, pagedList, shortId, tableOf, when } from "../dom.js";
import { namePeople, person } from "../people.js";

const OUTCOME_KIND = {
  permit: "ok",
  permitted: "ok",
  allow: "ok",
  allowed: "ok",
  success: "ok",
  deny: "bad",
  denied: "bad",
};

// What an audit reason mentions: a user, an id of its own, a time, an access level.
const MENTION = /\b(user) ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g;
const READABLE =
  /\b(?:user ([0-9a-f-]{36}))|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z))|\b(read_write)\b/g;

/** An audit reason as a person reads it: people by name, times in local time, other ids short. */
function readable(reason, me) {
  const parts = [];
  let at = 0;
  for (const m of reason.matchAll(READABLE)) {
    parts.push(reason.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1]) parts.push(person(null, { me, id: m[1] }));
    else if (m[2]) parts.push(shortId(m[2]));
    else if (m[3]) parts.push(when(m[3]));
    else parts.push("read and write");
  }
  parts.push(reason.slice(at));
  return parts;
}

/** A paged table of the patient's access log, newest first: {el, reload}. */
export function accessLog(patientId, { me, empty, caption }) {
  return pagedList({
    load: async (cursor) => {
      const page = await get(`/patients/${patientId}/access-log`, { cursor, newest_first: true });
      const named = page.items.flatMap((a) => [...(a.reason || "").matchAll(MENTION)].map((m) => m[2]));
      await namePeople(named).catch(() => {});
      return page;
    },
    render: (a) =>
      h(
        "tr",
        {},
        h("td", {}, when(a.at)),
        h("td", {}, person(a.actor, { me, id: a.actor_id })),
        h("td", {}, humanize(String(a.action || ""))),
        h(
          "td",
          {},
          badge(`outcome-${OUTCOME_KIND[a.outcome] || "other"}`, humanize(String(a.outcome || ""))),
        ),
        h("td", {}, readable(a.reason || "", me)),
      ),
    empty,
    tag: "tbody",
    wrap: tableOf(["When", "Who", "What", "Outcome", "Reason"], caption),
  });
}
