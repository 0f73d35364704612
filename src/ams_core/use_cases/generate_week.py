"""Generate week: expand the weekly timetable into dated sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ams_core.domain.calendar import DateRange, IsoWeek
from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import InstitutionId, SessionId
from ams_core.domain.institution import Institution
from ams_core.domain.sessions import ClassSession
from ams_core.domain.timetable import plan_sessions
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, target_institution
from ams_core.use_cases._cover import needs_for_sessions

MAX_GENERATION_DAYS = 366


@dataclass(frozen=True, slots=True)
class GenerateWeekCommand:
    """Generate the sessions of ``dates`` (use :meth:`for_week` for an ISO week)."""

    actor: Principal
    dates: DateRange
    institution_id: InstitutionId | None = None

    @classmethod
    def for_week(
        cls, actor: Principal, week: IsoWeek | str, institution_id: InstitutionId | None = None
    ) -> GenerateWeekCommand:
        """Build the command for one ISO week such as ``2026-W47``."""
        iso = IsoWeek.parse(week) if isinstance(week, str) else week
        return cls(actor, iso.dates, institution_id)


@dataclass(frozen=True, slots=True)
class GenerateWeekResult:
    """What generation did, per (slot, date) pair."""

    created: int
    already_present: int
    skipped_holidays: int
    skipped_outside_term: int


class GenerateWeek:
    """Create the missing sessions of a week; running it twice changes nothing. A new
    session inside an approved absence of its teacher becomes a cover need at once.
    """

    def __init__(self, uow: UnitOfWork, random: RandomSource, clock: Clock | None = None) -> None:
        self._uow = uow
        self._random = random
        self._clock = clock

    def __call__(self, command: GenerateWeekCommand) -> GenerateWeekResult:
        """Generate, skipping holidays and dates outside every term.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            ValidationError: the range is longer than a year.
        """
        require_admin(command.actor)
        institution_id = target_institution(command.actor, command.institution_id)
        if len(command.dates) > MAX_GENERATION_DAYS:
            raise ValidationError(
                [FieldProblem("dates", f"generate at most {MAX_GENERATION_DAYS} days at once")]
            )
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            plan = plan_sessions(
                dates=command.dates,
                slots=uow.slots.list(),
                assignments={a.id: a for a in uow.assignments.list()},
                terms=uow.terms.list(),
                holidays={h.date for h in uow.holidays.list(command.dates)},
                existing=uow.sessions.generated_keys(command.dates),
                new_id=lambda: SessionId(self._random.new_id()),
            )
            if plan.to_create:
                uow.sessions.add_many(plan.to_create)
                self._cover_absences(uow, institution, plan.to_create)
            uow.commit()
        return GenerateWeekResult(
            created=len(plan.to_create),
            already_present=plan.already_present,
            skipped_holidays=plan.skipped_holidays,
            skipped_outside_term=plan.skipped_outside_term,
        )

    def _cover_absences(
        self, uow: UnitOfWork, institution: Institution, created: Sequence[ClassSession]
    ) -> None:
        tz = institution.tz
        start = min(s.starts_at(tz) for s in created)
        end = max(s.ends_at(tz) for s in created)
        absences = [a for a in uow.absences.list_overlapping(start, end) if a.is_effective]
        if not absences:
            return
        # a library caller without a clock still gets needs, stamped with the real time
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)
        for absence in absences:
            mine = [s for s in created if s.teacher_id == absence.faculty_id]
            needs_for_sessions(uow, institution, absence, mine, now=now, random=self._random)
