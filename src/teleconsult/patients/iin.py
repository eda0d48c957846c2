"""The Kazakh individual identification number (IIN, ЖСН/ИИН).

Twelve digits: YYMMDD birth date, one digit for century and sex, four serial digits and a
check digit. The check digit is the weighted sum of the first eleven digits modulo 11 with
weights 1..11; when that gives 10 the weights 3..11, 1, 2 are used instead, and a second 10
means the number is never issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Seventh digit → (century start, sex).
_CENTURY_SEX = {
    "1": (1800, "male"),
    "2": (1800, "female"),
    "3": (1900, "male"),
    "4": (1900, "female"),
    "5": (2000, "male"),
    "6": (2000, "female"),
}


class IINError(ValueError):
    """Why an IIN is not valid; the message never repeats the number."""

    def __init__(self, field: str, message: str, code: str = "iin_invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_digit(first_eleven: str) -> int | None:
    digits = [int(c) for c in first_eleven]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if total == 10:
        total = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if total == 10:
            return None
    return total


@dataclass(frozen=True)
class IINInfo:
    birth_date: date
    sex: str


def parse_iin(iin: str) -> IINInfo:
    """Validate the format, check digit, birth date and century/sex digit."""
    if len(iin) != 12 or not iin.isdigit():
        raise IINError("iin", "must be exactly 12 digits", "iin_format")
    expected = check_digit(iin[:11])
    if expected is None or expected != int(iin[11]):
        raise IINError("iin", "check digit does not match", "iin_check_digit")
    century_sex = _CENTURY_SEX.get(iin[6])
    if century_sex is None:
        raise IINError("iin", "the 7th digit must be 1-6 (century and sex)")
    century, sex = century_sex
    try:
        born = date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise IINError("iin", "digits 1-6 are not a valid date") from None
    return IINInfo(birth_date=born, sex=sex)


def validate_for_person(iin: str, birth_date: date, sex: str) -> None:
    """Raise :class:`IINError` unless the IIN matches the stated birth date and sex."""
    info = parse_iin(iin)
    if info.birth_date != birth_date:
        raise IINError("birth_date", "does not match digits 1-6 of the IIN", "iin_birth_date")
    if info.sex != sex:
        raise IINError("sex", "does not match the 7th digit of the IIN", "iin_sex")


def make_iin(birth_date: date, sex: str, serial: int) -> str | None:
    """Build a valid IIN (demo data and tests); None if this serial has no check digit."""
    century = (birth_date.year // 100) * 100
    digit = {(c, s): d for d, (c, s) in _CENTURY_SEX.items()}.get((century, sex))
    if digit is None:
        raise ValueError("birth year outside 1800-2099")
    first = f"{birth_date:%y%m%d}{digit}{serial:04d}"
    check = check_digit(first)
    return None if check is None else first + str(check)
