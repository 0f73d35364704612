"""The calendar: terms, holidays and the institution's settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from ams_core.domain import (
    Holiday,
    Institution,
    Term,
)
from ams_core.use_cases import HolidayDeclared
from ams_http.schemas.base import CamelBody, CamelStruct, Id
from ams_http.schemas.common import (
    ChangeBody,
    CoverCap,
    LabelText,
    NameText,
    Version,
    given,
)

HolidayName = Annotated[str, msgspec.Meta(max_length=100)]
CoverWeight = Annotated[int, msgspec.Meta(ge=0, le=100)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=1440)]
NetworkText = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
TimezoneText = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
#: the days of covers that lower a candidate's fairness points (a year at most)
FairnessDays = Annotated[int, msgspec.Meta(ge=1, le=366)]
#: how long a substitute has to answer an offer (a week at most)
OfferMinutes = Annotated[int, msgspec.Meta(ge=1, le=10_080)]


# -- terms ------------------------------------------------------------------------------
class TermIn(ChangeBody, kw_only=True):
    id: Id | UnsetType = UNSET
    name: LabelText
    start: dt.date
    end: dt.date


class TermPatch(ChangeBody):
    name: LabelText | UnsetType = UNSET
    start: dt.date | UnsetType = UNSET
    end: dt.date | UnsetType = UNSET
    version: Version | None = None


class TermOut(CamelStruct):
    id: str
    name: str
    start: dt.date
    end: dt.date
    version: int

    @classmethod
    def of(cls, term: Term) -> TermOut:
        return cls(id=term.id, name=term.name, start=term.start, end=term.end, version=term.version)


class TermPageOut(CamelStruct):
    items: list[TermOut]
    total: int
    limit: int
    offset: int


# -- holidays ---------------------------------------------------------------------------
class HolidayIn(CamelBody):
    date: dt.date
    name: HolidayName = ""


class HolidayOut(CamelStruct):
    date: dt.date
    name: str

    @classmethod
    def of(cls, holiday: Holiday) -> HolidayOut:
        return cls(date=holiday.date, name=holiday.name)


class HolidayDeclaredOut(CamelStruct):
    date: dt.date
    name: str
    cancelled_sessions: list[str]

    @classmethod
    def of(cls, declared: HolidayDeclared) -> HolidayDeclaredOut:
        return cls(
            date=declared.holiday.date,
            name=declared.holiday.name,
            cancelled_sessions=list(declared.cancelled),
        )


class HolidayPageOut(CamelStruct):
    items: list[HolidayOut]
    total: int
    limit: int
    offset: int


# -- institution settings ---------------------------------------------------------------
class CoverSettingsPatch(ChangeBody):
    max_covers_per_day: CoverCap | UnsetType = UNSET
    max_covers_per_week: CoverCap | UnsetType = UNSET
    weight_qualified: CoverWeight | UnsetType = UNSET
    weight_teaches_section: CoverWeight | UnsetType = UNSET
    weight_same_department: CoverWeight | UnsetType = UNSET
    weight_adjacent: CoverWeight | UnsetType = UNSET
    weight_fairness: CoverWeight | UnsetType = UNSET
    weight_continuity: CoverWeight | UnsetType = UNSET
    weight_preferred: CoverWeight | UnsetType = UNSET
    fairness_window_days: FairnessDays | UnsetType = UNSET
    offer_expiry_minutes: OfferMinutes | UnsetType = UNSET
    approval_required: bool | UnsetType = UNSET
    qualified_only: bool | UnsetType = UNSET


_INSTITUTION_CONVERT = {"cover": given}


class InstitutionPatch(ChangeBody):
    name: NameText | UnsetType = UNSET
    timezone: TimezoneText | UnsetType = UNSET
    attendance_threshold: Decimal | UnsetType = UNSET
    code_rotation_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] | UnsetType = UNSET
    check_in_window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] | UnsetType = UNSET
    late_after_minutes: Minutes | UnsetType = UNSET
    open_early_minutes: Minutes | UnsetType = UNSET
    auto_complete_grace_minutes: Minutes | UnsetType = UNSET
    campus_networks: Annotated[list[NetworkText], msgspec.Meta(max_length=100)] | UnsetType = UNSET
    max_wrong_codes_per_student: Annotated[int, msgspec.Meta(ge=1, le=100)] | UnsetType = UNSET
    max_wrong_codes_per_session: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | UnsetType = UNSET
    cover: CoverSettingsPatch | UnsetType = UNSET
    version: Version | None = None

    convert = _INSTITUTION_CONVERT


class CoverSettingsOut(CamelStruct):
    max_covers_per_day: int
    max_covers_per_week: int
    weight_qualified: int
    weight_teaches_section: int
    weight_same_department: int
    weight_adjacent: int
    weight_fairness: int
    weight_continuity: int
    weight_preferred: int
    fairness_window_days: int
    offer_expiry_minutes: int
    approval_required: bool
    qualified_only: bool


class InstitutionOut(CamelStruct):
    id: str
    name: str
    timezone: str
    email_domains: list[str]
    attendance_threshold: Decimal
    code_rotation_seconds: int
    check_in_window_minutes: int
    late_after_minutes: int
    open_early_minutes: int
    auto_complete_grace_minutes: int
    campus_networks: list[str]
    max_wrong_codes_per_student: int
    max_wrong_codes_per_session: int
    cover: CoverSettingsOut
    version: int

    @classmethod
    def of(cls, institution: Institution) -> InstitutionOut:
        settings, cover = institution.settings, institution.settings.cover
        return cls(
            id=institution.id,
            name=institution.name,
            timezone=institution.timezone,
            email_domains=sorted(institution.email_domains),
            attendance_threshold=settings.attendance_threshold,
            code_rotation_seconds=settings.code_rotation_seconds,
            check_in_window_minutes=settings.check_in_window_minutes,
            late_after_minutes=settings.late_after_minutes,
            open_early_minutes=settings.open_early_minutes,
            auto_complete_grace_minutes=settings.auto_complete_grace_minutes,
            campus_networks=list(settings.campus_networks),
            max_wrong_codes_per_student=settings.max_wrong_codes_per_student,
            max_wrong_codes_per_session=settings.max_wrong_codes_per_session,
            cover=CoverSettingsOut(
                max_covers_per_day=cover.max_covers_per_day,
                max_covers_per_week=cover.max_covers_per_week,
                weight_qualified=cover.weight_qualified,
                weight_teaches_section=cover.weight_teaches_section,
                weight_same_department=cover.weight_same_department,
                weight_adjacent=cover.weight_adjacent,
                weight_fairness=cover.weight_fairness,
                weight_continuity=cover.weight_continuity,
                weight_preferred=cover.weight_preferred,
                fairness_window_days=cover.fairness_window_days,
                offer_expiry_minutes=cover.offer_expiry_minutes,
                approval_required=cover.approval_required,
                qualified_only=cover.qualified_only,
            ),
            version=institution.version,
        )
