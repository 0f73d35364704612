"""What the read-side use cases share: the period reports cover, and local time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from ams_core.domain.calendar import DateRange
from ams_core.domain.institution import Institution
from ams_core.domain.teaching import Term

_ALL_TIME = DateRange(date(1970, 1, 1), date(9999, 12, 31))


def reporting_period(terms: Sequence[Term], today: date) -> tuple[Term | None, DateRange]:
    """The term reports cover: the one containing ``today``, else the latest one that has
    already started, else (no term at all) all time.
    """
    started = [t for t in terms if t.start <= today]
    current = [t for t in started if t.contains(today)]
    chosen = current[-1] if current else (max(started, key=lambda t: t.end) if started else None)
    if chosen is None:
        return None, _ALL_TIME
    return chosen, DateRange(chosen.start, chosen.end)


def local_now(institution: Institution, now: datetime) -> datetime:
    """``now`` in the institution's own time zone."""
    return now.astimezone(institution.tz)
