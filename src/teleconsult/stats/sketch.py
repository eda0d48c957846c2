# Why this and not the ddsketch library: ddsketch cannot subtract, which rollups need (a
# consultation's change is its new contribution less its old one; a range is month rows less
# the days outside it), it reads a quantile at rank q*(n-1) rather than the nearest rank whose
# bound the tests check, and merging the histograms of a year's rollups with it made the
# uncached statistics report miss its bar several times over, on every dashboard view after
# a booking (measured; figures in docs/performance.md).

"""A log-bucketed histogram packed into one integer, so merging two is one addition.

Durations (seconds) fall into geometric buckets: bucket 0 holds values below one second,
bucket ``i >= 1`` holds ``(γ^(i-2), γ^(i-1)]`` with ``γ = (1 + α) / (1 - α)``. A bucket is
reported as ``2·γ^(i-1) / (γ + 1)``, which is within ``α`` (relative) of every value in it
(the DDSketch construction). Quantiles use the nearest-rank definition (the ``⌈q·n⌉``-th
smallest value), so the bucket holding the estimate is exactly the bucket holding the true
value, and the stated bound holds for every quantile:

    |estimate − exact| ≤ max(α · exact, 1 second),   α = RELATIVE_ERROR = 2%.

Each bucket is a 32-bit field of a Python integer (bucket ``i`` at bit ``32·i``). Adding two
packed integers adds every bucket at once, with no carries while each count stays below
2³², which is why any number of rollup rows merge in one pass of additions.
Stored form: two bytes giving the first non-empty bucket, one byte giving the field width
(1, 2 or 4 bytes, the narrowest that holds every count), then the fields from there on.
:func:`total` adds many stored histograms at once; one-byte fields, the usual case, are
first added 16 bits apart, which halves the bytes handled per histogram.
"""

from __future__ import annotations

import math
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from fractions import Fraction
from itertools import accumulate

RELATIVE_ERROR = 0.02
ABSOLUTE_ERROR_SECONDS = 1.0
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(GAMMA)
FIELD_BITS = 32
# Ten years in seconds: anything longer is clamped (it is a data error, not a waiting time).
MAX_SECONDS = 10 * 365 * 86400
MAX_BUCKET = math.ceil(math.log(MAX_SECONDS) / _LOG_GAMMA) + 1
MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)


def bucket_of(seconds: float) -> int:
    """The bucket index of a duration; negative durations (clock skew) count as zero."""
    if seconds < 1:
        return 0
    seconds = min(seconds, MAX_SECONDS)
    return math.ceil(math.log(seconds) / _LOG_GAMMA) + 1


def bucket_value(bucket: int) -> float:
    """The value reported for a bucket."""
    if bucket == 0:
        return 0.5
    return 2 * GAMMA ** (bucket - 1) / (GAMMA + 1)


def one(seconds: float) -> int:
    """The packed histogram of a single duration."""
    return 1 << (FIELD_BITS * bucket_of(seconds))


def _stored(lowest: int, fields: array[int]) -> bytes:
    # Each field is written 1, 2 or 4 bytes wide, whichever holds the largest count: a
    # day's histogram is mostly ones, so it is a quarter of the 32-bit size.
    top = max(fields)
    width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4
    narrow = array({1: "B", 2: "H", 4: "I"}[width], fields)
    if sys.byteorder == "big":
        narrow.byteswap()
    return lowest.to_bytes(2, "little") + bytes((width,)) + narrow.tobytes()


def encode_counts(buckets: Mapping[int, int]) -> bytes:
    """The stored form of bucket counts, built field by field (no big-integer shifts)."""
    if not buckets:
        return b""
    lowest = min(buckets)
    fields = array("I", bytes(4 * (max(buckets) - lowest + 1)))
    for b, n in buckets.items():
        fields[b - lowest] += n
    return _stored(lowest, fields)


def encode(packed: int) -> bytes:
    """Stored form: the first non-empty bucket (2 bytes), the field width (1 byte), then
    the fields from there on, little-endian."""
    if packed < 0:
        raise ValueError("a histogram never holds negative counts")
    if packed == 0:
        return b""
    lowest = ((packed & -packed).bit_length() - 1) // FIELD_BITS
    return _stored(lowest, counts(packed >> (FIELD_BITS * lowest)))


def decode(stored: bytes | None) -> int:
    """The packed histogram of a stored one; widening is done by strided byte copies."""
    if not stored:
        return 0
    width = stored[2]
    body = stored[3:]
    if width == 4:
        value = int.from_bytes(body, "little")
    else:
        spread = bytearray(len(body) * (4 // width))
        if width == 1:
            spread[0::4] = body
        else:
            spread[0::4] = body[0::2]
            spread[1::4] = body[1::2]
        value = int.from_bytes(spread, "little")
    return value << (FIELD_BITS * (stored[0] | stored[1] << 8))


# 257 one-byte fields (each at most 255) add up to at most 65,535: 16 bits hold them.
_NARROW_BATCH = 257


def _widen16(packed16: int) -> int:
    """16-bit fields → the 32-bit fields of a packed histogram."""
    if not packed16:
        return 0
    raw = packed16.to_bytes((packed16.bit_length() + 15) // 16 * 2, "little")
    spread = bytearray(2 * len(raw))
    spread[0::4] = raw[0::2]
    spread[1::4] = raw[1::2]
    return int.from_bytes(spread, "little")


def total(stored: Iterable[bytes | None]) -> int:
    """The packed sum of stored histograms: ``sum(decode(s) for s in stored)``."""
    wide = 0
    narrow = 0
    pending = 0
    from_bytes = int.from_bytes
    for s in stored:
        if not s:
            continue
        if s[2] != 1:
            wide += decode(s)
            continue
        offset = 2 * (s[0] | s[1] << 8)
        spread = bytearray(offset + 2 * (len(s) - 3))
        spread[offset::2] = s[3:]
        narrow += from_bytes(spread, "little")
        pending += 1
        if pending == _NARROW_BATCH:
            wide += _widen16(narrow)
            narrow = pending = 0
    return wide + _widen16(narrow)


def counts(packed: int) -> array[int]:
    """Per-bucket counts of a packed histogram."""
    fields = (packed.bit_length() + FIELD_BITS - 1) // FIELD_BITS
    out = array("I")
    assert out.itemsize * 8 == FIELD_BITS
    out.frombytes(packed.to_bytes(fields * 4, "little"))
    if sys.byteorder == "big":
        out.byteswap()
    return out


def nearest_rank(n: int, q: Fraction) -> int:
    """The 1-based rank of quantile ``q`` among ``n`` values: ``max(1, ⌈q·n⌉)``."""
    return max(1, -(-q.numerator * n // q.denominator))


class Summary:
    """Quantiles of one merged histogram."""

    __slots__ = ("cumulative", "lowest", "n")

    def __init__(self, packed: int) -> None:
        # From the first non-empty bucket on: waits and durations start well above zero.
        self.lowest = ((packed & -packed).bit_length() - 1) // FIELD_BITS if packed else 0
        self.cumulative = list(accumulate(counts(packed >> (FIELD_BITS * self.lowest))))
        self.n = self.cumulative[-1] if self.cumulative else 0

    def quantile(self, q: Fraction) -> float | None:
        if self.n == 0:
            return None
        rank = nearest_rank(self.n, q)
        return bucket_value(self.lowest + bisect_left(self.cumulative, rank))
