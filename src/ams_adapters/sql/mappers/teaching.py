"""Rows of subjects, teaching assignments, weekly slots, terms and holidays."""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    AssignmentId,
    FacultyId,
    Holiday,
    InstitutionId,
    SectionId,
    SlotId,
    Subject,
    SubjectCode,
    SubjectKind,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)


def subject_row(s: Subject) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "code": s.code,
        "short_name": s.short_name,
        "name": s.name,
        "kind": s.kind.value,
        "version": s.version,
    }


def subject_from(row: Row) -> Subject:
    return Subject(
        SubjectCode(row["code"]),
        InstitutionId(row["institution_id"]),
        row["short_name"],
        row["name"],
        SubjectKind(row["kind"]),
        row["version"],
    )


def assignment_row(a: TeachingAssignment) -> dict[str, Any]:
    return {
        "institution_id": a.institution_id,
        "id": a.id,
        "faculty_id": a.faculty_id,
        "subject_code": a.subject_code,
        "section_id": a.section_id,
        "version": a.version,
    }


def assignment_from(row: Row) -> TeachingAssignment:
    return TeachingAssignment(
        AssignmentId(row["id"]),
        InstitutionId(row["institution_id"]),
        FacultyId(row["faculty_id"]),
        SubjectCode(row["subject_code"]),
        SectionId(row["section_id"]),
        row["version"],
    )


def slot_row(s: WeeklySlot) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "assignment_id": s.assignment_id,
        "weekday": s.weekday,
        "start_time": s.start,
        "end_time": s.end,
        "venue": s.venue,
        "version": s.version,
    }


def slot_from(row: Row) -> WeeklySlot:
    return WeeklySlot(
        SlotId(row["id"]),
        InstitutionId(row["institution_id"]),
        AssignmentId(row["assignment_id"]),
        row["weekday"],
        row["start_time"],
        row["end_time"],
        row["venue"],
        row["version"],
    )


def term_row(t: Term) -> dict[str, Any]:
    return {
        "institution_id": t.institution_id,
        "id": t.id,
        "name": t.name,
        "start_date": t.start,
        "end_date": t.end,
        "version": t.version,
    }


def term_from(row: Row) -> Term:
    return Term(
        TermId(row["id"]),
        InstitutionId(row["institution_id"]),
        row["name"],
        row["start_date"],
        row["end_date"],
        row["version"],
    )


def holiday_row(h: Holiday) -> dict[str, Any]:
    return {"institution_id": h.institution_id, "day": h.date, "name": h.name}


def holiday_from(row: Row) -> Holiday:
    return Holiday(InstitutionId(row["institution_id"]), row["day"], row["name"])
