"""Rows of cover assignments."""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    CoverAssignment,
    CoverId,
    FacultyId,
    InstitutionId,
    SessionId,
)


def cover_row(c: CoverAssignment) -> dict[str, Any]:
    return {
        "institution_id": c.institution_id,
        "id": c.id,
        "session_id": c.session_id,
        "substitute_id": c.substitute_id,
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "booked_at": c.booked_at,
        "version": c.version,
    }


def cover_from(row: Row) -> CoverAssignment:
    return CoverAssignment(
        id=CoverId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        session_id=SessionId(row["session_id"]),
        substitute_id=FacultyId(row["substitute_id"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        booked_at=row["booked_at"],
        version=row["version"],
    )
