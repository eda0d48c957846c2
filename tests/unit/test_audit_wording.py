"""The access log's wording rules: each technical audit reason as an event and details."""

from __future__ import annotations

import uuid

from teleconsult.audit.wording import word

A = uuid.UUID("1585ed41-0000-4000-8000-000000000001")
B = uuid.UUID("baf4392f-0000-4000-8000-000000000002")
U = uuid.UUID("0c2e0000-0000-4000-8000-000000000003")


def test_an_invitation_names_the_invited_specialist() -> None:
    w = word("consultation.invite", "ok", f"consultation {A}: specialist {U} invited")
    assert (w.event, w.users) == ("consultation_invite", [U])


def test_the_patient_invited_to_the_call() -> None:
    for made in ("", "; an account without a password made for it"):
        reason = f"consultation {A}: the patient invited to the call{made}"
        assert word("call.patient_invite", "ok", reason).event == "call_patient_invite"


def test_reads_name_their_basis() -> None:
    assert word("passport.read", "permit", "the patient themself").details == {"basis": "self"}
    w = word("passport.read", "permit", f"consent {A}, {B}")
    assert (w.event, w.details, w.grants) == ("passport_read", {"basis": "consent"}, [A, B])
    w = word("passport.search", "permit", f"break-glass {A}")
    assert (w.event, w.details, w.sessions) == ("passport_search", {"basis": "break_glass"}, [A])
    assert word("fhir.export", "permit", f"consent {A}").event == "fhir_export"


def test_denials_say_why_without_ids() -> None:
    cases = {
        "no active consent for this clinician": {"denial": "no_consent"},
        "no active consent to write for this clinician": {"denial": "no_consent"},
        "consent does not cover notes, prescriptions": {
            "denial": "not_covered",
            "missing": ["notes", "prescriptions"],
        },
        "only clinicians are given access to a passport": {"denial": "not_clinician"},
        "a patient reads only their own passport and writes none": {"denial": "other_patient"},
        "denied: no such patient": {"denial": "no_patient"},
    }
    for reason, details in cases.items():
        w = word("passport.write", "deny", reason)
        assert w.event == "passport_denied"
        assert w.details == {"wanted": "write", **details}


def test_grants_revocations_and_requests() -> None:
    w = word(
        "consent.grant",
        "ok",
        f"grant {A}: read_write to user {U} (notes, diagnoses) "
        "until 2026-12-31T23:59:00+00:00 via one_time_code",
    )
    assert w.event == "consent_grant" and w.users == [U] and w.facilities == []
    assert w.details == {
        "access": "read_write",
        "categories": ["notes", "diagnoses"],
        "until": "2026-12-31T23:59:00+00:00",
        "via": "one_time_code",
    }
    w = word("consent.grant", "ok", f"grant {A}: read to facility {B} (all categories)")
    assert w.facilities == [B] and w.details["categories"] is None
    assert word("consent.revoke", "ok", f"grant {A} revoked").grants == [A]
    w = word("consent.request", "ok", f"request {A}: read_write for user {U}")
    assert (w.event, w.users, w.requests) == ("consent_request", [U], [A])
    w = word("consent.confirm", "failure", f"request {A}: wrong code, 3 attempt(s) left")
    assert (w.event, w.details, w.requests) == ("consent_wrong_code", {"left": 3}, [A])
    w = word("consent.request_locked", "ok", f"request {A}: locked after 5 wrong codes")
    assert (w.event, w.details) == ("consent_request_locked", {"attempts": 5})
    w = word("consent.request_declined", "ok", f"request {A}: declined by the patient")
    assert w.details == {"by": "patient"}
    w = word(
        "consent.request_withdrawn", "ok", f"request {A}: withdrawn: the consultation was cancelled"
    )
    assert w.details == {"by": "cancelled"}
    assert word("consent.code_sent", "ok", f"request {A}: a new one-time code was sent").event == (
        "consent_code_sent"
    )


def test_emergencies_entries_and_the_rest() -> None:
    w = word("break_glass.start", "ok", f"session {A} until 2026-12-07T16:00:00+00:00: unconscious")
    assert w.details == {"until": "2026-12-07T16:00:00+00:00", "why": "unconscious"}
    assert w.sessions == [A]
    assert word("break_glass.end", "ok", f"session {A} expired").details == {"how": "expired"}
    assert word("break_glass.end", "ok", f"session {A} ended by the clinician").details == {
        "how": "ended"
    }
    w = word("passport.append", "ok", f"diagnosis entry 7 ({A})")
    assert (w.event, w.details) == ("passport_append", {"kind": "diagnosis", "entry": 7})
    assert word("access_log.read", "permit", "administrator review").event == "access_log_read"
    assert word("something.new", "ok", f"thing {A}").details == {"action": "something.new"}


def test_no_details_carry_an_id() -> None:
    reasons = [
        (
            "consent.grant",
            f"grant {A}: read to user {U} (notes) until 2026-12-31T23:59:00+00:00 via portal",
        ),
        ("consent.revoke", f"grant {A} revoked"),
        ("consent.request", f"request {A}: read for user {U}"),
        ("passport.read", f"consent {A}"),
        ("break_glass.start", f"session {A} until 2026-12-07T16:00:00+00:00: fell"),
        ("passport.append", f"note entry 2 ({A})"),
    ]
    for action, reason in reasons:
        text = repr(word(action, "ok", reason).details)
        assert str(A)[:8] not in text and str(U)[:8] not in text, (action, text)


def test_a_moved_consultation_says_its_old_and_new_time() -> None:
    w = word(
        "consultation.move",
        "ok",
        f"consultation {A} moved from 2030-03-04T04:00:00+00:00 to 2030-03-04T05:00:00+00:00",
    )
    assert (w.event, w.details) == (
        "consultation_move",
        {"moved_from": "2030-03-04T04:00:00+00:00", "moved_to": "2030-03-04T05:00:00+00:00"},
    )
