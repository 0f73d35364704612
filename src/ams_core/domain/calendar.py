"""Calendar value objects: date ranges and ISO weeks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ams_core.domain.errors import FieldProblem, ValidationError

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


@dataclass(frozen=True, slots=True)
class DateRange:
    """An inclusive range of dates."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValidationError([FieldProblem("to", "must not be before 'from'")])

    def __iter__(self) -> Iterator[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)

    def __len__(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    """An ISO 8601 week such as ``2026-W47`` (Monday to Sunday)."""

    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError:
            raise ValidationError(
                [FieldProblem("iso_week", f"{self.year}-W{self.week:02d} is not an ISO week")]
            ) from None

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse ``2026-W47`` (or ``2026W47``)."""
        match = _ISO_WEEK.match(text.strip())
        if match is None:
            raise ValidationError([FieldProblem("iso_week", f"{text!r} is not like 2026-W47")])
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        """Return the ISO week that contains ``day``."""
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @property
    def dates(self) -> DateRange:
        """Monday to Sunday of the week."""
        monday = date.fromisocalendar(self.year, self.week, 1)
        return DateRange(monday, monday + timedelta(days=6))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
