"""Import a workbook: check every row of every sheet, then write all of it or nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from ams_core.domain.identity import Principal
from ams_core.domain.ids import FacultyId, InstitutionId, StudentId, SubjectCode
from ams_core.domain.imports import ImportReport, ProblemLog, SheetKind
from ams_core.domain.people import Faculty, Student
from ams_core.domain.teaching import Holiday, Subject, TeachingAssignment, Term, WeeklySlot
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.ports.workbooks import WorkbookLimits, WorkbookReader
from ams_core.use_cases._access import require_admin, target_institution
from ams_core.use_cases.imports.catalogue_sheets import check_holidays, check_subjects, check_terms
from ams_core.use_cases.imports.people_sheets import check_faculty, check_students
from ams_core.use_cases.imports.sheet_input import SheetInput, locate_sheets
from ams_core.use_cases.imports.state import ImportDefaults, ImportState, Records, Sections
from ams_core.use_cases.imports.teaching_sheets import (
    AssignmentKey,
    SlotKey,
    check_assignments,
    check_timetable,
)

log = logging.getLogger("ams.imports")

#: ``progress(phase, done, total)``: how far an import is (the CLI draws a bar from it)
ImportProgress = Callable[[str, int, int], None]


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector, and resume it if it ran before.

    A workbook becomes about ten objects per row that all live until the import ends and
    form no reference cycles; the collector would only walk them again and again (measured
    on 20,000 rows: 0.39-0.50 s with it, 0.37-0.40 s without). Reference counting still
    frees everything as usual; a concurrent import may resume it a moment early.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class ImportWorkbookCommand:
    """Import the workbook in ``data`` (``.xlsx`` bytes).

    ``dry_run`` checks everything and reports what would change without writing;
    ``defaults`` stand in for missing Year and Department columns (the legacy upload forms);
    ``kind`` names what a one-sheet upload holds when its sheet name does not say;
    ``deactivate_missing`` treats the Students and Faculty sheets as full rosters: an active
    student of a section the workbook lists, or a teacher of a department it lists, who is
    not in it is deactivated (history kept; importing them again activates them).
    """

    actor: Principal
    data: bytes
    dry_run: bool = False
    defaults: ImportDefaults = field(default_factory=ImportDefaults)
    kind: SheetKind | None = None
    institution_id: InstitutionId | None = None
    deactivate_missing: bool = False


@dataclass
class _Workbook:
    """The records of one institution, as stored and as the workbook leaves them."""

    subjects: Records[SubjectCode, Subject]
    terms: Records[str, Term]
    holidays: Records[date, Holiday]
    faculty: Records[FacultyId, Faculty]
    students: Records[StudentId, Student]
    assignments: Records[AssignmentKey, TeachingAssignment]
    slots: Records[SlotKey, WeeklySlot]

    @classmethod
    def load(cls, uow: UnitOfWork, kinds: set[SheetKind]) -> _Workbook:
        """Read what the sheets in ``kinds`` can change or refer to (and nothing else)."""
        needs_teaching = bool(kinds & {SheetKind.ASSIGNMENTS, SheetKind.TIMETABLE})
        needs_subjects = needs_teaching or bool(kinds & {SheetKind.SUBJECTS, SheetKind.FACULTY})
        needs_faculty = needs_teaching or SheetKind.FACULTY in kinds
        return cls(
            subjects=Records({s.code: s for s in uow.subjects.list()} if needs_subjects else {}),
            terms=Records(
                {t.name.casefold(): t for t in uow.terms.list()} if SheetKind.TERMS in kinds else {}
            ),
            holidays=Records(
                {h.date: h for h in uow.holidays.list()} if SheetKind.HOLIDAYS in kinds else {}
            ),
            faculty=Records({f.id: f for f in uow.faculty.list()} if needs_faculty else {}),
            students=Records(
                {s.id: s for s in uow.students.list()} if SheetKind.STUDENTS in kinds else {}
            ),
            assignments=Records(
                {(a.faculty_id, a.subject_code, a.section_id): a for a in uow.assignments.list()}
                if needs_teaching
                else {}
            ),
            slots=Records(
                {(s.assignment_id, s.weekday, s.start): s for s in uow.slots.list()}
                if SheetKind.TIMETABLE in kinds
                else {}
            ),
        )

    def check(self, state: ImportState, sheet: SheetInput) -> None:
        """Check one sheet's rows against everything known so far."""
        kind = sheet.spec.kind
        if kind is SheetKind.SUBJECTS:
            check_subjects(state, sheet, self.subjects)
        elif kind is SheetKind.TERMS:
            check_terms(state, sheet, self.terms)
        elif kind is SheetKind.HOLIDAYS:
            check_holidays(state, sheet, self.holidays)
        elif kind is SheetKind.FACULTY:
            check_faculty(state, sheet, self.faculty, self.subjects)
        elif kind is SheetKind.STUDENTS:
            check_students(state, sheet, self.students)
        elif kind is SheetKind.ASSIGNMENTS:
            check_assignments(state, sheet, self.assignments, self.faculty, self.subjects)
        else:
            check_timetable(state, sheet, self.slots, self.assignments, self.subjects)

    def deactivate_missing(self, state: ImportState) -> None:
        """Deactivate the people a full roster leaves out (see the command)."""
        tallies = {t.sheet.spec.kind: t for t in reversed(state.tallies)}
        students, faculty = self.students, self.faculty
        if (tally := tallies.get(SheetKind.STUDENTS)) is not None:
            sections = {s.section_id for s in map(students.get, students.seen) if s is not None}
            for student_id, student in students.stored.items():
                if (
                    student.active
                    and student_id not in students.seen
                    and student.section_id in sections
                ):
                    students.updated[student_id] = dataclasses.replace(student, active=False)
                    tally.deactivated += 1
        if (tally := tallies.get(SheetKind.FACULTY)) is not None:
            departments = {f.department for f in map(faculty.get, faculty.seen) if f is not None}
            for faculty_id, teacher in faculty.stored.items():
                if (
                    teacher.active
                    and not teacher.is_admin
                    and faculty_id not in faculty.seen
                    and teacher.department in departments
                ):
                    faculty.updated[faculty_id] = dataclasses.replace(teacher, active=False)
                    tally.deactivated += 1

    def deactivated_emails(self) -> list[str]:
        """The addresses of the people this import deactivates (their sign-ins end)."""
        students = [s.email for s in self.students.updated.values() if not s.active]
        return students + [f.email for f in self.faculty.updated.values() if not f.active]

    def write(self, uow: UnitOfWork, state: ImportState) -> None:
        """Store every created and changed record (referenced records first)."""
        for section in state.sections.created.values():
            uow.sections.add(section)
        for subject in self.subjects.created.values():
            uow.subjects.add(subject)
        for subject in self.subjects.updated.values():
            uow.subjects.update(subject)
        for term in self.terms.created.values():
            uow.terms.add(term)
        for term in self.terms.updated.values():
            uow.terms.update(term)
        for holiday in self.holidays.updated.values():
            uow.holidays.remove(holiday.date)
        for holiday in (*self.holidays.created.values(), *self.holidays.updated.values()):
            uow.holidays.add(holiday)
        for teacher in self.faculty.created.values():
            uow.faculty.add(teacher)
        for teacher in self.faculty.updated.values():
            uow.faculty.update(teacher)
        if self.students.created:
            uow.students.add_many(self.students.created.values())
        if self.students.updated:
            uow.students.upsert_many(list(self.students.updated.values()))
        for assignment in self.assignments.created.values():
            uow.assignments.add(assignment)
        for slot in self.slots.created.values():
            uow.slots.add(slot)
        for slot in self.slots.updated.values():
            uow.slots.update(slot)
        now = state.now
        for email in self.deactivated_emails():
            uow.sign_ins.revoke_all(email, now)


