from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleconsult.patients.iin import IINError, check_digit, make_iin, parse_iin, validate_for_person


def test_known_valid_number_parses() -> None:
    # 1985-04-12, 7th digit 4 = a woman born in the 1900s; serial 0123.
    iin = make_iin(date(1985, 4, 12), "female", 123)
    assert iin is not None and iin.startswith("8504124")
    info = parse_iin(iin)
    assert info.birth_date == date(1985, 4, 12)
    assert info.sex == "female"


def test_second_weight_set_is_used_when_first_sum_gives_ten() -> None:
    # Find a prefix whose first weighted sum is 10 mod 11 and check the documented fallback.
    for serial in range(10000):
        prefix = f"9001013{serial:04d}"
        first = sum(int(d) * w for d, w in zip(prefix, range(1, 12), strict=True)) % 11
        if first == 10:
            second = (
                sum(
                    int(d) * w
                    for d, w in zip(prefix, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True)
                )
                % 11
            )
            assert check_digit(prefix) == (None if second == 10 else second)
            return
    pytest.fail("no prefix with a first sum of 10 found")


@pytest.mark.parametrize(
    ("iin", "field"),
    [
        ("12345", "iin"),
        ("85041240012a", "iin"),
        ("850412400000", "iin"),  # wrong check digit
    ],
)
def test_malformed_numbers_name_the_field(iin: str, field: str) -> None:
    with pytest.raises(IINError) as err:
        parse_iin(iin)
    assert err.value.field == field
    assert iin not in str(err.value)


def test_impossible_date_and_century_digit_are_refused() -> None:
    # Build numbers with a correct check digit but a bad date or 7th digit.
    for body in ("8513124" + "0001", "8504127" + "0001", "8502304" + "0001"):
        check = check_digit(body)
        if check is None:
            continue
        with pytest.raises(IINError):
            parse_iin(body + str(check))


def test_birth_date_and_sex_must_match() -> None:
    iin = make_iin(date(2003, 2, 1), "male", 55)
    assert iin is not None
    validate_for_person(iin, date(2003, 2, 1), "male")
    with pytest.raises(IINError) as err:
        validate_for_person(iin, date(2003, 2, 2), "male")
    assert err.value.field == "birth_date"
    with pytest.raises(IINError) as err:
        validate_for_person(iin, date(2003, 2, 1), "female")
    assert err.value.field == "sex"


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
    serial=st.integers(0, 9999),
)
def test_every_generated_number_round_trips(born: date, sex: str, serial: int) -> None:
    iin = make_iin(born, sex, serial)
    if iin is None:
        return
    info = parse_iin(iin)
    assert (info.birth_date, info.sex) == (born, sex)
    # Any single-digit change in the check digit is caught.
    wrong = iin[:11] + str((int(iin[11]) + 1) % 10)
    with pytest.raises(IINError):
        parse_iin(wrong)
