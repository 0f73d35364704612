"""Rows of institutions and their settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    CoverSettings,
    Institution,
    InstitutionId,
    InstitutionSettings,
)


def settings_to_json(settings: InstitutionSettings) -> dict[str, Any]:
    return {
        "attendance_threshold": str(settings.attendance_threshold),
        "code_rotation_seconds": settings.code_rotation_seconds,
        "check_in_window_minutes": settings.check_in_window_minutes,
        "late_after_minutes": settings.late_after_minutes,
        "open_early_minutes": settings.open_early_minutes,
        "auto_complete_grace_minutes": settings.auto_complete_grace_minutes,
        "campus_networks": list(settings.campus_networks),
        "max_wrong_codes_per_student": settings.max_wrong_codes_per_student,
        "max_wrong_codes_per_session": settings.max_wrong_codes_per_session,
        "cover": dataclasses.asdict(settings.cover),
    }


def settings_from_json(data: Mapping[str, Any]) -> InstitutionSettings:
    defaults = InstitutionSettings()
    known = {f.name for f in dataclasses.fields(InstitutionSettings)} - {"cover"}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    if "attendance_threshold" in values:
        values["attendance_threshold"] = Decimal(values["attendance_threshold"])
    if "campus_networks" in values:
        values["campus_networks"] = tuple(values["campus_networks"])
    cover_fields = {f.name for f in dataclasses.fields(CoverSettings)}
    cover = CoverSettings(
        **{k: v for k, v in dict(data.get("cover", {})).items() if k in cover_fields}
    )
    return dataclasses.replace(defaults, **values, cover=cover)


def institution_row(i: Institution) -> dict[str, Any]:
    return {
        "id": i.id,
        "name": i.name,
        "timezone": i.timezone,
        "email_domains": sorted(i.email_domains),
        "settings": settings_to_json(i.settings),
        "version": i.version,
    }


def institution_from(row: Row) -> Institution:
    return Institution(
        id=InstitutionId(row["id"]),
        name=row["name"],
        timezone=row["timezone"],
        email_domains=frozenset(row["email_domains"]),
        settings=settings_from_json(row["settings"]),
        version=row["version"],
    )
