"""Cover analytics (PRODUCT.md §2.6): aggregate figures, not surveillance.

Fill rate by day and by lead time (how long before the class the need arose), the needs
left uncovered, and how the covers of a window spread over the teachers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ams_core.domain.cover_needs import CoverNeed, NeedStatus
from ams_core.domain.cover_plans import MAX_PLAN_DAYS
from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import FacultyId
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, tenant_of

MAX_ANALYTICS_DAYS = 12 * MAX_PLAN_DAYS

#: lead-time buckets: (label, from hours inclusive, to hours exclusive or None)
LEAD_TIME_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 1 day", 0, 24),
    ("1 to 3 days", 24, 72),
    ("3 to 7 days", 72, 168),
    ("7 days or more", 168, None),
)


def fill_rate(covered: int, needs: int) -> Decimal | None:
    """Covered needs as a percentage with one decimal; ``None`` without needs."""
    if needs == 0:
        return None
    return (Decimal(100) * covered / needs).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class FillFigures:
    """Needs, how many were covered, and the fill rate (percent)."""

    needs: int
    covered: int

    @property
    def uncovered(self) -> int:
        """Needs not covered (open, offered or escalated)."""
        return self.needs - self.covered

    @property
    def fill_rate(self) -> Decimal | None:
        """Covered as a percentage of the needs."""
        return fill_rate(self.covered, self.needs)

    @classmethod
    def of(cls, needs: list[CoverNeed]) -> FillFigures:
        """Count the needs given."""
        return cls(len(needs), sum(1 for n in needs if n.status is NeedStatus.COVERED))


@dataclass(frozen=True, slots=True)
class DayFill:
    """The fill figures of one day's classes."""

    day: date
    figures: FillFigures


@dataclass(frozen=True, slots=True)
class LeadTimeFill:
    """The fill figures of the needs that arose within a lead-time bucket."""

    label: str
    from_hours: int
    to_hours: int | None
    figures: FillFigures


@dataclass(frozen=True, slots=True)
class TeacherLoad:
    """How many covers one teacher held in the window."""

    faculty_id: FacultyId
    name: str
    covers: int


@dataclass(frozen=True, slots=True)
class CoverAnalyticsReport:
    """Everything for ``first_day``..``last_day``; cancelled needs are left out.

    ``load`` lists every teacher with their covers (most first, then by id);
    ``load_distribution`` maps a number of covers to how many teachers held that many.
    """

    first_day: date
    last_day: date
    total: FillFigures
    by_day: tuple[DayFill, ...]
    by_lead_time: tuple[LeadTimeFill, ...]
    uncovered: tuple[CoverNeed, ...]
    load: tuple[TeacherLoad, ...]
    load_distribution: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class CoverAnalyticsCommand:
    """The window to report on (local dates, inclusive)."""

    actor: Principal
    first_day: date
    last_day: date


def _bucket(need: CoverNeed) -> int:
    hours = (need.starts_at - need.created_at) / timedelta(hours=1)
    for index, (_label, low, high) in enumerate(LEAD_TIME_BUCKETS):
        if hours >= low and (high is None or hours < high):
            return index
    return 0  # a need made after its class started counts as the shortest lead time


class CoverAnalytics:
    """Fill rate by day and lead time, uncovered needs and cover load (admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: CoverAnalyticsCommand) -> CoverAnalyticsReport:
        """Compute the report.

        Raises:
            PermissionDeniedError: not an admin.
            ValidationError: ``to`` before ``from``, or a window over 372 days.
        """
        require_admin(command.actor)
        first, last = command.first_day, command.last_day
        if first > last:
            raise ValidationError([FieldProblem("to", "must not be before from")])
        if (last - first).days >= MAX_ANALYTICS_DAYS:
            raise ValidationError(
                [FieldProblem("to", f"a report spans at most {MAX_ANALYTICS_DAYS} days")]
            )
        institution_id = tenant_of(command.actor)
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            live = [s for s in NeedStatus if s is not NeedStatus.CANCELLED]
            needs = list(uow.cover_needs.list_between(first, last, live))
            tz = institution.tz
            start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
            end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
            counts = uow.covers.count_by_substitute(start, end)
            teachers = uow.faculty.list()
        by_day: dict[date, list[CoverNeed]] = {}
        buckets: list[list[CoverNeed]] = [[] for _ in LEAD_TIME_BUCKETS]
        for need in needs:
            by_day.setdefault(need.day, []).append(need)
            buckets[_bucket(need)].append(need)
        load = sorted(
            (TeacherLoad(t.id, t.name, counts.get(t.id, 0)) for t in teachers),
            key=lambda entry: (-entry.covers, entry.faculty_id),
        )
        distribution = Counter(entry.covers for entry in load)
        return CoverAnalyticsReport(
            first_day=first,
            last_day=last,
            total=FillFigures.of(needs),
            by_day=tuple(DayFill(day, FillFigures.of(by_day[day])) for day in sorted(by_day)),
            by_lead_time=tuple(
                LeadTimeFill(label, low, high, FillFigures.of(bucket))
                for (label, low, high), bucket in zip(LEAD_TIME_BUCKETS, buckets, strict=True)
            ),
            uncovered=tuple(n for n in needs if n.status is not NeedStatus.COVERED),
            load=tuple(load),
            load_distribution=tuple(sorted(distribution.items())),
        )
