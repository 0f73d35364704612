"""Teacher absences: report, approve, cancel, list (PRODUCT.md §2.6).

An approved absence turns every live session of the teacher inside it into a cover need.
Teachers report their own absences (approved at once unless the institution requires
approval); admins report anybody's (approved at once) and approve or cancel any.
Cancelling withdraws the open offers, takes back the covers and restores the sessions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.absences import Absence, AbsenceKind, AbsenceStatus
from ams_core.domain.cover_needs import CoverNeed, NeedStatus
from ams_core.domain.errors import FieldProblem, NotFoundError, ValidationError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import AbsenceId, FacultyId
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import Slice, UnitOfWork
from ams_core.use_cases._access import require_admin, require_faculty, tenant_of
from ams_core.use_cases._cover import absence_needs, is_live, parse_choice, release_need


def _acting_for(actor: Principal, faculty_id: FacultyId | None) -> FacultyId:
    """Admins act for anybody they name; teachers only for themselves (another teacher's
    absence is simply not found).
    """
    if actor.is_admin:
        if faculty_id is None:
            raise ValidationError([FieldProblem("facultyId", "name the absent teacher")])
        return faculty_id
    own = require_faculty(actor)
    if faculty_id is not None and faculty_id != own:
        raise NotFoundError("faculty", faculty_id)
    return own


def _visible(actor: Principal, absence: Absence) -> bool:
    return actor.is_admin or (actor.is_faculty and actor.faculty_id == absence.faculty_id)


@dataclass(frozen=True, slots=True)
class ReportAbsenceCommand:
    """A teacher reports their own absence, or an admin records one for a teacher."""

    actor: Principal
    start: datetime
    end: datetime
    type: str
    faculty_id: FacultyId | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class AbsenceResult:
    """The absence and the cover needs it made (none while it waits for approval)."""

    absence: Absence
    cover_needs: tuple[CoverNeed, ...]


class ReportAbsence:
    """Record an absence and, when it is effective, make its cover needs."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: ReportAbsenceCommand) -> AbsenceResult:
        """Store the absence and its needs in one transaction.

        Raises:
            ValidationError: unknown type, start not before end, longer than 92 days,
                instants without an offset, an admin naming no teacher.
            NotFoundError: no such teacher in the institution (or another teacher's id).
            PermissionDeniedError: neither a teacher nor an admin.
        """
        institution_id = tenant_of(command.actor)
        faculty_id = _acting_for(command.actor, command.faculty_id)
        kind = parse_choice(AbsenceKind, command.type, "type")
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            uow.faculty.get(faculty_id)
            waits = institution.settings.cover.approval_required and not command.actor.is_admin
            absence = Absence(
                id=AbsenceId(self._random.new_id()),
                institution_id=institution_id,
                faculty_id=faculty_id,
                starts_at=command.start,
                ends_at=command.end,
                kind=kind,
                status=AbsenceStatus.REPORTED if waits else AbsenceStatus.APPROVED,
                reported_at=now,
                reported_by=command.actor.email,
                note=command.note.strip(),
                decided_at=None if waits else now,
                decided_by=None if waits else command.actor.email,
            )
            uow.absences.add(absence)
            needs: list[CoverNeed] = []
            if absence.is_effective:
                needs = absence_needs(uow, institution, absence, now=now, random=self._random)
            uow.commit()
        return AbsenceResult(absence, tuple(needs))


@dataclass(frozen=True, slots=True)
class DecideAbsenceCommand:
    """An admin approves an absence, or its teacher or an admin cancels it."""

    actor: Principal
    absence_id: AbsenceId


class ApproveAbsence:
    """Approve a reported absence and make its cover needs."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: DecideAbsenceCommand) -> AbsenceResult:
        """Approve.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such absence in the institution.
            ConflictError: ``absence_cancelled`` or ``absence_already_approved``.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            absence = uow.absences.get(command.absence_id)
            absence = uow.absences.update(absence.approve(now, command.actor.email))
            needs = absence_needs(uow, institution, absence, now=now, random=self._random)
            uow.commit()
        return AbsenceResult(absence, tuple(needs))


class CancelAbsence:
    """Cancel an absence: its open offers are withdrawn, its covers taken back, its
    sessions given back to the teacher, its needs cancelled. A class the teacher misses
    under another approved absence all the same keeps its need (moved to that absence).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: DecideAbsenceCommand) -> AbsenceResult:
        """Cancel.

        Raises:
            NotFoundError: no such absence (or another teacher's).
            ConflictError: ``absence_cancelled`` when it already was.
        """
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            absence = uow.absences.get(command.absence_id)
            if not _visible(command.actor, absence):
                raise NotFoundError("absence", command.absence_id)
            absence = uow.absences.update(absence.cancel(now, command.actor.email))
            released: list[CoverNeed] = []
            for need in uow.cover_needs.list_for_absence(absence.id):
                if need.status is NeedStatus.CANCELLED:
                    continue
                if need.status is NeedStatus.COVERED and not is_live(
                    uow.sessions.get(need.session_id)
                ):
                    continue  # a class already held under cover stays on record
                still_away = next(
                    (
                        other
                        for other in uow.absences.list_overlapping(need.starts_at, need.ends_at)
                        if other.faculty_id == absence.faculty_id
                        and other.id != absence.id
                        and other.is_effective
                    ),
                    None,
                )
                if still_away is not None:
                    # the teacher is away then all the same: the need stays, under that absence
                    uow.cover_needs.update(dataclasses.replace(need, absence_id=still_away.id))
                    continue
                release_need(uow, institution, need, now=now, random=self._random)
                released.append(uow.cover_needs.update(need.cancelled(now)))
            uow.commit()
        return AbsenceResult(absence, tuple(released))


@dataclass(frozen=True, slots=True)
class GetAbsenceCommand:
    """Read one absence with its needs."""

    actor: Principal
    absence_id: AbsenceId


class GetAbsence:
    """One absence and its cover needs: its teacher or an admin."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: GetAbsenceCommand) -> AbsenceResult:
        """Read.

        Raises:
            NotFoundError: no such absence, or another teacher's.
        """
        institution_id = tenant_of(command.actor)
        with self._uow.for_institution(institution_id) as uow:
            absence = uow.absences.get(command.absence_id)
            if not _visible(command.actor, absence):
                raise NotFoundError("absence", command.absence_id)
            needs = tuple(uow.cover_needs.list_for_absence(absence.id))
        return AbsenceResult(absence, needs)


@dataclass(frozen=True, slots=True)
class ListAbsencesCommand:
    """A page of absences; teachers see only their own."""

    actor: Principal
    limit: int = 50
    offset: int = 0
    faculty_id: FacultyId | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None


class ListAbsences:
    """Absences newest first: an admin's whole institution, a teacher's own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: ListAbsencesCommand) -> Slice[Absence]:
        """Read a page.

        Raises:
            ValidationError: unknown status.
            PermissionDeniedError: neither a teacher nor an admin.
        """
        institution_id = tenant_of(command.actor)
        faculty_id = (
            command.faculty_id if command.actor.is_admin else require_faculty(command.actor)
        )
        status = None
        if command.status is not None:
            status = parse_choice(AbsenceStatus, command.status, "status")
        with self._uow.for_institution(institution_id) as uow:
            return uow.absences.page(
                command.limit,
                command.offset,
                faculty_id=faculty_id,
                status=status,
                start=command.start,
                end=command.end,
            )
