"""The shipped formulary: enough drugs, well formed, and its interaction table consistent."""

from __future__ import annotations

import json
import re
from importlib import resources

from teleconsult.formulary.catalogue import LANGUAGES, ROUTES, formulary, normalise
from teleconsult.formulary.interactions import ALLERGY_CLASSES, INTERACTIONS, pairs

ATC = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
CYRILLIC = re.compile(r"[а-яёәіңғүұқөһ]", re.IGNORECASE)
UNITS = {"mg", "mcg", "g", "IU", "ml", "tablet", "inhalation"}


def test_at_least_150_drugs_across_the_specialties() -> None:
    drugs = formulary().drugs
    assert len(drugs) >= 150
    groups = {d.atc[0] for d in drugs}
    # Cardiovascular, respiratory, nervous system, alimentary and metabolism (diabetes),
    # systemic hormones (thyroid), anti-infectives, musculo-skeletal, blood.
    assert {"C", "R", "N", "A", "H", "J", "M", "B"} <= groups


def test_each_drug_is_well_formed() -> None:
    seen: set[tuple[str, str]] = set()
    for drug in formulary().drugs:
        assert ATC.match(drug.atc), drug.atc
        key = (drug.atc, drug.name["en"])
        assert key not in seen, key
        seen.add(key)
        for lang in LANGUAGES:
            assert drug.name[lang].strip(), (drug.atc, lang)
        assert not CYRILLIC.search(drug.name["en"]), drug.atc
        assert CYRILLIC.search(drug.name["ru"]), drug.atc
        assert CYRILLIC.search(drug.name["kk"]), drug.atc
        assert drug.forms and drug.routes, drug.atc
        assert set(drug.routes) <= set(ROUTES), drug.atc
        assert drug.max_dose.value > 0 and drug.max_dose.unit in UNITS, drug.atc
        assert drug.max_dose.per in ("day", "week")
        for route, dose in drug.max_dose_by_route.items():
            assert route in drug.routes and dose.value > 0 and dose.unit in UNITS, drug.atc
        assert 1 <= drug.max_times_per_day <= 24, drug.atc


def test_atc_codes_and_names_are_unique() -> None:
    drugs = formulary().drugs
    assert len({d.atc for d in drugs}) == len(drugs)
    names = [normalise(n) for d in drugs for n in d.names()]
    by_name: dict[str, set[str]] = {}
    for d in drugs:
        for n in d.names():
            by_name.setdefault(normalise(n), set()).add(d.atc)
    # A name in one language may equal the same drug's name in another, never another drug's.
    assert all(len(codes) == 1 for codes in by_name.values()), [
        (n, c) for n, c in by_name.items() if len(c) > 1
    ]
    assert names


def test_the_file_names_its_sources() -> None:
    raw = json.loads(
        resources.files("teleconsult.formulary").joinpath("formulary.json").read_text()
    )
    assert any("ATC/DDD" in s for s in raw["sources"])
    assert formulary().sources == raw["sources"]


def test_interactions_name_formulary_drugs() -> None:
    codes = [d.atc for d in formulary().drugs]
    for interaction in INTERACTIONS:
        for prefix in interaction.left + interaction.right:
            assert any(c.startswith(prefix) for c in codes), (interaction.kind, prefix)
        assert interaction.severity in ("high", "moderate")
    found = {(a, b): i.kind for a, b, i in pairs()}
    assert found[("B01AA03", "M01AE01")] == "bleeding"  # warfarin + ibuprofen
    assert found[("C03DA01", "C09AA02")] == "hyperkalaemia"  # spironolactone + enalapril
    assert found[("C10AA01", "J01FA09")] == "myopathy"  # simvastatin + clarithromycin
    assert found[("C01DA14", "G04BE03")] == "severe_hypotension"  # nitrate + sildenafil


def test_allergy_classes_name_formulary_drugs() -> None:
    codes = [d.atc for d in formulary().drugs]
    for name, prefixes in ALLERGY_CLASSES.items():
        assert all(any(c.startswith(p) for c in codes) for p in prefixes), name


def test_search_in_three_languages_and_by_code() -> None:
    f = formulary()
    assert [d.atc for d in f.search("amlod")] == ["C08CA01"]
    assert [d.atc for d in f.search("амлод")] == ["C08CA01"]
    assert "C09AA02" in [d.atc for d in f.search("эналаприл")]
    assert {d.atc for d in f.search("C09AA")} >= {"C09AA02", "C09AA03", "C09AA05"}
    assert f.search("   ") == []
    assert f.match("Amlodipine 5 mg tablets") is f.get("C08CA01")
    assert f.match("Аспирин") is f.get("N02BA01")
    assert f.match("something else") is None
