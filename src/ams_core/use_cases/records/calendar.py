"""Holidays and the institution's own settings (admins write)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ams_core.domain.calendar import DateRange
from ams_core.domain.errors import ConcurrencyError, FieldProblem, NotFoundError, ValidationError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import SessionId
from ams_core.domain.institution import CoverSettings, Institution, InstitutionSettings
from ams_core.domain.sessions import SessionStatus
from ams_core.domain.teaching import Holiday
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, tenant_of
from ams_core.use_cases.records.base import raise_if
from ams_core.use_cases.session_scheduling import announce_change


@dataclass(frozen=True, slots=True)
class HolidayDeclared:
    """A new holiday and the scheduled classes it cancelled (each section was told)."""

    holiday: Holiday
    cancelled: tuple[SessionId, ...]


class HolidayCalendar:
    """Institution-wide days without classes; every member may read them."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def list(self, actor: Principal, dates: DateRange | None = None) -> Sequence[Holiday]:
        """Holidays in ``dates`` (all of them without), by date."""
        with self._uow.for_institution(tenant_of(actor)) as uow:
            holidays = uow.holidays.list(dates)
            uow.commit()
        return holidays

    def declare(self, actor: Principal, day: date, name: str = "") -> HolidayDeclared:
        """Declare a holiday; scheduled classes that day are cancelled and announced.

        Classes already open or completed that day are left as they are.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            ConflictError: the day is already a holiday.
        """
        require_admin(actor)
        label = name.strip()
        if len(label) > 100:
            raise ValidationError([FieldProblem("name", "must be at most 100 characters")])
        with self._uow.for_institution(tenant_of(actor)) as uow:
            holiday = Holiday(tenant_of(actor), day, label)
            uow.holidays.add(holiday)
            cancelled = []
            for session in uow.sessions.list_between(DateRange(day, day)):
                if session.status is SessionStatus.SCHEDULED:
                    uow.sessions.update(session.cancel())
                    announce_change(
                        uow,
                        self._clock,
                        self._random,
                        session,
                        "cancelled",
                        f"cancelled: {label or 'holiday'}",
                    )
                    cancelled.append(session.id)
            uow.commit()
        return HolidayDeclared(holiday, tuple(cancelled))

    def remove(self, actor: Principal, day: date) -> None:
        """Remove a holiday (classes it cancelled stay cancelled; generate the week again
        or add ad hoc classes to restore them).

        Raises:
            NotFoundError: the day is not a holiday.
        """
        require_admin(actor)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            if not uow.holidays.remove(day):
                raise NotFoundError("holiday", day.isoformat())
            uow.commit()


_INSTITUTION_FIELDS = frozenset({"name", "timezone"})
_SETTINGS_FIELDS = frozenset(f.name for f in dataclasses.fields(InstitutionSettings)) - {"cover"}
_COVER_FIELDS = frozenset(f.name for f in dataclasses.fields(CoverSettings))


def _threshold(value: object) -> Decimal:
    """The attendance threshold as a finite Decimal (a NaN would break every comparison)."""
    if isinstance(value, Decimal | int | float | str) and not isinstance(value, bool):
        try:
            threshold = Decimal(str(value))
        except InvalidOperation:
            pass
        else:
            if threshold.is_finite():
                return threshold
    raise ValidationError([FieldProblem("attendance_threshold", "must be a number from 0 to 100")])


#: cover caps like a teacher's own (0–50); weights are points out of 100; the fairness
#: window is up to a year, an offer's time up to a week
_COVER_LIMITS = {
    name: (50 if name.startswith("max_") else 100)
    for name in _COVER_FIELDS
    if name.startswith(("max_", "weight_"))
} | {"fairness_window_days": 366, "offer_expiry_minutes": 7 * 24 * 60}
_COVER_MINIMUMS = {"fairness_window_days": 1, "offer_expiry_minutes": 1}


def _cover_problems(cover_changes: Mapping[str, Any]) -> list[FieldProblem]:
    problems = [
        FieldProblem(
            f"cover.{name}",
            f"must be a whole number from {_COVER_MINIMUMS.get(name, 0)} to {_COVER_LIMITS[name]}",
        )
        for name, value in sorted(cover_changes.items())
        if name in _COVER_LIMITS
        and (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not _COVER_MINIMUMS.get(name, 0) <= value <= _COVER_LIMITS[name]
        )
    ]
    problems += [
        FieldProblem(f"cover.{name}", "must be true or false")
        for name in ("approval_required", "qualified_only")
        if name in cover_changes and not isinstance(cover_changes[name], bool)
    ]
    return problems


class InstitutionProfile:
    """The admin's view of their institution: name, timezone and settings."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, actor: Principal) -> Institution:
        """Return the actor's institution.

        Raises:
            PermissionDeniedError: the actor is not an admin.
        """
        require_admin(actor)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            uow.commit()
        return institution

    def update(
        self,
        actor: Principal,
        changes: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> Institution:
        """Change the name, timezone or settings; ``changes["cover"]`` may hold a mapping of
        cover settings. Unnamed settings keep their values.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            ValidationError: an unknown or invalid setting.
            ConcurrencyError: the institution changed since ``expected_version``.
        """
        require_admin(actor)
        cover_changes = changes.get("cover") or {}
        if not isinstance(cover_changes, Mapping):
            raise ValidationError([FieldProblem("cover", "must be an object")])
        known = _INSTITUTION_FIELDS | _SETTINGS_FIELDS | {"cover"}
        raise_if(
            [FieldProblem(n, "is not a setting") for n in sorted(set(changes) - known)]
            + [
                FieldProblem(f"cover.{n}", "is not a setting")
                for n in sorted(set(cover_changes) - _COVER_FIELDS)
            ]
            + _cover_problems(cover_changes)
        )
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            if expected_version is not None and institution.version != expected_version:
                raise ConcurrencyError(
                    f"the settings were changed by someone else (now version {institution.version})"
                )
            settings_changes: dict[str, Any] = {
                n: v for n, v in changes.items() if n in _SETTINGS_FIELDS
            }
            if "attendance_threshold" in settings_changes:
                settings_changes["attendance_threshold"] = _threshold(
                    settings_changes["attendance_threshold"]
                )
            if "campus_networks" in settings_changes:
                settings_changes["campus_networks"] = tuple(settings_changes["campus_networks"])
            cover = dataclasses.replace(institution.settings.cover, **dict(cover_changes))
            settings = dataclasses.replace(institution.settings, **settings_changes, cover=cover)
            updated = dataclasses.replace(
                institution,
                **{n: v for n, v in changes.items() if n in _INSTITUTION_FIELDS},
                settings=settings,
            )
            stored = institution if updated == institution else uow.institutions.update(updated)
            uow.commit()
        return stored
