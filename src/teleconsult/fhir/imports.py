"""``POST /api/v1/fhir``: results pushed in by laboratories and hospital systems.

A system account (accounts/systems.py) sends a FHIR R4 ``transaction`` Bundle of
Observation, DiagnosticReport and DocumentReference resources about one patient, named by
IIN (``subject.identifier`` or the conditional reference ``Patient?identifier=<system>|<iin>``).
The bundle is validated with ``fhir.resources`` and written in one transaction: every
resource becomes a passport entry carrying its provenance (the system, when, the source's
own identifier), or nothing is written and an ``OperationOutcome`` names the problem.

Idempotence: a resource is known by the sending system and its own identifier (its first
``identifier``, else its ``id``); a resource already received is not written again, so the
same bundle sent twice is written once. The rule for whom a system may write is in
docs/passport.md ("Results from other systems"): a patient registered at the system's
facility, or referred to it (a consultation at that facility); never a read.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import String, Uuid, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..accounts.models import User
from ..accounts.systems import SystemAccount, authenticate_system
from ..appkeys import CLOCK, PASSWORDS, SESSIONMAKER
from ..audit import service as audit
from ..consultations.lifecycle import Status
from ..consultations.models import Consultation
from ..db.base import Base, UTCDateTime
from ..db.uow import unit_of_work
from ..errors import Unauthorized
from ..measurements.service import _body as observation_body
from ..measurements.service import store_observation
from ..passport.schemas import Kind
from ..passport.service import append_outside_consultation
from ..patients.models import Patient
from ..programmes.catalogue import BY_LOINC, MEASURES
from .bundle import IIN_SYSTEM

LOINC = "http://loinc.org"
ACCEPTED = ("Observation", "DiagnosticReport", "DocumentReference")
MAX_ENTRIES = 200
MAX_BYTES = 5 * 1024 * 1024
FHIR_JSON = "application/fhir+json"


class ImportedResource(Base):
    """A resource received from a system, by the system's own identifier (idempotence)."""

    __tablename__ = "imported_resources"

    system_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Refused(Exception):
    """The whole bundle is refused: answered as an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str, where: str | None = None):
        self.status, self.code, self.diagnostics, self.where = status, code, diagnostics, where
        super().__init__(diagnostics)

    def outcome(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.where:
            issue["expression"] = [self.where]
        return {"resourceType": "OperationOutcome", "issue": [issue]}


def _fhir(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON
    )


def _expression(loc: tuple[int | str, ...]) -> str:
    out = "Bundle"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate_bundle(data: Any) -> list[dict[str, Any]]:
    """The bundle's resources, once fhir.resources (R4) accepts the whole bundle."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise Refused(400, "structure", "The body must be a FHIR Bundle.")
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Refused(
            400,
            "invalid",
            f"{first['msg']} ({exc.error_count()} problems)",
            _expression(tuple(first["loc"])),
        ) from None
    if data.get("type") != "transaction":
        raise Refused(400, "invalid", "Only a transaction Bundle is accepted.", "Bundle.type")
    entries = data.get("entry") or []
    if not entries:
        raise Refused(400, "required", "The bundle has no entries.", "Bundle.entry")
    if len(entries) > MAX_ENTRIES:
        raise Refused(400, "too-costly", f"At most {MAX_ENTRIES} entries.", "Bundle.entry")
    resources = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        if kind not in ACCEPTED:
            raise Refused(
                400,
                "not-supported",
                f"{kind} is not accepted; send {', '.join(ACCEPTED)}.",
                f"Bundle.entry[{i}].resource",
            )
        method = (entry.get("request") or {}).get("method")
        if method not in ("POST", "PUT"):
            raise Refused(
                400,
                "not-supported",
                "Entries are created (POST or PUT).",
                f"Bundle.entry[{i}].request.method",
            )
        resources.append(resource)
    return resources


def _iin_of(resource: dict[str, Any], where: str) -> str:
    subject = resource.get("subject") or {}
    identifier = subject.get("identifier") or {}
    if identifier.get("system") == IIN_SYSTEM and identifier.get("value"):
        return str(identifier["value"])
    reference = str(subject.get("reference") or "")
    prefix = f"Patient?identifier={IIN_SYSTEM}|"
    if reference.startswith(prefix):
        return reference[len(prefix) :]
    raise Refused(
        400, "required", f"The patient is named by IIN ({IIN_SYSTEM}).", f"{where}.subject"
    )


