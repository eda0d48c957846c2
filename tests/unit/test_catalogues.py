"""The three catalogues of the pages (web/i18n/{en,kk,ru}.json) agree with each other and
with the error codes the API sends.

- the same keys in each, written sorted in the one canonical form;
- the same {placeholders} per key;
- counted texts with the plural forms each language needs;
- every error code and field code raised in src/ has its error.<code> or field.<code> text,
  and so has every standard pydantic error type a form can provoke.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from teleconsult.middleware import _HTTP_NAMES

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "web" / "i18n"
SRC = ROOT / "src" / "teleconsult"
LANGUAGES = ("en", "kk", "ru")
PLURAL_FORMS = {
    "en": {"one", "other"},
    "kk": {"one", "other"},
    "ru": {"one", "few", "many", "other"},
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


# The pydantic error types a person can provoke through a form; each needs a field text.
PYDANTIC_TYPES = [
    "missing",
    "string_too_short",
    "string_too_long",
    "string_pattern_mismatch",
    "string_type",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "decimal_parsing",
    "bool_parsing",
    "bool_type",
    "date_parsing",
    "date_type",
    "date_from_datetime_parsing",
    "date_from_datetime_inexact",
    "datetime_parsing",
    "datetime_type",
    "datetime_from_date_parsing",
    "timezone_aware",
    "enum",
    "literal_error",
    "uuid_parsing",
    "uuid_type",
    "list_type",
    "too_short",
    "too_long",
    "extra_forbidden",
    "value_error",
    "json_invalid",
]


def load(language: str) -> dict[str, Any]:
    return dict(json.loads((CATALOGUES / f"{language}.json").read_text("utf-8")))


def forms(entry: Any) -> list[str]:
    return list(entry.values()) if isinstance(entry, dict) else [entry]


def test_the_catalogues_have_the_same_keys_sorted_and_canonical() -> None:
    keys = {language: list(load(language)) for language in LANGUAGES}
    for language, listed in keys.items():
        assert listed == sorted(listed), f"{language}.json is not sorted"
        text = (CATALOGUES / f"{language}.json").read_text("utf-8")
        canonical = json.dumps(load(language), ensure_ascii=False, indent=1, sort_keys=True)
        assert text == canonical + "\n", f"{language}.json is not in the canonical form"
    english = set(keys["en"])
    for language in ("kk", "ru"):
        theirs = set(keys[language])
        assert theirs - english == set(), f"only in {language}.json: {sorted(theirs - english)}"
        assert english - theirs == set(), f"missing in {language}.json: {sorted(english - theirs)}"


def test_every_text_is_a_text() -> None:
    for language in LANGUAGES:
        for key, entry in load(language).items():
            assert isinstance(entry, str | dict), (language, key)
            for form in forms(entry):
                assert isinstance(form, str) and form.strip(), (language, key)


def test_each_key_has_the_same_placeholders_in_every_language() -> None:
    catalogues = {language: load(language) for language in LANGUAGES}
    for key, entry in catalogues["en"].items():
        expected = {name for form in forms(entry) for name in PLACEHOLDER.findall(form)}
        for language in ("kk", "ru"):
            theirs = catalogues[language].get(key)
            found = {name for form in forms(theirs) for name in PLACEHOLDER.findall(form)}
            assert found == expected, (language, key, found, expected)


def test_counted_texts_have_the_plural_forms_of_each_language() -> None:
    catalogues = {language: load(language) for language in LANGUAGES}
    plural_keys = {
        key
        for catalogue in catalogues.values()
        for key, entry in catalogue.items()
        if isinstance(entry, dict)
    }
    for key in sorted(plural_keys):
        for language in LANGUAGES:
            entry = catalogues[language][key]
            assert isinstance(entry, dict), f"{language}: {key} is counted elsewhere"
            assert set(entry) == PLURAL_FORMS[language], (language, key, sorted(entry))


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _codes_in(tree: ast.AST) -> set[tuple[str, str]]:
    """(kind, code) for every literal error or field code in a module: kind "error" for a
    DomainError's code, "field" for a field's code, "any" where either text will do."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            name = name or (node.func.attr if isinstance(node.func, ast.Attribute) else None)
            for keyword in node.keywords:
                code = _literal(keyword.value)
                if keyword.arg == "code" and code:
                    found.add(("field" if name == "field_error" else "error", code))
                if keyword.arg == "field_codes" and isinstance(keyword.value, ast.Dict):
                    for value in keyword.value.values:
                        if _literal(value):
                            found.add(("field", str(_literal(value))))
            if name == "field_error" and len(node.args) >= 3 and _literal(node.args[2]):
                found.add(("field", str(_literal(node.args[2]))))
            if name == "custom_error" and node.args and _literal(node.args[0]):
                found.add(("field", str(_literal(node.args[0]))))
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "default_code" for target in node.targets
        ):
            code = _literal(node.value)
            if code:
                found.add(("error", code))
    return found


def _scan() -> dict[str, list[tuple[str, str]]]:
    by_package: dict[str, set[tuple[str, str]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        package = path.relative_to(SRC).parts[0].removesuffix(".py")
        tree = ast.parse(path.read_text("utf-8"), str(path))
        by_package.setdefault(package, set()).update(_codes_in(tree))
    return {package: sorted(codes) for package, codes in by_package.items()}


@cache
def _all_codes() -> dict[str, set[tuple[str, str]]]:
    """Codes per top-level package (or module) of src/teleconsult.

    The scan runs in a fresh interpreter: Python 3.11's ast.parse can fail with "AST
    constructor recursion depth mismatch" in a process where a RecursionError was caught
    before (the tests of deeply nested JSON bodies do that).
    """
    script = "import json, tests.unit.test_catalogues as t; print(json.dumps(t._scan()))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    scanned = json.loads(done.stdout)
    by_package = {p: {(kind, code) for kind, code in codes} for p, codes in scanned.items()}
    # Codes made by the middleware from aiohttp's errors, and the catch-all.
    http = {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in _HTTP_NAMES.values()}
    by_package.setdefault("middleware", set()).update(("error", code) for code in http)
    by_package["middleware"].add(("error", "internal"))
    return by_package


def _has_text(catalogue: dict[str, Any], kind: str, code: str) -> bool:
    keys = {"error": [f"error.{code}"], "field": [f"field.{code}"]}.get(
        kind, [f"error.{code}", f"field.{code}"]
    )
    return any(key in catalogue for key in keys)


def test_the_scan_finds_codes() -> None:
    codes = _all_codes()
    assert ("error", "consent_denied") in codes["consent"]
    assert ("error", "wrong_credentials") in codes["accounts"]
    assert ("field", "year_out_of_range") in codes["types"]
    assert ("field", "range_too_long") in codes["stats"]
    assert ("error", "method_not_allowed") in codes["middleware"]


def test_every_code_raised_has_its_text() -> None:
    english = load("en")
    missing = [
        f"{package}: {kind}.{code}"
        for package, codes in _all_codes().items()
        for kind, code in sorted(codes)
        if not _has_text(english, kind, code)
    ]
    assert missing == []


@pytest.mark.parametrize("code", PYDANTIC_TYPES)
def test_every_pydantic_error_a_form_can_provoke_has_a_field_text(code: str) -> None:
    english = load("en")
    assert f"field.{code}" in english


def test_the_pages_own_codes_have_texts() -> None:
    # web/js/api.js names a network failure "network"; errorText falls back on statuses.
    english = load("en")
    assert "error.network" in english
    for status in (0, 400, 401, 403, 404, 409, 422, 429, 500, 503):
        assert f"error.status.{status}" in english
    assert "field.invalid" in english
