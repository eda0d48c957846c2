"""Field types shared by the schemas of several packages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

from .errors import custom_error

# Times and dates a clinic can mean: a birth, an appointment, a record's whole life. Beyond
# these, arithmetic on them (a day later, a time zone away) would leave what a date can hold.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199


def _iso_only(value: Any) -> Any:
    # pydantic would read "0.5" as a Unix timestamp; the API speaks ISO-8601 only.
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise custom_error("datetime_iso", "must be an ISO-8601 date-time with offset")
    return value


def _out_of_range() -> Exception:
    return custom_error(
        "year_out_of_range",
        "must be between the years {earliest_year} and {latest_year}",
        earliest_year=EARLIEST_YEAR,
        latest_year=LATEST_YEAR,
    )


def _in_range_time(value: datetime) -> datetime:
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = value.year
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise _out_of_range()
    return value


def _in_range_date(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise _out_of_range()
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_range_time)]
"""A date-time with its offset, in ISO-8601, within the years a clinic can mean."""

ClinicalDate = Annotated[date, AfterValidator(_in_range_date)]
"""A calendar date within the years a clinic can mean."""

Phone = Annotated[str, StringConstraints(pattern=r"^\+?\d{6,15}$")]
"""A phone number a message can reach: digits, an optional leading +."""

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
    ),
]
"""An e-mail address a message can reach."""
