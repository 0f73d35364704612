"""Subjects, teaching assignments, weekly slots, terms and holidays."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.sql.expression import ColumnElement

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import (
    KeyedTableRepository,
    SqlRepository,
)
from ams_core.domain import (
    AssignmentId,
    DateRange,
    FacultyId,
    Holiday,
    SectionId,
    SlotId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.ports import (
    AssignmentRepository,
    HolidayRepository,
    SlotRepository,
    SubjectRepository,
    TermRepository,
)


class SqlSubjectRepository(KeyedTableRepository[SubjectCode, Subject], SubjectRepository):
    table, key, kind, order_by, cached = t.subjects, "code", "subject", ("code",), True
    to_row, from_row = staticmethod(m.subject_row), staticmethod(m.subject_from)

    # class_sessions.subject_code is a copy with no foreign key of its own
    unkeyed_references = ((t.sessions, "subject_code", "has sessions"),)

    def find_many(self, codes: Iterable[SubjectCode]) -> Mapping[SubjectCode, Subject]:
        everything = self._all_cached()
        return {c: everything[c] for c in codes if c in everything}

    def list(self) -> Sequence[Subject]:
        return self._list_all()

    def remove(self, code: SubjectCode) -> bool:
        return self._remove(code)


ASSIGNMENTS = t.assignments.c


class SqlAssignmentRepository(
    KeyedTableRepository[AssignmentId, TeachingAssignment], AssignmentRepository
):
    table, key, kind, order_by = t.assignments, "id", "assignment", ("id",)
    to_row, from_row = staticmethod(m.assignment_row), staticmethod(m.assignment_from)

    def list(
        self, faculty_id: FacultyId | None = None, section_id: SectionId | None = None
    ) -> Sequence[TeachingAssignment]:
        def conditions() -> list[ColumnElement[bool]]:
            found = []
            if faculty_id is not None:
                found.append(ASSIGNMENTS.faculty_id == bindparam("faculty"))
            if section_id is not None:
                found.append(ASSIGNMENTS.section_id == bindparam("section"))
            return found

        name = f"faculty={faculty_id is not None},section={section_id is not None}"
        return self._select_where(name, conditions, faculty=faculty_id, section=section_id)

    def sections_by_teacher(self) -> Mapping[FacultyId, frozenset[SectionId]]:
        # one row per teacher: the database gathers the sections
        sections: ColumnElement[Any] = (
            func.array_agg(ASSIGNMENTS.section_id.distinct())
            if self._transaction.is_postgres
            else func.json_group_array(ASSIGNMENTS.section_id.distinct())
        )
        stmt = (
            select(ASSIGNMENTS.faculty_id, sections)
            .where(ASSIGNMENTS.institution_id == self._institution_id())
            .group_by(ASSIGNMENTS.faculty_id)
        )
        found: dict[FacultyId, frozenset[SectionId]] = {}
        for faculty_id, gathered in self._transaction.execute(stmt).all():
            listed = gathered if isinstance(gathered, list) else json.loads(gathered)
            found[FacultyId(faculty_id)] = frozenset(SectionId(s) for s in listed)
        return found

    def remove(self, assignment_id: AssignmentId) -> bool:
        return self._remove(assignment_id)


class SqlSlotRepository(KeyedTableRepository[SlotId, WeeklySlot], SlotRepository):
    table, key, kind, order_by = t.slots, "id", "slot", ("id",)
    to_row, from_row = staticmethod(m.slot_row), staticmethod(m.slot_from)

    def list(self) -> Sequence[WeeklySlot]:
        return self._list_all()

    def remove(self, slot_id: SlotId) -> bool:
        # class_sessions.slot_id has no foreign key: generated sessions keep the id
        return self._remove(slot_id)


class SqlTermRepository(KeyedTableRepository[TermId, Term], TermRepository):
    table, key, kind, order_by, cached = t.terms, "id", "term", ("start_date", "id"), True
    to_row, from_row = staticmethod(m.term_row), staticmethod(m.term_from)

    def list(self) -> Sequence[Term]:
        return self._list_all()

    def remove(self, term_id: TermId) -> bool:
        return self._remove(term_id)


HOLIDAYS = t.holidays.c


class SqlHolidayRepository(SqlRepository, HolidayRepository):
    def add(self, holiday: Holiday) -> None:
        self._check_owned(holiday)
        self._transaction.execute(
            t.holidays.insert().values(m.holiday_row(holiday)), kind="holiday"
        )

    def remove(self, day: date) -> bool:
        result = self._transaction.execute(
            delete(t.holidays).where(
                HOLIDAYS.institution_id == self._institution_id(), HOLIDAYS.day == day
            )
        )
        return bool(result.rowcount > 0)

    def list(self, dates: DateRange | None = None) -> Sequence[Holiday]:
        stmt = select(t.holidays).where(HOLIDAYS.institution_id == self._institution_id())
        if dates is not None:
            stmt = stmt.where(HOLIDAYS.day.between(dates.start, dates.end))
        rows = self._transaction.execute(stmt.order_by(HOLIDAYS.day)).mappings().all()
        return [m.holiday_from(r) for r in rows]
