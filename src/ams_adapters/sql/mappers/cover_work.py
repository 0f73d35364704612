"""Rows of absences, cover needs, cover plans, cover offers and substitute preferences.

A plan's planned covers and uncovered needs, and an offer's score reasons, are JSON lists
(JSONB on PostgreSQL) kept in the entity's order.
"""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    CoverPlan,
    CoverPlanId,
    CoverRule,
    FacultyId,
    InstitutionId,
    NeedStatus,
    OfferStatus,
    PlannedCover,
    PlanStatus,
    PreferenceId,
    PreferenceKind,
    ScoreReason,
    SectionId,
    SessionId,
    SubjectCode,
    SubstitutePreference,
    UncoveredNeed,
    UncoveredReason,
)


def absence_row(a: Absence) -> dict[str, Any]:
    return {
        "institution_id": a.institution_id,
        "id": a.id,
        "faculty_id": a.faculty_id,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "kind": a.kind.value,
        "status": a.status.value,
        "reported_at": a.reported_at,
        "reported_by": a.reported_by,
        "note": a.note,
        "decided_at": a.decided_at,
        "decided_by": a.decided_by,
        "version": a.version,
    }


def absence_from(row: Row) -> Absence:
    return Absence(
        id=AbsenceId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        faculty_id=FacultyId(row["faculty_id"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        kind=AbsenceKind(row["kind"]),
        status=AbsenceStatus(row["status"]),
        reported_at=row["reported_at"],
        reported_by=row["reported_by"],
        note=row["note"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        version=row["version"],
    )


def need_row(n: CoverNeed) -> dict[str, Any]:
    return {
        "institution_id": n.institution_id,
        "id": n.id,
        "absence_id": n.absence_id,
        "session_id": n.session_id,
        "absent_faculty_id": n.absent_faculty_id,
        "section_id": n.section_id,
        "subject_code": n.subject_code,
        "day": n.day,
        "starts_at": n.starts_at,
        "ends_at": n.ends_at,
        "created_at": n.created_at,
        "status": n.status.value,
        "substitute_id": n.substitute_id,
        "closed_at": n.closed_at,
        "version": n.version,
    }


def need_from(row: Row) -> CoverNeed:
    substitute = row["substitute_id"]
    return CoverNeed(
        id=CoverNeedId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        absence_id=AbsenceId(row["absence_id"]),
        session_id=SessionId(row["session_id"]),
        absent_faculty_id=FacultyId(row["absent_faculty_id"]),
        section_id=SectionId(row["section_id"]),
        subject_code=SubjectCode(row["subject_code"]),
        day=row["day"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
        status=NeedStatus(row["status"]),
        substitute_id=None if substitute is None else FacultyId(substitute),
        closed_at=row["closed_at"],
        version=row["version"],
    )


def reasons_to_json(reasons: tuple[ScoreReason, ...]) -> list[dict[str, Any]]:
    return [{"rule": r.rule.value, "points": r.points} for r in reasons]


def reasons_from_json(data: Any) -> tuple[ScoreReason, ...]:
    return tuple(ScoreReason(CoverRule(r["rule"]), int(r["points"])) for r in data or ())


def plan_row(p: CoverPlan) -> dict[str, Any]:
    return {
        "institution_id": p.institution_id,
        "id": p.id,
        "first_day": p.first_day,
        "last_day": p.last_day,
        "created_at": p.created_at,
        "created_by": p.created_by,
        "solver": p.solver,
        "assignments": [
            {
                "need_id": a.need_id,
                "substitute_id": a.substitute_id,
                "score": a.score,
                "reasons": reasons_to_json(a.reasons),
            }
            for a in p.assignments
        ],
        "uncovered": [{"need_id": u.need_id, "reason": u.reason.value} for u in p.uncovered],
        "status": p.status.value,
        "published_at": p.published_at,
        "version": p.version,
    }


def plan_from(row: Row) -> CoverPlan:
    return CoverPlan(
        id=CoverPlanId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        first_day=row["first_day"],
        last_day=row["last_day"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        solver=row["solver"],
        assignments=tuple(
            PlannedCover(
                need_id=CoverNeedId(a["need_id"]),
                substitute_id=FacultyId(a["substitute_id"]),
                score=int(a["score"]),
                reasons=reasons_from_json(a["reasons"]),
            )
            for a in row["assignments"] or ()
        ),
        uncovered=tuple(
            UncoveredNeed(CoverNeedId(u["need_id"]), UncoveredReason(u["reason"]))
            for u in row["uncovered"] or ()
        ),
        status=PlanStatus(row["status"]),
        published_at=row["published_at"],
        version=row["version"],
    )


def offer_row(o: CoverOffer) -> dict[str, Any]:
    return {
        "institution_id": o.institution_id,
        "id": o.id,
        "need_id": o.need_id,
        "substitute_id": o.substitute_id,
        "plan_id": o.plan_id,
        "attempt": o.attempt,
        "score": o.score,
        "reasons": reasons_to_json(o.reasons),
        "offered_at": o.offered_at,
        "expires_at": o.expires_at,
        "status": o.status.value,
        "answered_at": o.answered_at,
        "decline_reason": o.decline_reason,
        "version": o.version,
    }


def offer_from(row: Row) -> CoverOffer:
    plan = row["plan_id"]
    return CoverOffer(
        id=CoverOfferId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        need_id=CoverNeedId(row["need_id"]),
        substitute_id=FacultyId(row["substitute_id"]),
        plan_id=None if plan is None else CoverPlanId(plan),
        attempt=row["attempt"],
        score=row["score"],
        reasons=reasons_from_json(row["reasons"]),
        offered_at=row["offered_at"],
        expires_at=row["expires_at"],
        status=OfferStatus(row["status"]),
        answered_at=row["answered_at"],
        decline_reason=row["decline_reason"],
        version=row["version"],
    )


def preference_row(p: SubstitutePreference) -> dict[str, Any]:
    return {
        "institution_id": p.institution_id,
        "id": p.id,
        "substitute_id": p.substitute_id,
        "kind": p.kind.value,
        "faculty_id": p.faculty_id,
        "section_id": p.section_id,
        "subject_code": p.subject_code,
        "note": p.note,
        "version": p.version,
    }


def preference_from(row: Row) -> SubstitutePreference:
    faculty, section, subject = row["faculty_id"], row["section_id"], row["subject_code"]
    return SubstitutePreference(
        id=PreferenceId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        substitute_id=FacultyId(row["substitute_id"]),
        kind=PreferenceKind(row["kind"]),
        faculty_id=None if faculty is None else FacultyId(faculty),
        section_id=None if section is None else SectionId(section),
        subject_code=None if subject is None else SubjectCode(subject),
        note=row["note"],
        version=row["version"],
    )
