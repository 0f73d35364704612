"""Teacher absences and teaching cover: needs, candidates, plans, offers, analytics and
substitute preferences (PRODUCT.md §2.6).

Statuses, kinds, rules and reasons are the core's enums, so a value the core adds is on the
wire (and in the OpenAPI document) at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ams_core.domain import (
    Absence,
    AbsenceKind,
    AbsenceStatus,
    CandidateRanking,
    CoverNeed,
    CoverOffer,
    CoverPlan,
    CoverRule,
    FacultyId,
    NeedStatus,
    OfferStatus,
    PlanStatus,
    PreferenceKind,
    ScoreReason,
    SubstitutePreference,
    Unavailability,
    UncoveredReason,
)
from ams_core.use_cases import (
    AbsenceResult,
    AnswerResult,
    CoverAnalyticsReport,
    CoverNeedDetail,
    FillFigures,
    PublishResult,
)
from ams_http.schemas.base import CamelBody, CamelStruct, Id
from ams_http.schemas.common import ChangeBody, Version

#: an instant with its UTC offset (``2026-11-18T09:00:00+05:30``)
Instant = Annotated[dt.datetime, msgspec.Meta(tz=True)]
NoteText = Annotated[str, msgspec.Meta(max_length=1000)]
ReasonText = Annotated[str, msgspec.Meta(max_length=500)]
PreferenceNote = Annotated[str, msgspec.Meta(max_length=500)]
AbsenceKindText = Literal["sick", "personal", "official_duty", "other"]
PreferenceKindText = Literal["preferred", "excluded"]


# -- absences ---------------------------------------------------------------------------
class AbsenceIn(CamelBody, kw_only=True):
    """A teacher's own absence (``facultyId`` may be left out), or an admin's record of a
    teacher's absence (``facultyId`` required).
    """

    faculty_id: Id | None = None
    start: Instant
    end: Instant
    type: AbsenceKindText
    note: NoteText = ""


class CoverNeedOut(CamelStruct):
    """One class of an absent teacher that needs a substitute; ``start``/``end`` are the
    class's instants, ``date`` its local date.
    """

    id: str
    absence_id: str
    session_id: str
    absent_faculty_id: str
    section_id: str
    subject_code: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    status: NeedStatus
    substitute_id: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None

    @classmethod
    def of(cls, need: CoverNeed) -> CoverNeedOut:
        return CoverNeedOut(
            id=need.id,
            absence_id=need.absence_id,
            session_id=need.session_id,
            absent_faculty_id=need.absent_faculty_id,
            section_id=need.section_id,
            subject_code=need.subject_code,
            date=need.day,
            start=need.starts_at,
            end=need.ends_at,
            status=need.status,
            substitute_id=need.substitute_id,
            created_at=need.created_at,
            closed_at=need.closed_at,
        )


class CoverNeedPageOut(CamelStruct):
    items: list[CoverNeedOut]
    total: int
    limit: int
    offset: int


class AbsenceOut(CamelStruct):
    """An absence; ``reportedBy`` and ``decidedBy`` are account emails."""

    id: str
    faculty_id: str
    start: dt.datetime
    end: dt.datetime
    type: AbsenceKind
    status: AbsenceStatus
    note: str
    reported_at: dt.datetime
    reported_by: str
    decided_at: dt.datetime | None
    decided_by: str | None

    @classmethod
    def of(cls, absence: Absence) -> AbsenceOut:
        return AbsenceOut(
            id=absence.id,
            faculty_id=absence.faculty_id,
            start=absence.starts_at,
            end=absence.ends_at,
            type=absence.kind,
            status=absence.status,
            note=absence.note,
            reported_at=absence.reported_at,
            reported_by=absence.reported_by,
            decided_at=absence.decided_at,
            decided_by=absence.decided_by,
        )


class AbsenceWithNeedsOut(AbsenceOut):
    """An absence and its cover needs (none while it waits for approval)."""

    cover_needs: list[CoverNeedOut]

    @classmethod
    def of_result(cls, result: AbsenceResult) -> AbsenceWithNeedsOut:
        return cls(
            **msgspec.structs.asdict(AbsenceOut.of(result.absence)),
            cover_needs=[CoverNeedOut.of(n) for n in result.cover_needs],
        )


class AbsencePageOut(CamelStruct):
    items: list[AbsenceOut]
    total: int
    limit: int
    offset: int


# -- candidates and offers --------------------------------------------------------------
class ScoreReasonOut(CamelStruct):
    """One soft rule behind a score and the points it gave."""

    rule: CoverRule
    points: int

    @classmethod
    def of(cls, reason: ScoreReason) -> ScoreReasonOut:
        return cls(rule=reason.rule, points=reason.points)


def _reasons(reasons: tuple[ScoreReason, ...]) -> list[ScoreReasonOut]:
    return [ScoreReasonOut.of(r) for r in reasons]


class CandidateOut(CamelStruct):
    faculty_id: str
    name: str
    score: int
    reasons: list[ScoreReasonOut]


class UnavailableOut(CamelStruct):
    """A teacher ruled out of the need, and the hard rule that did it."""

    faculty_id: str
    name: str
    reason: Unavailability


class CandidatesOut(CamelStruct):
    """Every teacher for one need: candidates best first (ties by id), then the ones ruled
    out, by id.
    """

    need_id: str
    candidates: list[CandidateOut]
    unavailable: list[UnavailableOut]

    @classmethod
    def of(
        cls, need_id: str, ranking: CandidateRanking, names: Mapping[FacultyId, str]
    ) -> CandidatesOut:
        return cls(
            need_id=need_id,
            candidates=[
                CandidateOut(
                    faculty_id=c.faculty_id,
                    name=names.get(c.faculty_id, ""),
                    score=c.score,
                    reasons=_reasons(c.reasons),
                )
                for c in ranking.ranked
            ],
            unavailable=[
                UnavailableOut(
                    faculty_id=u.faculty_id, name=names.get(u.faculty_id, ""), reason=u.reason
                )
                for u in ranking.unavailable
            ],
        )


class CoverOfferOut(CamelStruct):
    """A need offered to one substitute; ``attempt`` 1 is the plan's choice, 2 the next
    candidate after a decline or expiry, and so on.
    """

    id: str
    need_id: str
    substitute_id: str
    plan_id: str | None
    attempt: int
    score: int
    reasons: list[ScoreReasonOut]
    offered_at: dt.datetime
    expires_at: dt.datetime
    status: OfferStatus
    answered_at: dt.datetime | None
    decline_reason: str

    @classmethod
    def of(cls, offer: CoverOffer) -> CoverOfferOut:
        return cls(
            id=offer.id,
            need_id=offer.need_id,
            substitute_id=offer.substitute_id,
            plan_id=offer.plan_id,
            attempt=offer.attempt,
            score=offer.score,
            reasons=_reasons(offer.reasons),
            offered_at=offer.offered_at,
            expires_at=offer.expires_at,
            status=offer.status,
            answered_at=offer.answered_at,
            decline_reason=offer.decline_reason,
        )


class CoverOfferPageOut(CamelStruct):
    items: list[CoverOfferOut]
    total: int
    limit: int
    offset: int


class CoverNeedDetailOut(CoverNeedOut):
    """A need and every offer made for it so far."""

    offers: list[CoverOfferOut]

    @classmethod
    def of_detail(cls, detail: CoverNeedDetail) -> CoverNeedDetailOut:
        return cls(
            **msgspec.structs.asdict(CoverNeedOut.of(detail.need)),
            offers=[CoverOfferOut.of(o) for o in detail.offers],
        )


class DeclineIn(CamelBody):
    reason: ReasonText = ""


class AnswerOut(CamelStruct):
    """The answered offer and, after a decline, the next offer of the cascade (``null`` when
    the need went back to the admins, or after an accept or a withdrawal).
    """

    offer: CoverOfferOut
    next_offer: CoverOfferOut | None

    @classmethod
    def of(cls, result: AnswerResult) -> AnswerOut:
        following = result.next_offer
        return cls(
            offer=CoverOfferOut.of(result.offer),
            next_offer=None if following is None else CoverOfferOut.of(following),
        )


# -- plans ------------------------------------------------------------------------------
class OfferNeedIn(CamelBody):
    """The teacher to offer the class to."""

    faculty_id: Id


class CoverPlanIn(CamelBody):
    """The local dates to plan, both included (at most 31 days)."""

    first_day: dt.date = msgspec.field(name="from")
    last_day: dt.date = msgspec.field(name="to")


class PlannedCoverOut(CamelStruct):
    need_id: str
    substitute_id: str
    score: int
    reasons: list[ScoreReasonOut]


class UncoveredOut(CamelStruct):
    need_id: str
    reason: UncoveredReason


class CoverPlanOut(CamelStruct):
    """A plan: the most needs covered, then the best total score; ``covered`` counts its
    assignments, ``uncovered`` says why the other needs are left.
    """

    id: str
    status: PlanStatus
    first_day: dt.date = msgspec.field(name="from")
    last_day: dt.date = msgspec.field(name="to")
    solver: str
    created_at: dt.datetime
    created_by: str
    published_at: dt.datetime | None
    covered: int
    total_score: int
    assignments: list[PlannedCoverOut]
    uncovered: list[UncoveredOut]

    @classmethod
    def of(cls, plan: CoverPlan) -> CoverPlanOut:
        return cls(
            id=plan.id,
            status=plan.status,
            first_day=plan.first_day,
            last_day=plan.last_day,
            solver=plan.solver,
            created_at=plan.created_at,
            created_by=plan.created_by,
            published_at=plan.published_at,
            covered=len(plan.assignments),
            total_score=plan.total_score,
            assignments=[
                PlannedCoverOut(
                    need_id=a.need_id,
                    substitute_id=a.substitute_id,
                    score=a.score,
                    reasons=_reasons(a.reasons),
                )
                for a in plan.assignments
            ],
            uncovered=[UncoveredOut(need_id=u.need_id, reason=u.reason) for u in plan.uncovered],
        )


class CoverPlanPageOut(CamelStruct):
    items: list[CoverPlanOut]
    total: int
    limit: int
    offset: int


class PublishOut(CamelStruct):
    """The published plan, the offers it sent, and the planned needs it could not offer
    (taken meanwhile, or starting too soon).
    """

    plan: CoverPlanOut
    offers: list[CoverOfferOut]
    skipped: list[str]

    @classmethod
    def of(cls, result: PublishResult) -> PublishOut:
        return cls(
            plan=CoverPlanOut.of(result.plan),
            offers=[CoverOfferOut.of(o) for o in result.offers],
            skipped=list(result.skipped),
        )


# -- analytics --------------------------------------------------------------------------
class DayFillOut(CamelStruct):
    date: dt.date
    needs: int
    covered: int
    uncovered: int
    fill_rate: Decimal | None


class LeadTimeFillOut(CamelStruct):
    """Needs that arose ``fromHours`` (included) to ``toHours`` (excluded; ``null``: no
    upper end) before their class.
    """

    label: str
    from_hours: int
    to_hours: int | None
    needs: int
    covered: int
    fill_rate: Decimal | None


class TeacherLoadOut(CamelStruct):
    faculty_id: str
    name: str
    covers: int


class LoadBucketOut(CamelStruct):
    """How many teachers held ``covers`` covers in the window."""

    covers: int
    teachers: int


class CoverAnalyticsOut(CamelStruct):
    """Fill rate (percent of needs covered; ``null`` without needs) over the window, by
    day and by lead time; the needs left uncovered; every teacher's cover load and how the
    load spreads. Cancelled needs are left out.
    """

    first_day: dt.date = msgspec.field(name="from")
    last_day: dt.date = msgspec.field(name="to")
    needs: int
    covered: int
    uncovered: int
    fill_rate: Decimal | None
    by_day: list[DayFillOut]
    by_lead_time: list[LeadTimeFillOut]
    uncovered_needs: list[CoverNeedOut]
    load: list[TeacherLoadOut]
    load_distribution: list[LoadBucketOut]

    @classmethod
    def of(cls, report: CoverAnalyticsReport) -> CoverAnalyticsOut:
        total: FillFigures = report.total
        return cls(
            first_day=report.first_day,
            last_day=report.last_day,
            needs=total.needs,
            covered=total.covered,
            uncovered=total.uncovered,
            fill_rate=total.fill_rate,
            by_day=[
                DayFillOut(
                    date=d.day,
                    needs=d.figures.needs,
                    covered=d.figures.covered,
                    uncovered=d.figures.uncovered,
                    fill_rate=d.figures.fill_rate,
                )
                for d in report.by_day
            ],
            by_lead_time=[
                LeadTimeFillOut(
                    label=b.label,
                    from_hours=b.from_hours,
                    to_hours=b.to_hours,
                    needs=b.figures.needs,
                    covered=b.figures.covered,
                    fill_rate=b.figures.fill_rate,
                )
                for b in report.by_lead_time
            ],
            uncovered_needs=[CoverNeedOut.of(n) for n in report.uncovered],
            load=[
                TeacherLoadOut(faculty_id=t.faculty_id, name=t.name, covers=t.covers)
                for t in report.load
            ],
            load_distribution=[
                LoadBucketOut(covers=covers, teachers=teachers)
                for covers, teachers in report.load_distribution
            ],
        )


# -- substitute preferences -------------------------------------------------------------
_PREFERENCE_CONVERT = {"kind": PreferenceKind}


class PreferenceIn(ChangeBody):
    """``substituteId`` preferred for, or excluded from, the classes of exactly one of: a
    teacher (``facultyId``), a section or a subject.
    """

    substitute_id: Id
    kind: PreferenceKindText
    faculty_id: Id | UnsetType | None = UNSET
    section_id: Id | UnsetType | None = UNSET
    subject_code: Id | UnsetType | None = UNSET
    note: PreferenceNote | UnsetType = UNSET

    convert = _PREFERENCE_CONVERT


class PreferencePatch(ChangeBody):
    """The fields to change; ``null`` clears a scope (exactly one must stay set)."""

    substitute_id: Id | UnsetType = UNSET
    kind: PreferenceKindText | UnsetType = UNSET
    faculty_id: Id | UnsetType | None = UNSET
    section_id: Id | UnsetType | None = UNSET
    subject_code: Id | UnsetType | None = UNSET
    note: PreferenceNote | UnsetType = UNSET
    version: Version | None = None

    convert = _PREFERENCE_CONVERT


class PreferenceOut(CamelStruct):
    id: str
    substitute_id: str
    kind: PreferenceKind
    faculty_id: str | None
    section_id: str | None
    subject_code: str | None
    note: str
    version: int

    @classmethod
    def of(cls, preference: SubstitutePreference) -> PreferenceOut:
        return cls(
            id=preference.id,
            substitute_id=preference.substitute_id,
            kind=preference.kind,
            faculty_id=preference.faculty_id,
            section_id=preference.section_id,
            subject_code=preference.subject_code,
            note=preference.note,
            version=preference.version,
        )


class PreferencePageOut(CamelStruct):
    items: list[PreferenceOut]
    total: int
    limit: int
    offset: int