class ImportWorkbook:
    """Bring an institution's records in from an Excel workbook (admins).

    Every row of every sheet is checked first — cell types and formats, emails in the
    institution's domains, references to other sheets and to stored records, keys given
    twice — and any problem means nothing is written: the answer lists every problem with
    its sheet, row and column. Otherwise the whole workbook is written in one transaction,
    creating new records and updating changed ones by their natural keys; an import never
    deletes anything, so sessions and attendance marks survive it.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        random: RandomSource,
        reader: WorkbookReader,
        limits: WorkbookLimits,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random
        self._reader = reader
        self._limits = limits

    def __call__(
        self, command: ImportWorkbookCommand, progress: ImportProgress = _no_progress
    ) -> ImportReport:
        """Check the workbook and, unless it is a dry run, write it.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            UnacceptableFileError: the file is refused as a whole (size, type, safety, limits).
            ImportRejectedError: rows or headers are wrong; nothing was written.
        """
        require_admin(command.actor)
        institution_id = target_institution(command.actor, command.institution_id)
        with _without_cycle_collection():
            progress("reading", 0, 1)
            sheets = self._reader.read(command.data, self._limits)
            progress("reading", 1, 1)
            problems = ProblemLog()
            inputs = locate_sheets(sheets, command.defaults.given(), command.kind, problems)
            inputs.sort(key=lambda s: list(SheetKind).index(s.spec.kind))
            total_rows = sum(len(s) for s in inputs)
            with self._uow.for_institution(institution_id) as uow:
                institution = uow.institutions.get(institution_id)
                records = _Workbook.load(uow, {s.spec.kind for s in inputs})
                done = 0

                def advance(rows: int) -> None:
                    nonlocal done
                    done += rows
                    progress("checking", done, total_rows)

                state = ImportState(
                    institution,
                    self._random,
                    command.defaults,
                    problems,
                    Sections({s.id: s for s in uow.sections.list()}, institution_id),
                    progress=advance,
                    now=self._clock.now(),
                )
                for sheet in inputs:
                    records.check(state, sheet)
                problems.raise_if_any()
                if command.deactivate_missing:
                    records.deactivate_missing(state)
                report = ImportReport(
                    command.dry_run,
                    tuple(t.counts() for t in state.tallies),
                    len(state.sections.created),
                    state.faculty_created_from_assignments,
                )
                if not command.dry_run:
                    progress("writing", 0, 1)
                    records.write(uow, state)
                    uow.commit()
                    progress("writing", 1, 1)
        log.info(
            "import institution=%s actor=%s dry_run=%s changed=%d sheets=%s",
            institution_id,
            command.actor.email,
            command.dry_run,
            report.changed,
            ",".join(f"{c.sheet}:{c.created}/{c.updated}/{c.unchanged}" for c in report.sheets),
        )
        return report
