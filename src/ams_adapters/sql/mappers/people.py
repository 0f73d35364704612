"""Rows of sections, students, faculty and device bindings."""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    InstitutionId,
    Section,
    SectionId,
    Student,
    StudentId,
    SubjectCode,
)


def section_row(s: Section) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "year": s.year,
        "department": s.department,
        "name": s.name,
        "version": s.version,
    }


def section_from(row: Row) -> Section:
    return Section(
        SectionId(row["id"]),
        InstitutionId(row["institution_id"]),
        row["year"],
        row["department"],
        row["name"],
        row["version"],
    )


def student_row(s: Student) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "name": s.name,
        "email": s.email,
        "section_id": s.section_id,
        "roll_number": s.roll_number,
        "is_class_representative": s.is_class_representative,
        "active": s.active,
        "version": s.version,
    }


def student_from(row: Row) -> Student:
    return Student(
        id=StudentId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        name=row["name"],
        email=row["email"],
        section_id=SectionId(row["section_id"]),
        roll_number=row["roll_number"],
        is_class_representative=bool(row["is_class_representative"]),
        active=bool(row["active"]),
        version=row["version"],
    )


def faculty_row(f: Faculty) -> dict[str, Any]:
    return {
        "institution_id": f.institution_id,
        "id": f.id,
        "name": f.name,
        "email": f.email,
        "department": f.department,
        "qualified_subjects": sorted(f.qualified_subjects),
        "max_covers_per_day": f.max_covers_per_day,
        "max_covers_per_week": f.max_covers_per_week,
        "is_admin": f.is_admin,
        "active": f.active,
        "version": f.version,
    }


def faculty_from(row: Row) -> Faculty:
    return Faculty(
        id=FacultyId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        name=row["name"],
        email=row["email"],
        department=row["department"],
        qualified_subjects=frozenset(SubjectCode(c) for c in row["qualified_subjects"]),
        max_covers_per_day=row["max_covers_per_day"],
        max_covers_per_week=row["max_covers_per_week"],
        is_admin=bool(row["is_admin"]),
        active=bool(row["active"]),
        version=row["version"],
    )


def binding_row(b: DeviceBinding) -> dict[str, Any]:
    return {
        "institution_id": b.institution_id,
        "student_id": b.student_id,
        "device_id": b.device_id,
        "bound_at": b.bound_at,
    }


def binding_from(row: Row) -> DeviceBinding:
    return DeviceBinding(
        InstitutionId(row["institution_id"]),
        StudentId(row["student_id"]),
        DeviceId(row["device_id"]),
        row["bound_at"],
    )