def _source_id(resource: dict[str, Any], where: str) -> str:
    for identifier in resource.get("identifier") or []:
        if identifier.get("value"):
            system = identifier.get("system") or ""
            return f"{resource['resourceType']}/{system}|{identifier['value']}"[:300]
    if resource.get("id"):
        return f"{resource['resourceType']}/{resource['id']}"[:300]
    raise Refused(
        400,
        "required",
        "Each resource needs an identifier (or an id) of the source's own.",
        f"{where}.identifier",
    )


def _loinc(concept: dict[str, Any] | None) -> tuple[str | None, str]:
    codings = (concept or {}).get("coding") or []
    loinc = next((c.get("code") for c in codings if c.get("system") == LOINC), None)
    display = (concept or {}).get("text") or next(
        (c.get("display") for c in codings if c.get("display")), None
    )
    return loinc, str(display or loinc or "")


def _range(resource: dict[str, Any]) -> str | None:
    ranges = resource.get("referenceRange") or []
    if not ranges:
        return None
    r = ranges[0]
    if r.get("text"):
        return str(r["text"])
    low, high = (r.get("low") or {}).get("value"), (r.get("high") or {}).get("value")
    unit = (r.get("high") or r.get("low") or {}).get("unit", "")
    if low is not None and high is not None:
        return f"{low}–{high} {unit}".strip()
    if high is not None:
        return f"< {high} {unit}".strip()
    if low is not None:
        return f"> {low} {unit}".strip()
    return None


