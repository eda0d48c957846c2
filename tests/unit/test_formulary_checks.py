"""The prescription checks as pure rules, and reading doses, routes and frequencies."""

from __future__ import annotations

import pytest

from teleconsult.formulary.catalogue import formulary
from teleconsult.formulary.checks import (
    ActivePrescription,
    Allergy,
    Prescription,
    Result,
    check,
)
from teleconsult.formulary.parsing import parse_dose, parse_frequency, parse_route

SINCE = "2026-03-01T09:00:00+00:00"


def run(
    medication: str,
    dose: str = "5 mg",
    route: str = "oral",
    frequency: str = "once daily",
    days: int = 30,
    *,
    active: list[ActivePrescription] | None = None,
    allergies: list[Allergy] | None = None,
    **kw: object,
) -> Result:
    rx = Prescription(medication, dose, route, frequency, days, **kw)  # type: ignore[arg-type]
    return check(formulary(), rx, active or [], allergies or [])


def codes(result: Result) -> dict[str, str]:
    return {f.code: f.severity for f in result.findings}


@pytest.mark.parametrize(
    ("text", "per_day"),
    [
        ("once daily", 1),
        ("daily", 1),
        ("twice daily", 2),
        ("three times a day", 3),
        ("every 8 hours", 3),
        ("q12h", 2),
        ("every hour", 24),
        ("bid", 2),
        ("1-0-1", 2),
        ("2 раза в день", 2),
        ("трижды в день", 3),
        ("на ночь", 1),
        ("күніне 2 рет", 2),
        ("күніне бір рет", 1),
        ("every other day", 0.5),
    ],
)
def test_frequencies_in_three_languages(text: str, per_day: float) -> None:
    parsed = parse_frequency(text)
    assert parsed is not None and parsed.per_day == pytest.approx(per_day)


def test_weekly_as_needed_and_nonsense_frequencies() -> None:
    weekly = parse_frequency("once weekly")
    assert weekly is not None and weekly.per_day == pytest.approx(1 / 7)
    prn = parse_frequency("as needed")
    assert prn is not None and prn.per_day is None and prn.as_needed
    assert parse_frequency("banana") is None


def test_doses_and_routes() -> None:
    assert parse_dose("5,000 mg") is not None and parse_dose("5,000 mg").value == 5000  # type: ignore[union-attr]
    assert parse_dose("2,5 мг").value == 2.5  # type: ignore[union-attr]
    assert parse_dose("0.5 g").value == 500  # type: ignore[union-attr]
    assert parse_dose("100 mcg").value == pytest.approx(0.1)  # type: ignore[union-attr]
    assert parse_dose("20 ЕД").unit == "IU"  # type: ignore[union-attr]
    assert parse_dose("banana") is None
    assert parse_route("PO") == "oral"
    assert parse_route("в/в") == "intravenous"
    assert parse_route("тері астына") == "subcutaneous"
    assert parse_route("banana") is None


def test_an_ordinary_prescription_has_no_findings() -> None:
    result = run("Amlodipine")
    assert result.findings == [] and not result.blocked
    assert result.drug is not None and result.drug.atc == "C08CA01"


def test_the_absurd_amlodipine_is_refused() -> None:
    result = run("Amlodipine", "5,000 mg", "banana", "every hour", 3650)
    found = codes(result)
    assert result.blocked
    assert found["route_unknown"] == "high"
    assert found["dose_above_maximum"] == "high"
    assert found["duration_out_of_range"] == "high"
    assert found["frequency_impossible"] == "high"
    dose = next(f for f in result.findings if f.code == "dose_above_maximum")
    assert dose.field == "dose"
    assert dose.params == {"total": 120000, "maximum": 10, "unit": "mg", "per": "day"}
    often = next(f for f in result.findings if f.code == "frequency_impossible")
    assert often.field == "frequency" and often.params == {"times_per_day": 24, "usual": 1}


def test_a_frequency_far_beyond_the_usual_blocks() -> None:
    # A tablet of amlodipine every hour: the dose cannot be compared, the frequency can.
    hourly = run("Amlodipine", "1 tablet", frequency="every hour")
    assert codes(hourly) == {"frequency_impossible": "high", "dose_unit_unchecked": "low"}
    assert hourly.blocked
    # High findings come first.
    assert [f.severity for f in hourly.findings] == ["high", "low"]
    # Twice the usual is unusual, not impossible; more than twice is.
    assert codes(run("Amlodipine", "1 tablet", frequency="twice daily")) == {
        "frequency_above_usual": "moderate",
        "dose_unit_unchecked": "low",
    }
    assert (
        codes(run("Amlodipine", "1 tablet", frequency="3 раза в день"))["frequency_impossible"]
        == "high"
    )
    assert codes(run("Paracetamol", "500 mg", frequency="every 4 hours")) == {
        "frequency_above_usual": "moderate"
    }
    assert codes(run("Paracetamol", "250 mg", frequency="every 2 hours")) == {
        "frequency_impossible": "high"
    }


