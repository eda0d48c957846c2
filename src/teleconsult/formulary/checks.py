"""The checks a prescription passes before it is written (pure rules, no I/O).

Each finding is ``{code, severity, field, params}``: ``code`` is stable (the pages show
``rx.finding.<code>``), ``severity`` is ``high``, ``moderate`` or ``low``, ``field`` names
the field of the prescription it concerns, and ``params`` holds what its message needs
(never an identifier). A ``high`` finding blocks the prescription until the prescriber
confirms it with a reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .catalogue import Drug, Formulary, normalise
from .interactions import ALLERGY_CLASSES, CROSS_REACTIVE, in_group, interaction
from .parsing import in_unit, parse_dose, parse_frequency, parse_route

HIGH, MODERATE, LOW = "high", "moderate", "low"
SEVERITIES = (HIGH, MODERATE, LOW)

MIN_DAYS = 1
MAX_DAYS = 365
# A drug the formulary marks as taken long term may be prescribed for up to two years when
# the prescription says so (``long_term``).
MAX_DAYS_LONG_TERM = 730
MAX_TIMES_PER_DAY = 24
# More than this many times the drug's usual frequency is no schedule it is given on (the
# once-daily amlodipine every hour, or three times a day): a high finding, not a moderate one.
IMPOSSIBLE_TIMES_USUAL = 2
# ATC groups in which an allergy to one member is an allergy to all (the penicillins).
WHOLE_GROUP_ALLERGIES = ("J01C",)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    field: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Prescription:
    medication: str
    dose: str
    route: str
    frequency: str
    duration_days: int
    atc: str | None = None
    long_term: bool = False
    times_per_day: float | None = None


@dataclass(frozen=True)
class ActivePrescription:
    """A prescription in the passport still running (newest version, within its duration)."""

    medication: str
    atc: str | None
    since: str  # ISO-8601


@dataclass(frozen=True)
class Allergy:
    substance: str
    atc: str | None = None
    reaction: str = ""
    severity: str = ""


@dataclass
class Result:
    drug: Drug | None
    route: str | None
    findings: list[Finding]

    @property
    def blocked(self) -> bool:
        return any(f.severity == HIGH for f in self.findings)


def _number(value: float) -> float | int:
    rounded = round(value, 3)
    return int(rounded) if float(rounded).is_integer() else rounded


def resolve(formulary: Formulary, medication: str, atc: str | None) -> Drug | None:
    """The formulary drug a prescription names: by ATC code if given, else by name."""
    if atc:
        return formulary.get(atc)
    return formulary.match(medication)


def _widened(atc_class: str, atc: str) -> tuple[str, ...]:
    return (atc_class, *(g for g in WHOLE_GROUP_ALLERGIES if atc.startswith(g)))


def allergy_classes(formulary: Formulary, allergy: Allergy) -> tuple[str, ...]:
    """The ATC prefixes an allergy covers: its code, the drug its substance names, or the
    class its substance names ("penicillins", "НПВС")."""
    if allergy.atc:
        code = allergy.atc.upper()
        if len(code) == 7:
            return _widened(code[:5], code)
        return (code,)
    substance = normalise(allergy.substance)
    if substance in ALLERGY_CLASSES:
        return ALLERGY_CLASSES[substance]
    drug = formulary.match(allergy.substance)
    if drug is None:
        return ()
    # An allergy to one drug covers its chemical subgroup, and to one penicillin all of them.
    return _widened(drug.atc_class, drug.atc)


def check(
    formulary: Formulary,
    rx: Prescription,
    active: list[ActivePrescription],
    allergies: list[Allergy],
    *,
    allergies_known: bool = True,
) -> Result:
    findings: list[Finding] = []
    drug = resolve(formulary, rx.medication, rx.atc)
    if drug is None:
        findings.append(Finding("not_in_formulary", LOW, "medication"))

    # Route.
    route = parse_route(rx.route)
    if route is None:
        findings.append(Finding("route_unknown", HIGH, "route"))
    elif drug is not None and route not in drug.routes:
        findings.append(
            Finding(
                "route_not_for_drug", HIGH, "route", {"route": route, "routes": list(drug.routes)}
            )
        )

    # Frequency.
    per_day: float | None
    if rx.times_per_day is not None:
        per_day = rx.times_per_day
        as_needed = False
    else:
        frequency = parse_frequency(rx.frequency)
        per_day = frequency.per_day if frequency is not None else None
        as_needed = frequency.as_needed if frequency is not None else False
        if frequency is None:
            findings.append(Finding("frequency_invalid", HIGH, "frequency"))
    if per_day is not None and (per_day <= 0 or per_day > MAX_TIMES_PER_DAY):
        findings.append(
            Finding("frequency_invalid", HIGH, "frequency", {"times_per_day": _number(per_day)})
        )
        per_day = None
    if drug is not None and per_day is not None:
        if drug.weekly_only and per_day > 1 / 7 + 1e-9:
            findings.append(
                Finding(
                    "frequency_weekly_only",
                    HIGH,
                    "frequency",
                    {"times_per_day": _number(per_day)},
                )
            )
        elif per_day > drug.max_times_per_day * IMPOSSIBLE_TIMES_USUAL + 1e-9:
            findings.append(
                Finding(
                    "frequency_impossible",
                    HIGH,
                    "frequency",
                    {"times_per_day": _number(per_day), "usual": drug.max_times_per_day},
                )
            )
        elif per_day > drug.max_times_per_day + 1e-9:
            findings.append(
                Finding(
                    "frequency_above_usual",
                    MODERATE,
                    "frequency",
                    {"times_per_day": _number(per_day), "usual": drug.max_times_per_day},
                )
            )

    # Dose.
    dose = parse_dose(rx.dose)
    if dose is None or dose.value <= 0:
        findings.append(Finding("dose_invalid", HIGH, "dose"))
    elif drug is not None:
        maximum = drug.max_for(route)
        amount = in_unit(dose, maximum.unit)
        if amount is None:
            findings.append(Finding("dose_unit_unchecked", LOW, "dose", {"unit": maximum.unit}))
        else:
            days = 7 if maximum.per == "week" else 1
            total = amount * (per_day if per_day is not None else 1) * days
            if as_needed and per_day is None:
                total = amount
            if total > maximum.value * 1.0001:
                findings.append(
                    Finding(
                        "dose_above_maximum",
                        HIGH,
                        "dose",
                        {
                            "total": _number(total),
                            "maximum": _number(maximum.value),
                            "unit": maximum.unit,
                            "per": maximum.per,
                        },
                    )
                )

    # Duration.
    longest = (
        MAX_DAYS_LONG_TERM if (rx.long_term and drug is not None and drug.chronic) else MAX_DAYS
    )
    if not MIN_DAYS <= rx.duration_days <= longest:
        findings.append(
            Finding(
                "duration_out_of_range",
                HIGH,
                "duration_days",
                {"min": MIN_DAYS, "max": longest, "days": rx.duration_days},
            )
        )

    # The passport: the same drug, the same class, interactions.
    name = normalise(rx.medication)
    for other in active:
        other_drug = resolve(formulary, other.medication, other.atc)
        params = {"medication": other.medication, "since": other.since}
        if (drug is not None and other_drug is not None and other_drug.atc == drug.atc) or (
            normalise(other.medication) == name
        ):
            findings.append(Finding("duplicate_drug", HIGH, "medication", params))
            continue
        if drug is None or other_drug is None:
            continue
        if other_drug.atc_class == drug.atc_class:
            findings.append(
                Finding(
                    "duplicate_class",
                    MODERATE,
                    "medication",
                    {**params, "atc_class": drug.atc_class},
                )
            )
        found = interaction(drug.atc, other_drug.atc)
        if found is not None:
            findings.append(
                Finding(
                    "interaction",
                    found.severity,
                    "medication",
                    {**params, "interaction": found.kind},
                )
            )

    # Allergies.
    if not allergies_known:
        findings.append(Finding("allergies_not_checked", LOW, "medication"))
    for allergy in allergies:
        params = {
            "substance": allergy.substance,
            "reaction": allergy.reaction,
            "allergy_severity": allergy.severity,
        }
        covered = allergy_classes(formulary, allergy)
        if (drug is not None and in_group(drug.atc, covered)) or normalise(
            allergy.substance
        ) == name:
            findings.append(Finding("allergy", HIGH, "medication", params))
            continue
        if drug is None:
            continue
        if any(
            in_group(c, allergic) and in_group(drug.atc, crossing)
            for allergic, crossing in CROSS_REACTIVE
            for c in covered
        ):
            findings.append(Finding("allergy_cross_reactivity", MODERATE, "medication", params))

    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])
    return Result(drug, route, findings)
