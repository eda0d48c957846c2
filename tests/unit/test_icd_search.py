"""ICD-10 search: codes first, then titles; Kazakh and Russian titles where translated."""

from __future__ import annotations

from datetime import date

from teleconsult.consultations.queue import age_on
from teleconsult.icd import search
from teleconsult.icd.titles import TITLES
from teleconsult.passport.icd10 import diagnosis


def test_every_translated_code_is_a_real_diagnosis() -> None:
    for code, (kk, ru) in TITLES.items():
        assert diagnosis(code)[0] == code
        assert (kk and ru and kk != ru) or code == "U07.1"


def test_code_prefix_then_titles_in_the_chosen_language() -> None:
    found = search("E11", "ru")
    assert found[0]["code"] == "E11"
    assert {"code": "E11.9", "title": TITLES["E11.9"][1], "translated": True} in found
    assert search("гипертензия", "ru")[0]["code"] == "I10"
    assert search("гипертензия", "kk")[0]["code"] == "I10"
    # An English word finds translated codes too, shown in the chosen language.
    assert search("migraine", "kk")[0] == {
        "code": "G43.9",
        "title": TITLES["G43.9"][0],
        "translated": True,
    }
    assert search("i10", "en")[0]["title"] == "Essential (primary) hypertension"
    assert search("  ", "en") == []
    assert len(search("a", "en", limit=5)) == 5


def test_age_on_a_day() -> None:
    assert age_on(date(1980, 3, 5), date(2030, 3, 4)) == 49
    assert age_on(date(1980, 3, 4), date(2030, 3, 4)) == 50