def test_dose_is_dose_times_frequency() -> None:
    assert "dose_above_maximum" not in codes(run("Enalapril", "20 mg", frequency="twice daily"))
    assert codes(run("Enalapril", "40 mg", frequency="twice daily"))["dose_above_maximum"] == "high"
    # Grams and micrograms are converted; inhaled salbutamol and oral have their own maximum.
    assert "dose_above_maximum" in codes(run("Metformin", "1.5 g", frequency="3 times a day"))
    assert "dose_above_maximum" not in codes(
        run("Salbutamol", "200 mcg", "inhaled", "4 times a day")
    )
    assert "dose_above_maximum" in codes(run("Salbutamol", "20 mg", "oral", "twice daily"))
    # A dose in tablets cannot be compared with milligrams: said so, not guessed.
    assert codes(run("Amlodipine", "1 tablet"))["dose_unit_unchecked"] == "low"
    assert codes(run("Amlodipine", "a little"))["dose_invalid"] == "high"


def test_route_and_frequency_findings() -> None:
    found = codes(run("Amlodipine", route="intravenous"))
    assert found["route_not_for_drug"] == "high"
    assert codes(run("Ceftriaxone", "1 g", "в/м")) == {}
    assert codes(run("Amlodipine", frequency="whenever"))["frequency_invalid"] == "high"
    assert codes(run("Amlodipine", frequency="30 times a day"))["frequency_invalid"] == "high"
    # Methotrexate is taken weekly: a daily prescription is a known fatal error.
    weekly = codes(run("Methotrexate", "10 mg", frequency="once weekly"))
    assert weekly == {}
    assert codes(run("Methotrexate", "10 mg"))["frequency_weekly_only"] == "high"


def test_duration_range_and_long_term_drugs() -> None:
    assert codes(run("Amlodipine", days=365)) == {}
    assert "duration_out_of_range" in codes(run("Amlodipine", days=400))
    assert codes(run("Amlodipine", days=400, long_term=True)) == {}
    assert "duration_out_of_range" in codes(run("Amlodipine", days=3650, long_term=True))
    # Only drugs the formulary marks as long-term may run past a year.
    assert "duration_out_of_range" in codes(
        run("Amoxicillin", "500 mg", frequency="tid", days=400, long_term=True)
    )


def test_free_text_is_allowed_and_marked() -> None:
    result = run("Herbal tea", "1 cup", "oral", "daily", 10)
    assert codes(result) == {"not_in_formulary": "low"}
    assert result.drug is None and not result.blocked


def test_duplicates_and_classes() -> None:
    active = [ActivePrescription("Амлодипин", None, SINCE)]
    assert codes(run("Amlodipine", active=active))["duplicate_drug"] == "high"
    felodipine = codes(run("Felodipine", active=active))
    assert felodipine == {"duplicate_class": "moderate"}
    same_text = [ActivePrescription("Herbal tea", None, SINCE)]
    assert "duplicate_drug" in codes(run("herbal  TEA", "1 cup", active=same_text))


@pytest.mark.parametrize(
    ("new", "dose", "existing", "kind"),
    [
        ("Ibuprofen", "400 mg", "Warfarin", "bleeding"),
        ("Spironolactone", "25 mg", "Enalapril", "hyperkalaemia"),
        ("Clarithromycin", "500 mg", "Simvastatin", "myopathy"),
        ("Sildenafil", "50 mg", "Isosorbide mononitrate", "severe_hypotension"),
        ("Verapamil", "80 mg", "Bisoprolol", "heart_block"),
        ("Tramadol", "50 mg", "Sertraline", "serotonin_syndrome"),
        ("Moxifloxacin", "400 mg", "Amiodarone", "qt_prolongation"),
    ],
)
def test_major_interactions(new: str, dose: str, existing: str, kind: str) -> None:
    result = run(new, dose, active=[ActivePrescription(existing, None, SINCE)])
    finding = next(f for f in result.findings if f.code == "interaction")
    assert finding.severity == "high" and finding.params["interaction"] == kind
    assert finding.params["medication"] == existing and finding.field == "medication"


def test_a_moderate_interaction_does_not_block() -> None:
    result = run("Omeprazole", "20 mg", active=[ActivePrescription("Clopidogrel", None, SINCE)])
    assert codes(result) == {"interaction": "moderate"} and not result.blocked


def test_allergies_by_drug_class_and_cross_reactivity() -> None:
    penicillins = [Allergy("Пенициллины", None, "urticaria", "severe")]
    found = run("Amoxicillin", "500 mg", frequency="tid", days=7, allergies=penicillins)
    allergy = next(f for f in found.findings if f.code == "allergy")
    assert allergy.severity == "high"
    assert allergy.params == {
        "substance": "Пенициллины",
        "reaction": "urticaria",
        "allergy_severity": "severe",
    }
    by_code = [Allergy("ACE inhibitor", "C09AA")]
    assert codes(run("Lisinopril", "10 mg", allergies=by_code))["allergy"] == "high"
    by_name = [Allergy("amoxicillin")]
    # An allergy to one penicillin is an allergy to all of them.
    assert codes(run("Ampicillin", "1 g", "iv", "every 6 hours", 7, allergies=by_name)) == {
        "allergy": "high"
    }
    assert codes(
        run("Ibuprofen", "400 mg", "oral", "tid", 5, allergies=[Allergy("Diclofenac")])
    ) == {"allergy_cross_reactivity": "moderate"}
    assert codes(run("Ceftriaxone", "1 g", "iv", days=7, allergies=penicillins)) == {
        "allergy_cross_reactivity": "moderate"
    }
    assert codes(run("Amlodipine", allergies=penicillins)) == {}


def test_allergies_not_readable_are_said_so() -> None:
    rx = Prescription("Amlodipine", "5 mg", "oral", "daily", 30)
    result = check(formulary(), rx, [], [], allergies_known=False)
    assert codes(result) == {"allergies_not_checked": "low"}
