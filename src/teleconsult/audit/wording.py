"""The access log in plain words: what each audit event means to the patient reading it.

An audit entry is sealed in its hash chain with a technical ``reason`` ("grant 1585ed41…:
read to user 0c2e… (notes) until 2026-12-31T23:59:00+00:00 via portal"). The patient reads
who did what, to which parts of the passport, until when and why; the technical text stays
for whoever asks for it (the page puts it in a <details> element).

:func:`word` turns ``(action, outcome, reason)`` into a :class:`Wording`: a stable ``event``
(the page's catalogue key ``patient.log.event.<event>``), the ``details`` the page fills its
text with (access levels, categories, times, counts, codes), and the ids it mentions
(``users``, ``facilities``, ``grants``, ``sessions``) so that the caller can name them: a
person by name and role, a facility by name, a grant by its end. It never returns an id for
display; the caller replaces ids by names.

The rules, one per event:

=====================  ==================================================================
event                  details
=====================  ==================================================================
passport_read          basis: self | consent | break_glass (grants / sessions named)
passport_search        same as passport_read
passport_write         same, for the decision to write
passport_verify        same, for an integrity check
passport_denied        denial: no_consent | not_covered (missing) | not_clinician |
                       other_patient | no_patient | other;
                       wanted: read | write | search | verify | export
passport_append        kind (note, diagnosis, ...), entry (its number in the passport)
fhir_export            basis as for passport_read
consent_grant          grantee (user or facility), access, categories (None: all),
                       until, via (portal | one_time_code)
consent_revoke         the grant revoked (named by the caller)
consent_request        grantee (user), access
consent_code_sent      -
consent_wrong_code     left (attempts)
consent_request_<s>    s: confirmed | declined | withdrawn | locked; by (patient |
                       clinician | cancelled), attempts (locked)
break_glass_start      until, why (the clinician's own words)
break_glass_end        how: ended | expired
access_log_read        an administrator's review
login                  -
file_read              a referral's file opened (files/service.py)
file_attach            a file attached to a referral
consultation_invite    a specialist invited into the patient's consultation (named)
consultation_move      moved_from, moved_to (a booked call moved, consultations/moving.py)
call_patient_invite    the patient invited to their consultation's call (by its GP)
other                  action (as recorded)
=====================  ==================================================================
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TIME = r"\d{4}-\d{2}-\d{2}T[0-9:.]+(?:[+-]\d{2}:\d{2}|Z)?"

_INVITE = re.compile(rf"^consultation {_UUID}: specialist (?P<user>{_UUID}) invited")
_GRANT = re.compile(
    rf"^grant (?P<grant>{_UUID}): (?P<access>read_write|read) to "
    rf"(?P<kind>user|facility) (?P<grantee>{_UUID}) \((?P<categories>[^)]*)\)"
    rf"(?: until (?P<until>{_TIME}))?(?: via (?P<via>\w+))?"
)
_REVOKE = re.compile(rf"^grant (?P<grant>{_UUID}) revoked")
_REQUEST = re.compile(
    rf"^request (?P<request>{_UUID}): (?P<access>read_write|read) for user (?P<grantee>{_UUID})"
)
_REQUEST_ANY = re.compile(rf"^request (?P<request>{_UUID}): (?P<rest>.*)$", re.S)
_WRONG_CODE = re.compile(r"wrong code, (?P<left>-?\d+) attempt")
_LOCKED = re.compile(r"locked after (?P<attempts>\d+) wrong codes")
_SESSION_START = re.compile(
    rf"^session (?P<session>{_UUID}) until (?P<until>{_TIME}): (?P<why>.*)$", re.S
)
_SESSION_END = re.compile(rf"^session (?P<session>{_UUID}) (?P<how>.*)$", re.S)
_APPEND = re.compile(rf"^(?P<kind>\w+) entry (?P<seq>\d+)(?: \((?P<entry>{_UUID})\))?")
_MOVE = re.compile(rf"moved from (?P<was>{_TIME}) to (?P<to>{_TIME})")
_IDS = re.compile(_UUID)

_READS = {
    "passport.read": "passport_read",
    "passport.search": "passport_search",
    "passport.write": "passport_write",
    "passport.verify": "passport_verify",
    "fhir.export": "fhir_export",
}
_WANTED = {
    "passport.read": "read",
    "passport.search": "search",
    "passport.write": "write",
    "passport.verify": "verify",
    "fhir.export": "export",
}
_STATUSES = ("confirmed", "declined", "withdrawn", "locked")


@dataclass
class Wording:
    event: str
    details: dict[str, Any] = field(default_factory=dict)
    users: list[uuid.UUID] = field(default_factory=list)
    facilities: list[uuid.UUID] = field(default_factory=list)
    grants: list[uuid.UUID] = field(default_factory=list)
    sessions: list[uuid.UUID] = field(default_factory=list)
    requests: list[uuid.UUID] = field(default_factory=list)


def _ids(text: str) -> list[uuid.UUID]:
    return [uuid.UUID(m) for m in _IDS.findall(text)]


def _categories(text: str) -> list[str] | None:
    text = text.strip()
    if not text or text == "all categories":
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def _denial(reason: str) -> dict[str, Any]:
    if reason.startswith("consent does not cover "):
        missing = _categories(reason.removeprefix("consent does not cover "))
        return {"denial": "not_covered", "missing": missing or []}
    if reason.startswith("no active consent"):
        return {"denial": "no_consent"}
    if reason.startswith("a patient reads only"):
        return {"denial": "other_patient"}
    if reason.startswith("only clinicians"):
        return {"denial": "not_clinician"}
    if "no such patient" in reason:
        return {"denial": "no_patient"}
    return {"denial": "other"}


def _read(action: str, outcome: str, reason: str) -> Wording:
    if outcome in ("deny", "denied"):
        return Wording("passport_denied", {"wanted": _WANTED[action], **_denial(reason)})
    event = _READS[action]
    if reason.startswith("break-glass "):
        return Wording(event, {"basis": "break_glass"}, sessions=_ids(reason))
    if reason.startswith("consent "):
        return Wording(event, {"basis": "consent"}, grants=_ids(reason))
    if reason == "the patient themself":
        return Wording(event, {"basis": "self"})
    return Wording(event, {"basis": "other"})


def _request(action: str, reason: str) -> Wording:
    if action == "consent.request" and (m := _REQUEST.match(reason)):
        grantee = uuid.UUID(m["grantee"])
        return Wording(
            "consent_request",
            {"access": m["access"]},
            users=[grantee],
            requests=[uuid.UUID(m["request"])],
        )
    m = _REQUEST_ANY.match(reason)
    rest = m["rest"] if m else reason
    asked = [uuid.UUID(m["request"])] if m else []
    if action == "consent.code_sent":
        return Wording("consent_code_sent", requests=asked)
    if action == "consent.confirm":
        left = _WRONG_CODE.search(rest)
        return Wording(
            "consent_wrong_code",
            {"left": max(int(left["left"]), 0) if left else 0},
            requests=asked,
        )
    status = action.removeprefix("consent.request_")
    if status in _STATUSES:
        details: dict[str, Any] = {}
        if locked := _LOCKED.search(rest):
            details["attempts"] = int(locked["attempts"])
        elif "cancelled" in rest:
            details["by"] = "cancelled"
        elif "by the patient" in rest:
            details["by"] = "patient"
        elif "by the clinician" in rest:
            details["by"] = "clinician"
        return Wording(f"consent_request_{status}", details, requests=asked)
    if action == "call.patient_invite":
        return Wording("call_patient_invite")
    return Wording("other", {"action": action})


def word(action: str, outcome: str, reason: str) -> Wording:
    """What an audit event means, in structured form (see the module's table)."""
    if action in _READS:
        return _read(action, outcome, reason)
    if action == "passport.append":
        m = _APPEND.match(reason)
        return Wording(
            "passport_append",
            {"kind": m["kind"], "entry": int(m["seq"])} if m else {},
        )
    if action == "consent.grant":
        m = _GRANT.match(reason)
        if m is None:
            return Wording("consent_grant")
        grantee = uuid.UUID(m["grantee"])
        details: dict[str, Any] = {
            "access": m["access"],
            "categories": _categories(m["categories"]),
            "until": m["until"],
            "via": m["via"],
        }
        if m["kind"] == "user":
            return Wording("consent_grant", details, users=[grantee])
        return Wording("consent_grant", details, facilities=[grantee])
    if action == "consent.revoke":
        m = _REVOKE.match(reason)
        return Wording("consent_revoke", {}, grants=[uuid.UUID(m["grant"])] if m else [])
    if action.startswith("consent.request") or action in ("consent.code_sent", "consent.confirm"):
        return _request(action, reason)
    if action == "break_glass.start":
        m = _SESSION_START.match(reason)
        if m is None:
            return Wording("break_glass_start")
        return Wording(
            "break_glass_start",
            {"until": m["until"], "why": m["why"].strip()},
            sessions=[uuid.UUID(m["session"])],
        )
    if action == "break_glass.end":
        m = _SESSION_END.match(reason)
        how = "expired" if m and m["how"].strip() == "expired" else "ended"
        return Wording("break_glass_end", {"how": how})
    if action == "access_log.read":
        return Wording("access_log_read")
    if action == "login":
        return Wording("login")
    if action in ("file.read", "file.attach"):
        return Wording(action.replace(".", "_"))
    if action == "consultation.invite":
        m = _INVITE.match(reason)
        return Wording("consultation_invite", users=[uuid.UUID(m["user"])] if m else [])
    if action == "consultation.move":
        m = _MOVE.search(reason)
        return Wording(
            "consultation_move", {"moved_from": m["was"], "moved_to": m["to"]} if m else {}
        )
    if action == "call.patient_invite":
        return Wording("call_patient_invite")
    return Wording("other", {"action": action})
