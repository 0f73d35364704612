"""Reading one spreadsheet cell as a value of the domain, or saying what is wrong with it.

Each reader takes the cell as the workbook reader gave it (text, a number, a date, a time,
a boolean or ``None``) and returns the value or raises :class:`CellError` with a message
meant for the person who filled the sheet in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

#: a cell as a workbook reader gives it: formulas arrive as their stored value, never evaluated
CellValue = str | int | float | bool | date | datetime | time | timedelta | None

#: the legacy batch codes (E1 … E4) and the year they stand for
_BATCH = re.compile(r"^[Ee](\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([AaPp][Mm])?$")
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday", "mo"),
            ("tue", "tues", "tuesday", "tu"),
            ("wed", "wednesday", "we"),
            ("thu", "thur", "thurs", "thursday", "th"),
            ("fri", "friday", "fr"),
            ("sat", "saturday", "sa"),
            ("sun", "sunday", "su"),
        ),
        start=1,
    )
    for name in names
}
#: C0 and C1 controls (line breaks and tabs included), DEL, and unpaired surrogates
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


class CellError(ValueError):
    """A cell that cannot be read as the value its column needs."""


def is_blank(value: CellValue) -> bool:
    """Whether a cell holds nothing (or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: CellValue, max_length: int) -> str:
    """A cell as trimmed text of at most ``max_length`` characters (numbers without ``.0``),
    without control characters or line breaks (joiners and other format characters of
    names in many scripts are kept).
    """
    if type(value) is str:  # the common case: no conversion
        result = value.strip()
    elif isinstance(value, bool):
        raise CellError("must be text, not TRUE/FALSE")
    elif isinstance(value, datetime | date | time | timedelta):
        raise CellError("must be text, not a date or time")
    elif isinstance(value, float) and value.is_integer():
        result = str(int(value))
    else:
        result = "" if value is None else str(value).strip()
    if len(result) > max_length:
        raise CellError(f"must be at most {max_length} characters (has {len(result)})")
    if _CONTROL.search(result):
        raise CellError("must not contain control characters or line breaks")
    return result


def whole_number(value: CellValue, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (a number cell or digits in a text cell)."""
    number: int
    if isinstance(value, bool):
        raise CellError("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"must be a whole number, not {value:g}")
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value.strip())
    else:
        raise CellError(f"must be a whole number, not {_shown(value)}")
    if not low <= number <= high:
        raise CellError(f"must be {low} to {high}, not {number}")
    return number


def year_of_study(value: CellValue) -> int:
    """A year of study: 1–12, or a batch code ``E1`` … ``E12`` as the legacy files write it."""
    if isinstance(value, str) and (match := _BATCH.match(value.strip())):
        value = int(match.group(1))
    try:
        return whole_number(value, 1, 12)
    except CellError:
        message = f"must be a year 1 to 12 or a batch code E1 to E12, not {_shown(value)}"
        raise CellError(message) from None


def weekday(value: CellValue) -> int:
    """A weekday as 1 (Monday) … 7 (Sunday), from a name (``MON``, ``Monday``) or number."""
    if isinstance(value, str):
        found = _WEEKDAYS.get(value.strip().lower().rstrip("."))
        if found is not None:
            return found
    try:
        return whole_number(value, 1, 7)
    except CellError:
        raise CellError(f"must be a weekday (MON … SUN or 1 … 7), not {_shown(value)}") from None


def time_of_day(value: CellValue) -> time:
    """A time of day from a time cell, ``HH:MM`` text (``2:30 PM`` too) or a day fraction."""
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0)
    if isinstance(value, timedelta) and timedelta(0) <= value < timedelta(days=1):
        seconds = int(value.total_seconds())
        return time(seconds // 3600, seconds % 3600 // 60)
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return time(minutes // 60 % 24, minutes % 60)
    if isinstance(value, str) and (match := _TIME.match(value.strip())):
        hour, minute = int(match.group(1)), int(match.group(2))
        half = (match.group(4) or "").lower()
        if half and not 1 <= hour <= 12:
            raise CellError(f"{value.strip()!r} is not a time")
        if half == "pm" and hour != 12:
            hour += 12
        elif half == "am" and hour == 12:
            hour = 0
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    raise CellError(f"must be a time such as 08:30, not {_shown(value)}")


def calendar_date(value: CellValue) -> date:
    """A date from a date cell or ISO text (``2026-12-25``); day-first text is refused as
    ambiguous.
    """
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise CellError("must be a date without a time of day")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CellError(f"must be a date (a date cell or YYYY-MM-DD), not {_shown(value)}")


def yes_no(value: CellValue) -> bool:
    """A yes/no cell: TRUE/FALSE, yes/no, y/n, 1/0, x or empty."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise CellError(f"must be yes or no, not {_shown(value)}")


def code_list(value: CellValue, max_length: int) -> tuple[str, ...]:
    """Codes separated by commas, semicolons or spaces (``CS101, CS102``), in order, once."""
    raw = text(value, 2_000)
    codes: list[str] = []
    for code in re.split(r"[,;\s]+", raw):
        if not code:
            continue
        if len(code) > max_length:
            raise CellError(f"{code!r} is longer than {max_length} characters")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _shown(value: CellValue) -> str:
    if isinstance(value, str):
        shown = value.strip()
        return repr(shown if len(shown) <= 40 else shown[:37] + "...")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "an empty cell" if value is None else str(value)
