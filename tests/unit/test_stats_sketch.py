from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from teleconsult.stats import sketch

durations = st.floats(min_value=0, max_value=sketch.MAX_SECONDS, allow_nan=False)


def exact_quantile(values: list[float], q: Fraction) -> float:
    return sorted(values)[sketch.nearest_rank(len(values), q) - 1]


def within_bound(estimate: float, exact: float) -> bool:
    slack = max(sketch.RELATIVE_ERROR * exact, sketch.ABSOLUTE_ERROR_SECONDS)
    return abs(estimate - exact) <= slack * (1 + 1e-9)


@given(durations)
def test_every_value_is_reported_within_the_bound(seconds: float) -> None:
    assert within_bound(sketch.bucket_value(sketch.bucket_of(seconds)), seconds)


@given(st.lists(durations, min_size=1, max_size=200), st.sampled_from([sketch.MEDIAN, sketch.P90]))
def test_quantiles_of_merged_histograms_are_within_the_bound(
    values: list[float], q: Fraction
) -> None:
    half = len(values) // 2
    left = sum(sketch.one(v) for v in values[:half])
    right = sum(sketch.one(v) for v in values[half:])
    stored = sketch.decode(sketch.encode(left)) + sketch.decode(sketch.encode(right))
    summary = sketch.Summary(stored)
    assert summary.n == len(values)
    estimate = summary.quantile(q)
    assert estimate is not None
    assert within_bound(estimate, exact_quantile(values, q))


@given(st.lists(durations, max_size=50), st.lists(durations, max_size=50))
def test_removing_values_undoes_adding_them(kept: list[float], removed: list[float]) -> None:
    total = sum(sketch.one(v) for v in kept + removed)
    total -= sum(sketch.one(v) for v in removed)
    assert total == sum(sketch.one(v) for v in kept)
    assert sketch.decode(sketch.encode(total)) == total


def test_nearest_rank_is_exact_integer_arithmetic() -> None:
    assert sketch.nearest_rank(10, sketch.P90) == 9
    assert sketch.nearest_rank(11, sketch.P90) == 10
    assert sketch.nearest_rank(4, sketch.MEDIAN) == 2
    assert sketch.nearest_rank(1, sketch.MEDIAN) == 1


def test_buckets_fit_the_stored_form() -> None:
    assert sketch.MAX_BUCKET < 2**16
    assert sketch.bucket_of(-5) == 0
    assert sketch.bucket_of(1e12) == sketch.bucket_of(sketch.MAX_SECONDS)
    assert math.isclose(sketch.GAMMA, 1.02 / 0.98)


def test_empty_histogram_has_no_quantile() -> None:
    assert sketch.encode(0) == b""
    assert sketch.Summary(0).quantile(sketch.MEDIAN) is None


@given(st.dictionaries(st.integers(0, sketch.MAX_BUCKET), st.integers(1, 2**20), max_size=40))
def test_encoding_bucket_counts_equals_packing_them(buckets: dict[int, int]) -> None:
    packed = sum(n << (sketch.FIELD_BITS * b) for b, n in buckets.items())
    assert sketch.decode(sketch.encode_counts(buckets)) == packed


counts_by_bucket = st.dictionaries(
    st.integers(0, sketch.MAX_BUCKET), st.integers(1, 2**32 - 1), max_size=30
)


@given(
    st.lists(
        st.one_of(counts_by_bucket, st.dictionaries(st.integers(0, 40), st.integers(1, 255))),
        max_size=600,
    )
)
def test_total_equals_adding_the_decoded_histograms(histograms: list[dict[int, int]]) -> None:
    # Many one-byte histograms (past the 16-bit batch size), mixed with wide ones.
    stored = [sketch.encode_counts(h) for h in histograms]
    expected = sum(sketch.decode(s) for s in stored)
    assert sketch.total(stored) == expected
    assert sketch.total([*stored, b"", None]) == expected


def test_total_of_many_full_one_byte_fields_does_not_carry() -> None:
    # 600 histograms with 255 in the same buckets: past 16 bits, so the batch must widen.
    stored = [sketch.encode_counts({7: 255, 300: 255})] * 600
    summary = sketch.Summary(sketch.total(stored))
    assert summary.n == 2 * 600 * 255
    assert list(sketch.counts(sketch.total(stored)))[7] == 600 * 255
