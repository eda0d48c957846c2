"""Prescriptions checked against the formulary and the patient's passport, and allergies.

The checks read the patient's running prescriptions and recorded allergies under the
consent decision point (``prescription.check``, audited): prescriptions must be readable,
allergies are read with the diagnoses and, when the caller may not read those, the findings
say that allergies were not checked. Writing a prescription runs the same checks after the
write is authorised; a high-severity finding refuses it (409, with the findings) unless it
carries ``override.reason``, and the reason and the findings are written into the entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..consent.decision import authorize, authorize_then_record
from ..consent.policy import Access, Category
from ..errors import Conflict
from ..formulary.catalogue import formulary
from ..formulary.checks import ActivePrescription, Allergy, Finding, Prescription, Result, check
from ..ledger.store import _lock_head as lock_head
from ..ledger.tables import PASSPORT
from .entries import entries_of
from .rules import amended_view
from .schemas import (
    AllergyBody,
    AllergyIn,
    Kind,
    PrescriptionCheckIn,
    PrescriptionChecksOut,
    PrescriptionIn,
)


class PrescriptionBlocked(Conflict):
    """A high-severity finding and no override: nothing was written."""

    default_detail = (
        "The prescription has high-severity findings; confirm it with a reason to write it."
    )
    default_code = "prescription_blocked"

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__()
        self.findings = findings

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class PassportFacts:
    active: list[ActivePrescription]
    allergies: list[Allergy]
    allergies_known: bool


def _created(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["created_at"])


def facts_from(
    entries: list[dict[str, Any]], *, now: datetime, replacing: uuid.UUID | None = None
) -> PassportFacts:
    """Running prescriptions (newest versions, within their duration, except the one being
    replaced) and active allergies, from the patient's entries in chain order."""
    current = [e for e in amended_view(entries) if e["superseded_by"] is None]
    replaced = str(replacing) if replacing is not None else None
    active = []
    allergies = []
    for entry in current:
        body = entry["body"]
        if entry["kind"] == Kind.prescription and entry["id"] != replaced:
            started = _created(entry)
            if started + timedelta(days=int(body.get("duration_days", 0))) > now:
                active.append(
                    ActivePrescription(body["medication"], body.get("atc"), entry["created_at"])
                )
        elif entry["kind"] == Kind.allergy and body.get("status", "active") == "active":
            allergies.append(
                Allergy(
                    body["substance"],
                    body.get("atc"),
                    body.get("reaction", ""),
                    body.get("severity", ""),
                )
            )
    return PassportFacts(active, allergies, True)


async def _facts(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    replacing: uuid.UUID | None,
    now: datetime,
    client: str | None,
) -> PassportFacts:
    permit = await authorize_then_record(
        session,
        user,
        patient_id,
        access=Access.read,
        needed=None,
        action="prescription.check",
        now=now,
        client=client,
    )
    shown = permit.decision.categories
    if shown is not None and Category.prescriptions.value not in shown:
        # Denied (and audited as a denial) by asking for the category itself.
        await authorize(
            session,
            user,
            patient_id,
            access=Access.read,
            needed=frozenset({Category.prescriptions.value}),
            action="prescription.check",
            now=now,
            client=client,
        )
    await permit.record()
    allergies_known = shown is None or Category.diagnoses.value in shown
    kinds = {Kind.prescription, Kind.allergy} if allergies_known else {Kind.prescription}
    entries = await entries_of(session, patient_id, frozenset(kinds))
    facts = facts_from(entries, now=now, replacing=replacing)
    return PassportFacts(facts.active, facts.allergies, allergies_known)


def _prescription(data: PrescriptionIn | PrescriptionCheckIn) -> Prescription:
    return Prescription(
        medication=data.medication,
        dose=data.dose,
        route=data.route,
        frequency=data.frequency,
        duration_days=data.duration_days,
        atc=data.atc,
        long_term=data.long_term,
        times_per_day=data.times_per_day,
    )


def _run(data: PrescriptionIn | PrescriptionCheckIn, facts: PassportFacts) -> Result:
    return check(
        formulary(),
        _prescription(data),
        facts.active,
        facts.allergies,
        allergies_known=facts.allergies_known,
    )


def _out(result: Result) -> PrescriptionChecksOut:
    return PrescriptionChecksOut.model_validate(
        {
            "findings": [f.as_dict() for f in result.findings],
            "blocked": result.blocked,
            "in_formulary": result.drug is not None,
            "drug": result.drug.as_dict() if result.drug is not None else None,
        }
    )


async def check_prescription(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: PrescriptionCheckIn,
    *,
    now: datetime,
    client: str | None,
) -> PrescriptionChecksOut:
    """The findings for a prescription, without writing anything."""
    facts = await _facts(session, user, patient_id, replacing=data.amends, now=now, client=client)
    return _out(_run(data, facts))


def prescription_body(data: PrescriptionIn) -> dict[str, Any]:
    """The entry's body before its checks are added."""
    body = data.model_dump(mode="json", exclude={"amends", "override", "times_per_day"})
    if data.times_per_day is not None:
        body["times_per_day"] = data.times_per_day
    return body


async def apply_checks(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: PrescriptionIn,
    body: dict[str, Any],
    *,
    now: datetime,
    client: str | None,
) -> None:
    """Check a prescription about to be written; refuse it on a high finding without an
    override, else record the findings (and the reason) in its body.

    The patient's chain head is locked first (as the append will lock it), so that two
    prescriptions written at once are checked one after the other, each seeing the other.
    """
    await lock_head(await session.connection(), PASSPORT.name, str(patient_id))
    facts = await _facts(session, user, patient_id, replacing=data.amends, now=now, client=client)
    result = _run(data, facts)
    if result.blocked and data.override is None:
        raise PrescriptionBlocked(result.findings)
    body["atc"] = result.drug.atc if result.drug is not None else data.atc
    body["in_formulary"] = result.drug is not None
    body["checks"] = {
        "formulary": formulary().version,
        "findings": [f.as_dict() for f in result.findings],
        "override_reason": data.override.reason if data.override is not None else None,
    }


def allergy_body(data: AllergyBody | AllergyIn) -> dict[str, Any]:
    """An allergy's body; a substance the formulary knows by name gets its ATC code."""
    body = AllergyBody.model_validate(data.model_dump(exclude={"amends"})).model_dump(mode="json")
    if body.get("atc") is None and body["category"] == "medication":
        drug = formulary().match(body["substance"])
        if drug is not None:
            body["atc"] = drug.atc
    return body
