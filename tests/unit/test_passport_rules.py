from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from teleconsult.passport.icd10 import diagnosis
from teleconsult.passport.rules import amended_view, may_author, may_write_now

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_write_window() -> None:
    assert may_write_now("in_progress", None, NOW)
    assert may_write_now("completed", NOW - timedelta(hours=72), NOW)
    assert not may_write_now("completed", NOW - timedelta(hours=72, seconds=1), NOW)
    assert not may_write_now("completed", None, NOW)
    for status in ("requested", "scheduled", "cancelled", "no_show"):
        assert not may_write_now(status, None, NOW)


def test_authors() -> None:
    specialist, gp = uuid.uuid4(), uuid.uuid4()
    assert may_author(specialist, specialist, gp)
    assert may_author(gp, specialist, gp)
    assert not may_author(uuid.uuid4(), specialist, gp)
    assert not may_author(uuid.uuid4(), None, gp)


def test_amended_view_links_versions_both_ways() -> None:
    entries = [
        {"id": "a", "amends": None},
        {"id": "b", "amends": "a"},
        {"id": "x", "amends": None},
        {"id": "c", "amends": "b"},
    ]
    view = {e["id"]: e for e in amended_view(entries)}
    assert view["a"]["superseded_by"] == "b"
    assert view["b"]["superseded_by"] == "c"
    assert view["c"]["superseded_by"] is None
    assert view["c"]["history"] == ["b", "a"]
    assert view["x"]["history"] == [] and view["x"]["superseded_by"] is None


@pytest.mark.parametrize(
    ("code", "expected"), [("I10", "I10"), ("i10", "I10"), ("J459", "J45.9"), ("E11.9", "E11.9")]
)
def test_icd10_codes_are_normalised(code: str, expected: str) -> None:
    assert diagnosis(code)[0] == expected


@pytest.mark.parametrize("code", ["", "XX", "A00-B99", "I10-I16", "Q99.99", "hello", "I10" * 5])
def test_icd10_refuses_what_is_not_a_diagnosis(code: str) -> None:
    with pytest.raises(ValueError):
        diagnosis(code)
