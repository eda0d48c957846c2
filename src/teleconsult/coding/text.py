"""Words of a note: tokens, the note's language, and stems by simple suffix stripping.

Pure functions, no state. Russian and Kazakh stems drop inflectional endings (case, number,
possession, adjective endings); English ones drop plurals and a few endings. Matching tolerates
what stripping misses with prefixes (``index.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Language = Literal["en", "kk", "ru"]

# Latin words, Cyrillic words (with the Kazakh letters), numbers: "СД2" is "сд" and "2".
_TOKEN = re.compile(r"[a-zà-ÿ]+|[а-яәғқңөұүһі]+|\d+")
_KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_CYRILLIC = re.compile(r"[а-яәғқңөұүһі]")
_LATIN = re.compile(r"[a-z]")
_ROMAN = {"ii": "2", "iii": "3", "iv": "4"}
# "Without" and "no" in every language are one word: "E11.9 without complications" is what
# "осложнений нет" and "асқынулар жоқ" say.
NEGATION = "¬"
_NEGATIONS = frozenset(("without", "no", "без", "нет", "жоқ", "жок"))


@dataclass(frozen=True, slots=True)
class Token:
    surface: str  # as written in the note (for "why")
    norm: str  # lower case, ё as е, roman numerals as digits
    start: int


def normalise(text: str) -> str:
    return text.lower().replace("ё", "е").replace("’", "'")


def tokens(text: str) -> list[Token]:
    low = normalise(text)
    out = []
    for m in _TOKEN.finditer(low):
        word = m.group()
        surface = text[m.start() : m.end()]
        if len(word) >= 7 and word.endswith(("сыз", "сіз")):
            # Kazakh "-сыз": "асқынуларсыз" is "асқынулар" and "without".
            out.append(Token(surface, word[:-3], m.start()))
            out.append(Token(surface, NEGATION, m.start()))
            continue
        norm = NEGATION if word in _NEGATIONS else _ROMAN.get(word, word)
        out.append(Token(surface, norm, m.start()))
    return out


def detect_language(text: str) -> Language:
    """Kazakh when a letter only Kazakh uses appears, Russian for other Cyrillic text."""
    low = normalise(text)
    if any(ch in _KAZAKH_LETTERS for ch in low):
        return "kk"
    cyrillic = len(_CYRILLIC.findall(low))
    latin = len(_LATIN.findall(low))
    return "ru" if cyrillic > latin else "en"


def _words(text: str) -> list[str]:
    return text.split()


STOPWORDS: frozenset[str] = frozenset(
    _words(
        """
    a an and are as at be by due for from has have in into is it its of on or other others
    specified unspecified not nos elsewhere classified the to with was were this
    that than mention mentioned yes also
    и в во с со на по не при из от до для к ко у о об или а но как что это его ее их
    неуточненный неуточненная неуточненное неуточненные неуточненного других другие другой
    другая другое уточненные уточненных рубриках классифицированный классифицированная
    классифицированные упоминания упоминанием
    және мен бен пен емес да де та те басқа анықталмаған айдарларда жіктелмеген
    жіктелмеген
    """
    )
)

_RU_ENDINGS = sorted(
    _words(
        """
    иями ями ами ией ией иям ием иях ого его ому ему ыми ими ая яя ое ее ые ие ый ий ой ую юю
    ых их ым им ом ем ах ях ов ев ей ам ям ию ия ие ии ья ье ьи ью ой ей а я о е ы и у ю ь й
    """
    ),
    key=len,
    reverse=True,
)

_KK_ENDINGS = sorted(
    _words(
        """
    ларының лерінің дарының дерінің тарының терінің ларын лерін дарын дерін тарын терін
    ларда лерде дарда дерде тарда терде лардан лерден дардан дерден тардан терден
    ларға лерге дарға дерге тарға терге лары лері дары дері тары тері
    лар лер дар дер тар тер
    ының інің ның нің дың дің тың тің ымен імен мен бен пен
    ында інде нда нде да де та те ынан інен нан нен дан ден тан тен
    ына іне на не ға ге қа ке ын ін ны ні ды ді ты ті
    ымыз іміз ыңыз іңіз мыз міз ңыз ңіз ым ім ың ің сы сі ы і
    лық лік дық дік тық тік ғы гі қы кі
    """
    ),
    key=len,
    reverse=True,
)


def _strip(word: str, endings: list[str], keep: int) -> str:
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= keep:
            return word[: -len(ending)]
    return word


@lru_cache(maxsize=65536)
def stem_ru(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    return _strip(word, _RU_ENDINGS, 3)


@lru_cache(maxsize=65536)
def stem_kk(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    # Endings stack (plural, possessive, case): strip up to three of them.
    for _ in range(3):
        shorter = _strip(word, _KK_ENDINGS, 3)
        if shorter == word:
            break
        word = shorter
    return word


@lru_cache(maxsize=65536)
def stem_en(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            word = word[: -len(ending)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.match(word))


@lru_cache(maxsize=65536)
def stem(word: str, language: Language) -> str:
    """The stem of a word of a phrase written in ``language``."""
    if word.isdigit() or word == NEGATION:
        return word
    if language == "en" or not is_cyrillic(word):
        return stem_en(word)
    return stem_kk(word) if language == "kk" else stem_ru(word)


@lru_cache(maxsize=65536)
def candidate_stems(word: str) -> frozenset[str]:
    """A note's word as every language's stemmer sees it (notes mix languages)."""
    if word.isdigit() or word == NEGATION:
        return frozenset((word,))
    if is_cyrillic(word):
        return frozenset((word, stem_ru(word), stem_kk(word)))
    return frozenset((word, stem_en(word)))
