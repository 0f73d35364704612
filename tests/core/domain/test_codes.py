"""Properties of the rotating six-digit check-in codes (PRODUCT.md §2.4)."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from hypothesis import assume, example, given
from hypothesis import strategies as st

from ams_core.domain.codes import (
    code_for_step,
    code_matches,
    current_code,
    is_well_formed,
)

SIX_ASCII_DIGITS = re.compile(r"[0-9]{6}")

secrets = st.binary(min_size=1, max_size=64)
rotations = st.integers(min_value=1, max_value=300)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds of a strategy, made aware below
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def _is_six_ascii_digits(text: str) -> bool:
    return SIX_ASCII_DIGITS.fullmatch(text) is not None


# -- acceptance window -------------------------------------------------------------------


@given(secret=secrets, rotation=rotations, at=instants)
def test_the_code_on_screen_is_accepted(secret: bytes, rotation: int, at: datetime) -> None:
    code = current_code(secret, at, rotation)

    assert code_matches(secret, code, at, rotation)


@given(
    secret=secrets,
    rotation=rotations,
    at=instants,
    later=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_a_code_stays_accepted_until_its_step_ends(
    secret: bytes, rotation: int, at: datetime, later: float
) -> None:
    seconds = int(at.timestamp())
    step_start = datetime.fromtimestamp(seconds - seconds % rotation, tz=UTC)
    inside = step_start + timedelta(seconds=int(later * rotation))

    assert current_code(secret, inside, rotation) == current_code(secret, at, rotation)
    assert code_matches(secret, current_code(secret, step_start, rotation), inside, rotation)


@example(secret=b"k", rotation=30, at=datetime(1970, 1, 1, 0, 0, 45, tzinfo=UTC))  # step 1
@given(secret=secrets, rotation=rotations, at=instants)
def test_the_code_of_the_previous_step_is_still_accepted(
    secret: bytes, rotation: int, at: datetime
) -> None:
    shown_before = current_code(secret, at - timedelta(seconds=rotation), rotation)

    assert code_matches(secret, shown_before, at, rotation)


@given(secret=secrets, rotation=rotations, at=instants)
def test_a_code_two_steps_old_is_rejected(secret: bytes, rotation: int, at: datetime) -> None:
    old = current_code(secret, at, rotation)
    two_steps_later = at + timedelta(seconds=2 * rotation)
    assume(old != current_code(secret, two_steps_later, rotation))
    assume(old != current_code(secret, at + timedelta(seconds=rotation), rotation))

    assert not code_matches(secret, old, two_steps_later, rotation)


@given(secret=secrets, rotation=rotations, at=instants)
def test_the_code_of_the_next_step_is_rejected_before_it_is_shown(
    secret: bytes, rotation: int, at: datetime
) -> None:
    future = current_code(secret, at, rotation)
    one_step_earlier = at - timedelta(seconds=rotation)
    assume(future != current_code(secret, one_step_earlier, rotation))
    assume(future != current_code(secret, one_step_earlier - timedelta(seconds=rotation), rotation))

    assert not code_matches(secret, future, one_step_earlier, rotation)


@given(secret=secrets, other=secrets, rotation=rotations, at=instants)
def test_the_code_of_another_secret_is_rejected(
    secret: bytes, other: bytes, rotation: int, at: datetime
) -> None:
    assume(secret != other)
    foreign = current_code(other, at, rotation)
    assume(foreign != current_code(secret, at, rotation))
    assume(foreign != current_code(secret, at - timedelta(seconds=rotation), rotation))

    assert not code_matches(secret, foreign, at, rotation)


@given(
    secret=secrets,
    rotation=st.integers(min_value=0, max_value=300),
    at=instants,
    junk=st.text(min_size=1, max_size=3),
    before=st.booleans(),
)
def test_a_valid_code_with_anything_around_it_is_rejected(
    secret: bytes, rotation: int, at: datetime, junk: str, before: bool
) -> None:
    code = current_code(secret, at, rotation)
    padded = junk + code if before else code + junk

    assert not code_matches(secret, padded, at, rotation)


# -- shape -------------------------------------------------------------------------------


@given(secret=st.binary(max_size=64), step=st.integers(min_value=0, max_value=2**63 - 1))
def test_codes_are_always_six_ascii_digits(secret: bytes, step: int) -> None:
    code = code_for_step(secret, step)

    assert _is_six_ascii_digits(code)
    assert is_well_formed(code)


def test_codes_below_one_hundred_thousand_keep_their_leading_zeros() -> None:
    with_zero = [c for c in (code_for_step(b"leading-zeros", s) for s in range(400)) if c[0] == "0"]

    assert with_zero, "about one code in ten starts with 0; 400 steps must contain some"
    assert all(_is_six_ascii_digits(code) for code in with_zero)


# -- static codes (rotation 0) -----------------------------------------------------------


@given(secret=secrets, first=instants, second=instants)
def test_rotation_zero_shows_one_static_code_for_every_instant(
    secret: bytes, first: datetime, second: datetime
) -> None:
    code = current_code(secret, first, 0)

    assert current_code(secret, second, 0) == code
    assert code_matches(secret, code, second, 0)


@given(secret=secrets, at=instants, rotation=rotations)
def test_rotation_zero_accepts_nothing_but_its_static_code(
    secret: bytes, at: datetime, rotation: int
) -> None:
    static = current_code(secret, at, 0)
    rotating = current_code(secret, at, rotation)
    assume(rotating != static)

    assert not code_matches(secret, rotating, at, 0)


# -- well-formedness ---------------------------------------------------------------------


@example("12345")
@example("1234567")
@example("12a456")
@example("١٢٣٤٥٦")  # Arabic-Indic digits: str.isdigit() says yes, we must say no
@example("۱۲۳۴۵۶")  # Extended Arabic-Indic digits
@example("１２３４５６")  # fullwidth digits
@example("¹²³⁴⁵⁶")  # superscripts (isdigit() but not isdecimal())
@example(" 12345")
@example("12345 ")
@example("123456\n")
@example("+12345")
@example("-12345")
@example("")
@given(text=st.text(max_size=8))
def test_only_six_ascii_digits_are_well_formed(text: str) -> None:
    assert is_well_formed(text) is _is_six_ascii_digits(text)


@given(code=st.from_regex(SIX_ASCII_DIGITS, fullmatch=True))
def test_every_six_ascii_digit_string_is_well_formed(code: str) -> None:
    assert is_well_formed(code)


@given(secret=secrets, rotation=rotations, at=instants)
def test_arabic_indic_digits_of_the_right_code_are_rejected(
    secret: bytes, rotation: int, at: datetime
) -> None:
    code = current_code(secret, at, rotation)
    lookalike = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert not is_well_formed(lookalike)
    assert not code_matches(secret, lookalike, at, rotation)


# -- distribution ------------------------------------------------------------------------


def _chi_square(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


def test_leading_digits_are_roughly_uniform() -> None:
    # Deterministic: a fixed secret and fixed steps. 9 degrees of freedom; the 0.1 % critical
    # value is 27.9, so 40 only fails for a grossly skewed generator.
    secret = random.Random(20261116).randbytes(32)  # noqa: S311 - fixed test data, not a secret
    leading = [0] * 10
    trailing = [0] * 10
    for step in range(20_000):
        code = code_for_step(secret, step)
        leading[int(code[0])] += 1
        trailing[int(code[-1])] += 1

    assert _chi_square(leading) < 40, leading
    assert _chi_square(trailing) < 40, trailing
