"""Checking the Assignments and Timetable sheets: who teaches what to which section, and
when, with the legacy period numbers turned into times.
"""

from __future__ import annotations

from datetime import time

from ams_core.domain.errors import ValidationError
from ams_core.domain.ids import AssignmentId, FacultyId, SectionId, SlotId, SubjectCode
from ams_core.domain.imports.cells import text, time_of_day, weekday, whole_number
from ams_core.domain.imports.sheets import LAB_PERIODS, PERIOD_BLOCKS, PERIODS
from ams_core.domain.people import Faculty
from ams_core.domain.teaching import Subject, SubjectKind, TeachingAssignment, WeeklySlot
from ams_core.use_cases.imports.people_sheets import email_for
from ams_core.use_cases.imports.sheet_input import Row, SheetInput, rows_of
from ams_core.use_cases.imports.state import ImportState, Records

AssignmentKey = tuple[FacultyId, SubjectCode, SectionId]
SlotKey = tuple[AssignmentId, int, time]


def _code(value: object) -> str:
    return text(value, 64)  # type: ignore[arg-type]


def _teacher(
    state: ImportState, row: Row, faculty: Records[FacultyId, Faculty]
) -> FacultyId | None:
    """The row's teacher; a new one is created from a Faculty Name (the legacy faculty upload
    did so), in the row's department, with the id at the institution's domain as email.
    """
    key = row.read("faculty", _code, required=True)
    if key is None:
        return None
    teacher = FacultyId(key)
    if faculty.get(teacher) is not None:
        return teacher
    name = row.read("faculty_name", lambda v: text(v, 200)) if row.has("faculty_name") else None
    if not name:
        row.problem("faculty", f"no teacher {key!r} (add them on the Faculty sheet)")
        return None
    department = row.read("department", lambda v: text(v, 100)) if row.has("department") else None
    email = email_for(state, row, key)
    if email is None:
        return None
    department = department or state.defaults.department or ""
    faculty.created[teacher] = Faculty(teacher, state.institution.id, name, email, department)
    faculty.seen[teacher] = (row.sheet_name, row.number)
    state.faculty_created_from_assignments += 1
    return teacher


def _subject(row: Row, subjects: Records[SubjectCode, Subject]) -> Subject | None:
    code = row.read("subject", _code, required=True)
    if code is None:
        return None
    subject = subjects.get(SubjectCode(code))
    if subject is None:
        row.problem("subject", f"no subject {code!r} (add it on the Subjects sheet)")
    return subject


def check_assignments(
    state: ImportState,
    sheet: SheetInput,
    assignments: Records[AssignmentKey, TeachingAssignment],
    faculty: Records[FacultyId, Faculty],
    subjects: Records[SubjectCode, Subject],
) -> None:
    """Teaching assignments keyed by (teacher, subject, section)."""
    tally = state.tally(sheet)
    for row in rows_of(sheet, state.log):
        tally.rows += 1
        subject = _subject(row, subjects)
        section = state.sections.resolve(row, state.defaults)
        teacher = _teacher(state, row, faculty)
        if row.failed or subject is None or section is None or teacher is None:
            continue
        key = (teacher, subject.code, section)
        stored = assignments.stored.get(key)
        new = TeachingAssignment(
            stored.id if stored is not None else AssignmentId(state.random.new_id()),
            state.institution.id,
            teacher,
            subject.code,
            section,
        )
        assignments.take(key, new, row, "faculty", tally)
    state.progress(tally.rows)


def _times(row: Row, subject: Subject) -> tuple[time, time] | None:
    start = row.read("start", time_of_day) if row.has("start") else None
    end = row.read("end", time_of_day) if row.has("end") else None
    if start is not None or end is not None:
        if start is None or end is None:
            row.problem("start" if start is None else "end", "give both Start and End, or a Period")
            return None
        return start, end
    period = row.read("period", lambda v: whole_number(v, 1, len(PERIODS)))
    if period is None:
        if not row.failed:
            row.problem("period", "give a Period (1-7), or Start and End")
        return None
    last = period + LAB_PERIODS - 1 if subject.kind is SubjectKind.LAB else period
    block = next(b for b in PERIOD_BLOCKS if period in b)
    if last not in block:
        row.problem(
            "period",
            f"a lab of {LAB_PERIODS} periods starting at period {period} would run into the "
            "break; give Start and End",
        )
        return None
    return time.fromisoformat(PERIODS[period][0]), time.fromisoformat(PERIODS[last][1])


def check_timetable(
    state: ImportState,
    sheet: SheetInput,
    slots: Records[SlotKey, WeeklySlot],
    assignments: Records[AssignmentKey, TeachingAssignment],
    subjects: Records[SubjectCode, Subject],
) -> None:
    """Weekly slots keyed by (assignment, weekday, start): end and venue."""
    tally = state.tally(sheet)
    iid = state.institution.id
    for row in rows_of(sheet, state.log):
        tally.rows += 1
        day = row.read("day", weekday, required=True)
        section = state.sections.resolve(row, state.defaults)
        subject = _subject(row, subjects)
        teacher = row.read("faculty", _code, required=True)
        venue = row.read("venue", lambda v: text(v, 100)) or ""
        times = _times(row, subject) if subject is not None else None
        if (
            row.failed
            or day is None
            or section is None
            or subject is None
            or teacher is None
            or times is None
        ):
            continue
        assignment = assignments.get((FacultyId(teacher), subject.code, section))
        if assignment is None:
            row.problem(
                "faculty",
                f"{teacher} does not teach {subject.code} to {section} (add the assignment on "
                "the Assignments sheet)",
            )
            continue
        key = (assignment.id, day, times[0])
        stored = slots.stored.get(key)
        slot_id = stored.id if stored is not None else SlotId(state.random.new_id())
        try:
            new = WeeklySlot(slot_id, iid, assignment.id, day, times[0], times[1], venue)
        except ValidationError as error:
            row.problem("end", error.problems[0].message)
            continue
        slots.take(key, new, row, "day", tally)
    state.progress(tally.rows)
