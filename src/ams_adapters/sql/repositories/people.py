"""Sections, students, faculty and students' device bindings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import (
    INSTITUTION_ID,
    KeyedTableRepository,
    SqlRepository,
    prebuilt,
)
from ams_core.domain import (
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Section,
    SectionId,
    Student,
    StudentId,
)
from ams_core.domain.people import fold_email, require_distinct_ids
from ams_core.ports import (
    DeviceBindingRepository,
    FacultyRepository,
    SectionRepository,
    StudentRepository,
    UpsertCounts,
)


class SqlSectionRepository(KeyedTableRepository[SectionId, Section], SectionRepository):
    table, key, kind, order_by = t.sections, "id", "section", ("id",)
    to_row, from_row = staticmethod(m.section_row), staticmethod(m.section_from)

    def list(self) -> Sequence[Section]:
        return self._list_all()

    def remove(self, section_id: SectionId) -> bool:
        return self._remove(section_id)


STUDENTS = t.students.c
#: the columns an upsert compares and writes
_STUDENT_FIELDS = (
    "name",
    "email",
    "section_id",
    "roll_number",
    "is_class_representative",
    "active",
)
#: ids per SELECT when SQLite reads the existing students of an upsert
_UPSERT_READ_BATCH = 500


class SqlStudentRepository(KeyedTableRepository[StudentId, Student], StudentRepository):
    table, key, kind = t.students, "id", "student"
    to_row, from_row = staticmethod(m.student_row), staticmethod(m.student_from)
    # check_in_failures.student_id also holds '' (the whole session's counter): no foreign key
    unkeyed_references = ((t.check_in_failures, "student_id", "has check-in failures on record"),)

    def remove(self, student_id: StudentId) -> bool:
        return self._remove(student_id)

    def add_many(self, students: Iterable[Student]) -> int:
        return self._add_many(students)

    def upsert_many(self, students: Sequence[Student]) -> UpsertCounts:
        require_distinct_ids(students)
        if not students:
            return UpsertCounts(0, 0, 0)
        rows = self._owned_rows(students, m.student_row)
        for row in rows:
            row["version"] = 0
        with self._transaction.savepoint():
            if self._transaction.is_postgres:
                created, updated = self._upsert_postgres(rows)
            else:
                created, updated = self._upsert_sqlite(rows)
        return UpsertCounts(created, updated, len(rows) - created - updated)

    def _upsert_postgres(self, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        names = ", ".join(rows[0])
        new = ", ".join(f"EXCLUDED.{c}" for c in _STUDENT_FIELDS)
        old = ", ".join(f"students.{c}" for c in _STUDENT_FIELDS)
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in _STUDENT_FIELDS)
        statement = (
            f"WITH written AS (INSERT INTO students ({names}) SELECT {names} FROM {{stage}} "  # noqa: S608
            f"ON CONFLICT (institution_id, id) DO UPDATE SET {assignments}, "
            f"version = students.version + 1 WHERE ({old}) IS DISTINCT FROM ({new}) "
            "RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM written"
        )
        ((created, updated),) = self._through_stage(t.students, rows, "student", statement)
        return int(created), int(updated)

    def _upsert_sqlite(self, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        existing: dict[str, Any] = {}
        for start in range(0, len(rows), _UPSERT_READ_BATCH):
            ids = [r["id"] for r in rows[start : start + _UPSERT_READ_BATCH]]
            found = (
                self._transaction.execute(
                    select(t.students).where(
                        STUDENTS.institution_id == self._institution_id(), STUDENTS.id.in_(ids)
                    )
                )
                .mappings()
                .all()
            )
            existing.update({r["id"]: r for r in found})
        new_rows = [r for r in rows if r["id"] not in existing]
        changed = [
            r
            for r in rows
            if r["id"] in existing and any(r[f] != existing[r["id"]][f] for f in _STUDENT_FIELDS)
        ]
        if changed:
            self._transaction.execute(
                update(t.students)
                .where(
                    STUDENTS.institution_id == bindparam("b_institution_id"),
                    STUDENTS.id == bindparam("b_id"),
                )
                .values(
                    {f: bindparam(f"b_{f}") for f in _STUDENT_FIELDS}
                    | {"version": STUDENTS.version + 1}
                ),
                [{f"b_{k}": v for k, v in r.items()} for r in changed],
                "student",
            )
        if new_rows:
            self._transaction.execute(t.students.insert(), new_rows, "student")
        return len(new_rows), len(changed)

    def find_by_email(self, email: str) -> Student | None:
        found = self._select_where(
            "by email", lambda: [STUDENTS.email == bindparam("email")], email=fold_email(email)
        )
        return found[0] if found else None

    def list(self, section_id: SectionId | None = None) -> Sequence[Student]:
        def build() -> Any:
            stmt = select(t.students).where(STUDENTS.institution_id == INSTITUTION_ID)
            if section_id is not None:
                stmt = stmt.where(STUDENTS.section_id == bindparam("section"))
            return stmt.order_by(STUDENTS.roll_number.is_(None), STUDENTS.roll_number, STUDENTS.id)

        stmt = prebuilt(("students", "list", str(section_id is None)), build)
        params = {"iid": self._institution_id(), "section": section_id}
        rows = self._transaction.execute(stmt, params).mappings().all()
        return [m.student_from(r) for r in rows]

    def ids_in_section(self, section_id: SectionId) -> frozenset[StudentId]:
        stmt = prebuilt(
            ("students", "ids in section"),
            lambda: select(STUDENTS.id).where(
                STUDENTS.institution_id == INSTITUTION_ID,
                STUDENTS.section_id == bindparam("s"),
                STUDENTS.active,
            ),
        )
        rows = self._transaction.execute(stmt, {"iid": self._institution_id(), "s": section_id})
        return frozenset(StudentId(r[0]) for r in rows)


class SqlFacultyRepository(KeyedTableRepository[FacultyId, Faculty], FacultyRepository):
    table, key, kind, order_by, cached = t.faculty, "id", "faculty", ("id",), True
    to_row, from_row = staticmethod(m.faculty_row), staticmethod(m.faculty_from)

    def find_by_email(self, email: str) -> Faculty | None:
        wanted = fold_email(email)
        return next((f for f in self._all_cached().values() if f.email == wanted), None)

    def find_many(self, faculty_ids: Iterable[FacultyId]) -> Mapping[FacultyId, Faculty]:
        everyone = self._all_cached()
        return {i: everyone[i] for i in faculty_ids if i in everyone}

    def list(self) -> Sequence[Faculty]:
        return self._list_all()

    def remove(self, faculty_id: FacultyId) -> bool:
        return self._remove(faculty_id)


BINDINGS = t.device_bindings.c


class SqlDeviceBindingRepository(SqlRepository, DeviceBindingRepository):
    def _one(self, column: str, value: str) -> DeviceBinding | None:
        stmt = prebuilt(
            ("device_bindings", column),
            lambda: select(t.device_bindings).where(
                BINDINGS.institution_id == INSTITUTION_ID, BINDINGS[column] == bindparam("v")
            ),
        )
        params = {"iid": self._institution_id(), "v": value}
        row = self._transaction.execute(stmt, params).mappings().first()
        return None if row is None else m.binding_from(row)

    def for_student(self, student_id: StudentId) -> DeviceBinding | None:
        return self._one("student_id", student_id)

    def for_device(self, device_id: DeviceId) -> DeviceBinding | None:
        return self._one("device_id", device_id)

    def add(self, binding: DeviceBinding) -> None:
        self._check_owned(binding)
        self._transaction.execute(
            t.device_bindings.insert().values(m.binding_row(binding)), kind="device binding"
        )

    def remove(self, student_id: StudentId) -> bool:
        result = self._transaction.execute(
            delete(t.device_bindings).where(
                BINDINGS.institution_id == self._institution_id(),
                BINDINGS.student_id == student_id,
            )
        )
        return bool(result.rowcount > 0)
