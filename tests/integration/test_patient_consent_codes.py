"""Every refusal of the consent package carries its own code, translated in every catalogue."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import teleconsult.consent

CONSENT = Path(teleconsult.consent.__file__).parent
CATALOGUES = Path(__file__).parents[2] / "web" / "i18n"
ERRORS = {"Forbidden", "NotFound", "Conflict", "TooManyRequests", "ConsentDenied"}


def _codes() -> tuple[set[str], set[str], list[str]]:
    """(error codes, field codes, raises without a code) of consent/*.py."""
    errors: set[str] = {"consent_denied"}
    fields: set[str] = set()
    uncoded: list[str] = []
    for path in sorted(CONSENT.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "code" for t in node.targets
            ):
                assert isinstance(node.value, ast.Constant)
                errors.add(node.value.value)
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name = node.func.id
            if name == "field_error":
                if len(node.args) < 3:
                    uncoded.append(f"{path.name}:{node.lineno}")
                else:
                    code = node.args[2]
                    assert isinstance(code, ast.Constant)
                    fields.add(code.value)
            elif name in ERRORS and name != "TooManyRequests" and name != "ConsentDenied":
                kw = {k.arg: k.value for k in node.keywords}
                if "code" not in kw:
                    uncoded.append(f"{path.name}:{node.lineno}")
                else:
                    value = kw["code"]
                    assert isinstance(value, ast.Constant)
                    errors.add(value.value)
    return errors, fields, uncoded


def test_every_consent_refusal_has_a_code_in_every_catalogue() -> None:
    errors, fields, uncoded = _codes()
    assert not uncoded, f"refusals without a code: {uncoded}"
    assert {"consent_request_locked", "wrong_code", "expires_in_past"} <= errors | fields
    for language in ("en", "kk", "ru"):
        catalogue = json.loads((CATALOGUES / f"{language}.json").read_text())
        missing = [f"error.{c}" for c in errors if f"error.{c}" not in catalogue]
        missing += [f"field.{c}" for c in fields if f"field.{c}" not in catalogue]
        assert not missing, (language, missing)
        if language != "en":
            english = json.loads((CATALOGUES / "en.json").read_text())
            same = [
                f"error.{c}" for c in errors if catalogue[f"error.{c}"] == english[f"error.{c}"]
            ]
            assert not same, (language, same)