def _instant(value: str, where: str) -> datetime:
    """A FHIR dateTime as an aware instant (a date alone, or no offset, is read as UTC)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, "value", "Not a date and time.", where) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def _may_write(session: AsyncSession, system: SystemAccount, patient: Patient) -> bool:
    """A patient of the system's facility, or one referred to it: a consultation (not
    cancelled) with a specialist of that facility (docs/passport.md)."""
    if patient.facility_id == system.facility_id:
        return True
    referred = await session.scalar(
        select(
            exists().where(
                Consultation.patient_id == patient.id,
                Consultation.specialist_id == User.id,
                User.facility_id == system.facility_id,
                Consultation.status != Status.cancelled,
            )
        )
    )
    return bool(referred)


def _entry_for(
    resource: dict[str, Any], where: str, provenance: dict[str, Any], when: str
) -> tuple[Kind, dict[str, Any], str | None]:
    """The passport entry a resource becomes: (kind, body, measure code when a known one)."""
    kind = resource["resourceType"]
    if kind == "Observation":
        loinc, name = _loinc(resource.get("code"))
        if not loinc:
            raise Refused(400, "required", "Observations are LOINC-coded.", f"{where}.code")
        taken = resource.get("effectiveDateTime") or resource.get("issued") or when
        quantity = resource.get("valueQuantity")
        if quantity is not None and quantity.get("value") is None:
            raise Refused(
                400, "required", "A quantity carries its value.", f"{where}.valueQuantity.value"
            )
        measure = BY_LOINC.get(loinc)
        unit_sent = (quantity or {}).get("code") or (quantity or {}).get("unit")
        if measure is not None and measure.parts is None and unit_sent == measure.unit:
            # A measurement the programmes follow (HbA1c, glucose, ...): an observation, on
            # the trend and checked against the targets; in another unit, a plain result.
            assert quantity is not None
            return (
                Kind.observation,
                {"taken": taken, "value": float(quantity["value"])},
                (measure.code),
            )
        if quantity is not None:
            value: Any = float(quantity["value"])
            unit = quantity.get("code") or quantity.get("unit")
        elif resource.get("valueString") is not None:
            value, unit = str(resource["valueString"])[:200], None
        else:
            raise Refused(400, "required", "An Observation carries a value.", f"{where}.value[x]")
        body = {
            "test": name[:200],
            "loinc": loinc,
            "value": value,
            "unit": unit,
            "reference_range": _range(resource),
            "taken_at": taken,
            "provenance": provenance,
        }
        return Kind.lab_result, body, None
    if kind == "DiagnosticReport":
        loinc, name = _loinc(resource.get("code"))
        results = [str(r.get("reference", "")) for r in resource.get("result") or []]
        body = {
            "test": name[:200],
            "loinc": loinc,
            "value": str(resource.get("conclusion") or "")[:200] or name[:200],
            "unit": None,
            "reference_range": None,
            "taken_at": resource.get("effectiveDateTime") or resource.get("issued") or when,
            "report": True,
            "results": results,
            "provenance": provenance,
        }
        return Kind.lab_result, body, None
    contents = resource.get("content") or [{}]
    attachment = contents[0].get("attachment") or {}
    if not attachment.get("url"):
        raise Refused(
            400,
            "required",
            "A DocumentReference points at its document (attachment.url).",
            f"{where}.content[0].attachment.url",
        )
    title = attachment.get("title") or resource.get("description") or "Document"
    body = {
        "title": str(title)[:200],
        "content_type": str(attachment.get("contentType") or "application/octet-stream")[:100],
        "sha256": None,
        "url": str(attachment["url"])[:2000],
        "provenance": provenance,
    }
    return Kind.attachment, body, None


async def import_bundle(
    session: AsyncSession, system: SystemAccount, data: Any, *, now: datetime
) -> dict[str, Any]:
    """Write the bundle (all or nothing) and answer a ``transaction-response`` Bundle."""
    resources = validate_bundle(data)
    located = [f"Bundle.entry[{i}].resource" for i in range(len(resources))]
    iins = {_iin_of(r, w) for r, w in zip(resources, located, strict=True)}
    if len(iins) != 1:
        raise Refused(400, "invalid", "A bundle carries the results of one patient.")
    [iin] = iins
    patient = await session.scalar(select(Patient).where(Patient.iin == iin))
    if patient is None:
        raise Refused(
            404, "not-found", "No patient has this IIN.", "Bundle.entry[0].resource.subject"
        )
    if not await _may_write(session, system, patient):
        await audit.record(
            session,
            patient_id=patient.id,
            actor_id=system.id,
            action="passport.import",
            outcome="deny",
            reason=f"system {system.name}: patient not served by its facility",
            at=now,
            client=None,
            durable=True,
        )
        raise Refused(403, "forbidden", "This system's facility does not serve this patient.")
    sources = [_source_id(r, w) for r, w in zip(resources, located, strict=True)]
    if len(set(sources)) != len(sources):
        raise Refused(400, "duplicate", "Two entries carry the same identifier.")
    known = dict(
        (
            await session.execute(
                select(ImportedResource.source_id, ImportedResource.entry_id).where(
                    ImportedResource.system_id == system.id,
                    ImportedResource.source_id.in_(sources),
                )
            )
        ).all()
    )
    answers = []
    written = 0
    for resource, where, source in zip(resources, located, sources, strict=True):
        if source in known:
            answers.append({"status": "200 OK", "location": f"urn:uuid:{known[source]}"})
            continue
        provenance = {
            "system_id": str(system.id),
            "system": system.name,
            "source_id": source,
            "received_at": now.isoformat(),
        }
        kind, body, measure = _entry_for(resource, where, provenance, now.isoformat())
        if measure is not None:
            taken = _instant(body["taken"], f"{where}.effectiveDateTime")
            full = observation_body(
                measure, body["value"], None, taken, None, "system", {"provenance": provenance}
            )
            if not MEASURES[measure].low <= body["value"] <= MEASURES[measure].high:
                raise Refused(400, "value", "Not a plausible value.", f"{where}.valueQuantity")
            entry, _ = await store_observation(
                session, patient, system.id, full, now=now, client=None
            )
        else:
            [entry] = await append_outside_consultation(
                session, patient.id, system.id, kind, [body], now=now, client=None
            )
        session.add(
            ImportedResource(
                system_id=system.id,
                source_id=source,
                patient_id=patient.id,
                entry_id=uuid.UUID(entry["id"]),
                imported_at=now,
            )
        )
        written += 1
        answers.append({"status": "201 Created", "location": f"urn:uuid:{entry['id']}"})
    await audit.record(
        session,
        patient_id=patient.id,
        actor_id=system.id,
        action="passport.import",
        outcome="ok",
        reason=f"system {system.name}: {written} new of {len(resources)} resources",
        at=now,
        client=None,
    )
    await session.flush()
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": a} for a in answers],
    }


async def fhir_import(request: web.Request) -> web.StreamResponse:
    """The aiohttp handler (registered in app.py): FHIR in, FHIR out."""
    if request.content_type not in (FHIR_JSON, "application/json"):
        return _fhir(Refused(415, "not-supported", f"Send {FHIR_JSON}.").outcome(), 415)
    raw = await request.read()
    if len(raw) > MAX_BYTES:
        return _fhir(Refused(413, "too-costly", "The bundle is too large.").outcome(), 413)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return _fhir(Refused(400, "structure", "The body is not JSON.").outcome(), 400)
    for attempt in (1, 2):
        try:
            async with unit_of_work(request.app[SESSIONMAKER]) as session:
                system = await authenticate_system(
                    session, request.app[PASSWORDS], request.headers.get("Authorization")
                )
                answer = await import_bundle(session, system, data, now=request.app[CLOCK].now())
            return _fhir(answer, 200)
        except Unauthorized as exc:
            return _fhir(Refused(401, "security", exc.detail).outcome(), 401)
        except Refused as exc:
            return _fhir(exc.outcome(), exc.status)
        except IntegrityError:
            # The same resources arrived at once from two requests: the second now finds them.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
