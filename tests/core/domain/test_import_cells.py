"""Reading spreadsheet cells: what each column accepts, and that nothing else slips through."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ams_core.domain.imports import SPECS, CellError, SheetKind, match_header
from ams_core.domain.imports.cells import (
    calendar_date,
    code_list,
    text,
    time_of_day,
    weekday,
    whole_number,
    year_of_study,
    yes_no,
)
from ams_core.domain.imports.sheets import fold_header

times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(times)
def test_a_time_reads_the_same_from_a_time_cell_text_a_day_fraction_and_a_duration(
    value: time,
) -> None:
    minutes = value.hour * 60 + value.minute
    assert time_of_day(value) == value
    assert time_of_day(value.strftime("%H:%M")) == value
    assert time_of_day(minutes / (24 * 60)) == value
    assert time_of_day(timedelta(minutes=minutes)) == value
    twelve = value.strftime("%I:%M %p")
    assert time_of_day(twelve) == value


@pytest.mark.parametrize("bad", ["25:00", "12:60", "13:00 PM", "noon", True, 1.5, None])
def test_what_is_not_a_time_is_refused(bad: object) -> None:
    with pytest.raises(CellError):
        time_of_day(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "day"),
    [("MON", 1), ("Tuesday", 2), ("wed.", 3), ("THU", 4), (5, 5), ("6", 6), ("sunday", 7)],
)
def test_weekdays_are_read_from_legacy_codes_names_and_numbers(cell: object, day: int) -> None:
    assert weekday(cell) == day  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["Funday", 0, 8, "", 2.5])
def test_what_is_not_a_weekday_is_refused(bad: object) -> None:
    with pytest.raises(CellError):
        weekday(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=12))
def test_a_year_reads_the_same_as_a_number_digits_and_a_batch_code(year: int) -> None:
    assert year_of_study(year) == year_of_study(float(year)) == year_of_study(f"E{year}") == year
    assert year_of_study(str(year)) == year


@given(st.integers().filter(lambda n: not 1 <= n <= 12))
def test_a_year_outside_one_to_twelve_is_refused(year: int) -> None:
    with pytest.raises(CellError):
        year_of_study(year)


@given(st.integers(min_value=-1000, max_value=1000), st.integers(0, 100), st.integers(0, 100))
def test_a_whole_number_is_accepted_exactly_inside_its_bounds(n: int, low: int, span: int) -> None:
    high = low + span
    if low <= n <= high:
        assert whole_number(n, low, high) == whole_number(float(n), low, high) == n
    else:
        with pytest.raises(CellError):
            whole_number(n, low, high)


def test_a_fractional_number_is_not_a_whole_number() -> None:
    with pytest.raises(CellError, match="whole number"):
        whole_number(2.5, 0, 10)


@given(st.text(max_size=300))
def test_text_is_trimmed_bounded_and_free_of_control_characters(value: str) -> None:
    try:
        result = text(value, 100)
    except CellError:
        stripped = value.strip()
        assert len(stripped) > 100 or any(not c.isprintable() for c in stripped)
    else:
        assert result == value.strip()
        assert len(result) <= 100


def test_a_whole_float_reads_as_text_without_its_point_zero() -> None:
    assert text(210595.0, 20) == "210595"


def test_dates_are_read_from_date_cells_and_iso_text_but_not_ambiguous_text() -> None:
    assert calendar_date(date(2027, 1, 26)) == date(2027, 1, 26)
    assert calendar_date(datetime(2027, 1, 26, tzinfo=UTC).replace(tzinfo=None)) == date(
        2027, 1, 26
    )
    assert calendar_date("2027-01-26") == date(2027, 1, 26)
    for bad in (
        "26/01/2027",
        "01/02/2027",
        datetime(2027, 1, 26, 9, 30, tzinfo=UTC).replace(tzinfo=None),
        45000,
    ):
        with pytest.raises(CellError):
            calendar_date(bad)


def test_yes_no_and_code_lists() -> None:
    assert [yes_no(v) for v in ("Yes", "n", True, 0, "x", "")] == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    assert code_list("CS101, CS102;CS101  MA1", 10) == ("CS101", "CS102", "MA1")
    with pytest.raises(CellError):
        yes_no("maybe")


@pytest.mark.parametrize("kind", list(SheetKind))
def test_every_template_header_and_alias_finds_its_own_column(kind: SheetKind) -> None:
    spec = SPECS[kind]
    for column in spec.columns:
        for name in (column.header, *column.aliases):
            spelled = name.upper().replace(" ", "_")
            found = match_header(spec, [spelled])
            assert found.positions == {column.key: 0}, (kind, name)


def test_headers_fold_case_spaces_and_punctuation() -> None:
    assert fold_header("Roll_Number") == fold_header("roll number") == fold_header("RollNumber")
