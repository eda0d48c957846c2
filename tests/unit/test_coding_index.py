"""The coding index on short notes in each language: the right code comes first (or among the
first three where the note is ambiguous), titled in the note's language, with the words that
matched."""

from __future__ import annotations

import pytest

from teleconsult.coding.index import CodingIndex, get_index
from teleconsult.coding.text import detect_language, stem_en, stem_kk, stem_ru, tokens


@pytest.fixture(scope="module")
def index() -> CodingIndex:
    return get_index()


def codes(index: CodingIndex, text: str, n: int = 5) -> list[str]:
    return [s.code for s in index.suggest(text)][:n]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Гипертоническая болезнь II стадии, АД 160/100, головные боли по утрам.", "I10"),
        ("ХОБЛ, обострение: усиление одышки и гнойная мокрота неделю.", "J44.1"),
        ("СД 2 типа, на метформине, HbA1c 7,9%, осложнений нет.", "E11.9"),
        ("Пароксизм фибрилляции предсердий двое суток, ЧСС 120.", "I48.0"),
        ("Ребенок 3 лет, лающий кашель и стридор ночью, ложный круп.", "J05.0"),
    ],
)
def test_russian_notes(index: CodingIndex, text: str, first: str) -> None:
    assert codes(index, text)[0] == first


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Артериялық гипертензия, қан қысымы 170/100, бас ауырады.", "I10"),
        ("Өкпенің созылмалы обструктивті ауруы, темекі шегеді, ентігу.", "J44.9"),
        ("2 типті қант диабеті, метформин қабылдайды.", "E11.9"),
        ("Бала 5 жаста, жөтел, қызуы 38, жедел бронхит.", "J20.9"),
        ("Біріншілік гипотиреоз, ТТГ 11, әлсіздік.", "E03.9"),
    ],
)
def test_kazakh_notes(index: CodingIndex, text: str, first: str) -> None:
    assert codes(index, text)[0] == first


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Known COPD with an acute exacerbation, purulent sputum for 5 days.", "J44.1"),
        ("Type 2 diabetes on metformin, no complications.", "E11.9"),
        ("Recurrent throbbing headaches with photophobia, migraine without aura.", "G43.0"),
        ("Sudden left arm weakness, CT shows an ischaemic stroke.", "I63.9"),
        ("Breathless, ankle oedema, EF 30%, chronic heart failure.", "I50.0"),
    ],
)
def test_english_notes(index: CodingIndex, text: str, first: str) -> None:
    assert codes(index, text)[0] == first


def test_a_suggestion_has_a_title_in_the_notes_language_and_says_why(index: CodingIndex) -> None:
    ru = index.suggest("Бронхиальная астма, приступы удушья по ночам.")
    assert ru[0].code == "J45.9"
    assert ru[0].title == "Астма неуточненная"
    assert ru[0].why[:2] == ["Бронхиальная", "астма"]

    kk = index.suggest("Бронх демікпесі, түнгі тұншығу ұстамалары.")
    assert kk[0].code == "J45.9"
    assert kk[0].title == "Демікпе, анықталмаған"
    assert "демікпесі" in kk[0].why

    en = index.suggest("Bronchial asthma with nocturnal wheeze.")
    assert en[0].code == "J45.9"
    assert en[0].title == "Asthma, unspecified"

    # The page's language wins over the note's.
    assert index.suggest("Бронхиальная астма", "en")[0].title == "Asthma, unspecified"
    assert index.suggest("Bronchial asthma", "kk")[0].title == "Демікпе, анықталмаған"


def test_at_most_five_best_first_and_nothing_for_no_clinical_words(index: CodingIndex) -> None:
    found = index.suggest(
        "АГ, ИБС, ХСН, ФП, СД 2 типа, ХОБЛ, бронхиальная астма, гипотиреоз, ожирение"
    )
    assert len(found) == 5
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert index.suggest("") == []
    assert index.suggest("Пациент пришел на прием, документы в порядке.") == []
    assert index.suggest("Науқас қабылдауға келді.") == []
    assert index.suggest("The patient came to the appointment today.") == []


def test_short_abbreviations_match_only_in_capitals(index: CodingIndex) -> None:
    assert codes(index, "АГ 2 степени")[0] == "I10"
    assert "I10" not in codes(index, "аг")
    assert codes(index, "paroxysmal AF, rate 130")[0] == "I48.0"
    # "as" is a word, not aortic stenosis
    assert "I35.0" not in codes(index, "as good as before")


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_curated_code_is_found_by_its_own_title(index: CodingIndex, language: str) -> None:
    titles = index.titles[language]
    assert len(titles) >= 250
    missed = [code for code, title in titles.items() if code not in codes(index, title, 3)]
    assert missed == []


def test_stemming_and_language() -> None:
    assert stem_ru("пневмонией") == stem_ru("пневмония") == "пневмон"
    assert stem_ru("гипертоническая") == "гипертоническ"
    assert stem_kk("ауруы") == "ауру"
    assert stem_kk("инсульттің") == "инсульт"
    assert stem_kk("гипертензиясы") == "гипертензия"
    assert stem_en("seizures") == stem_en("seizure")
    assert stem_en("headaches") == stem_en("headache")
    assert [t.norm for t in tokens("СД2, ФК II")] == ["сд", "2", "фк", "2"]
    assert detect_language("Қант диабеті") == "kk"
    assert detect_language("Сахарный диабет") == "ru"
    assert detect_language("Diabetes, HbA1c 8%") == "en"
