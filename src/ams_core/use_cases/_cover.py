"""What the cover use cases share (not public API): the board a ranking reads, turning an
absence into needs, offering a need to the next candidate, and releasing a need.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TypeVar

from ams_core.domain.absences import Absence
from ams_core.domain.calendar import DateRange
from ams_core.domain.cover import CoverAssignment
from ams_core.domain.cover_matching import (
    BusySpan,
    CandidateRanking,
    CoverBoard,
    RankedCandidate,
    TeacherDay,
    rank_candidates,
)
from ams_core.domain.cover_needs import CoverNeed, NeedStatus
from ams_core.domain.cover_offers import CoverOffer, OfferStatus
from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.ids import (
    AbsenceId,
    CoverNeedId,
    CoverOfferId,
    CoverPlanId,
    FacultyId,
    NotificationId,
)
from ams_core.domain.institution import Institution
from ams_core.domain.notifications import Notification, Recipient, RecipientKind
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.ports.clock import RandomSource
from ams_core.ports.persistence import UnitOfWork

#: open offers of one teacher looked at when they become absent (far more than anyone has)
MAX_OPEN_OFFERS = 500
OFFER_KIND = "cover_offer"
OFFER_WITHDRAWN_KIND = "cover_offer_withdrawn"
COVERED_KIND = "session_covered"
COVER_CANCELLED_KIND = "session_cover_cancelled"
ESCALATED_KIND = "cover_escalated"

#: sessions that still take place (a need for a completed or cancelled class makes no sense)
_LIVE = frozenset({SessionStatus.SCHEDULED, SessionStatus.OPEN})


E = TypeVar("E", bound=enum.Enum)


def parse_choice(choices: type[E], value: str, field: str) -> E:
    """The member of ``choices`` whose value is ``value``, or a ValidationError naming
    ``field`` and every allowed value.
    """
    for choice in choices:
        if choice.value == value:
            return choice
    allowed = ", ".join(str(c.value) for c in choices)
    raise ValidationError([FieldProblem(field, f"must be one of {allowed}")])


def notify_withdrawn(
    uow: UnitOfWork, random: RandomSource, now: datetime, offer: CoverOffer
) -> None:
    """Tell the substitute their open offer was taken back."""
    notify(
        uow,
        random,
        now,
        offer.institution_id,
        OFFER_WITHDRAWN_KIND,
        ("Cover no longer needed", "An offer to cover a class was withdrawn."),
        [Recipient(RecipientKind.FACULTY, offer.substitute_id)],
        {"offerId": offer.id, "needId": offer.need_id},
    )


def is_live(session: ClassSession) -> bool:
    """Whether the class still takes place (scheduled or open)."""
    return session.status in _LIVE


def week_span(first_day: date, last_day: date) -> tuple[date, date]:
    """Monday of ``first_day``'s ISO week to Sunday of ``last_day``'s: the days caps count."""
    return (
        first_day - timedelta(days=first_day.weekday()),
        last_day + timedelta(days=6 - last_day.weekday()),
    )


def _local_midnight(institution: Institution, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=institution.tz)


def load_board(
    uow: UnitOfWork,
    institution: Institution,
    first_day: date,
    last_day: date,
    needs_in_span: Sequence[CoverNeed] | None = None,
) -> CoverBoard:
    """Read everything the rules need about ``first_day``..``last_day``: every teacher with
    their classes, effective absences, accepted covers (whole ISO weeks, for the caps), open
    offers, the sections they teach and their covers in the fairness window.

    ``needs_in_span``: every need of the whole ISO weeks (:func:`week_span`), when the
    caller has read them already.
    """
    tz = institution.tz
    week_start, week_end = week_span(first_day, last_day)
    span_start = _local_midnight(institution, week_start)
    span_end = _local_midnight(institution, week_end + timedelta(days=1))
    settings = institution.settings.cover

    classes: dict[FacultyId, list[BusySpan]] = {}
    for booking in uow.sessions.teacher_bookings(DateRange(first_day, last_day)):
        classes.setdefault(booking.teacher_id, []).append(
            BusySpan(
                datetime.combine(booking.date, booking.start, tzinfo=tz),
                datetime.combine(booking.date, booking.end, tzinfo=tz),
                booking.date,
            )
        )
    absences: dict[FacultyId, list[tuple[datetime, datetime]]] = {}
    for absence in uow.absences.list_overlapping(span_start, span_end):
        if absence.is_effective:
            absences.setdefault(absence.faculty_id, []).append((absence.starts_at, absence.ends_at))

    if needs_in_span is None:
        needs_in_span = uow.cover_needs.list_between(week_start, week_end)
    absence_of_session = {n.session_id: n.absence_id for n in needs_in_span}
    covers: dict[FacultyId, list[BusySpan]] = {}
    for cover in uow.covers.list_between(span_start, span_end):
        covers.setdefault(cover.substitute_id, []).append(
            _cover_span(cover, tz, absence_of_session.get(cover.session_id))
        )
    offered = [n for n in needs_in_span if n.status is NeedStatus.OFFERED]
    need_by_id = {n.id: n for n in offered}
    offers: dict[FacultyId, list[BusySpan]] = {}
    for offer in uow.cover_offers.open_for_needs([n.id for n in offered]):
        need = need_by_id[offer.need_id]
        offers.setdefault(offer.substitute_id, []).append(
            BusySpan(need.starts_at, need.ends_at, need.day, need.absence_id)
        )

    sections = uow.assignments.sections_by_teacher()
    window_start = _local_midnight(
        institution, first_day - timedelta(days=settings.fairness_window_days)
    )
    recent = uow.covers.count_by_substitute(window_start, _local_midnight(institution, first_day))

    teachers = {
        f.id: TeacherDay(
            faculty=f,
            classes=tuple(classes.get(f.id, ())),
            absences=tuple(absences.get(f.id, ())),
            covers=tuple(covers.get(f.id, ())),
            offers=tuple(offers.get(f.id, ())),
            sections=sections.get(f.id, frozenset()),
            recent_covers=recent.get(f.id, 0),
        )
        for f in uow.faculty.list()
    }
    return CoverBoard(settings, teachers, tuple(uow.substitute_preferences.list()))


def _cover_span(cover: CoverAssignment, tz: tzinfo, absence_id: AbsenceId | None) -> BusySpan:
    return BusySpan(
        cover.starts_at, cover.ends_at, cover.starts_at.astimezone(tz).date(), absence_id
    )


def one_teacher_board(
    uow: UnitOfWork, institution: Institution, faculty_id: FacultyId, need: CoverNeed
) -> tuple[CoverBoard, TeacherDay]:
    """The board of :func:`load_board` for one teacher and one need, read with that
    teacher's own queries (an accept checks one substitute, not the whole institution).
    Offers are left out: of a teacher's open offers, whichever they accept first wins.
    """
    tz = institution.tz
    week_start, week_end = week_span(need.day, need.day)
    span_start = _local_midnight(institution, week_start)
    span_end = _local_midnight(institution, week_end + timedelta(days=1))
    sessions = uow.sessions.list_for_teacher(faculty_id, DateRange(need.day, need.day))
    teacher = TeacherDay(
        faculty=uow.faculty.get(faculty_id),
        classes=tuple(
            BusySpan(s.starts_at(tz), s.ends_at(tz), s.date)
            for s in sessions
            if s.status is not SessionStatus.CANCELLED
        ),
        absences=tuple(
            (a.starts_at, a.ends_at)
            for a in uow.absences.list_overlapping(span_start, span_end)
            if a.faculty_id == faculty_id and a.is_effective
        ),
        covers=tuple(
            _cover_span(c, tz, None)
            for c in uow.covers.list_for_substitute(faculty_id, span_start, span_end)
        ),
    )
    board = CoverBoard(
        institution.settings.cover,
        {faculty_id: teacher},
        tuple(uow.substitute_preferences.list()),
    )
    return board, teacher


def passed_over(uow: UnitOfWork, need: CoverNeed) -> frozenset[FacultyId]:
    """Teachers already asked for the need who did not take it (declined, expired,
    withdrawn): the cascade never asks them again.
    """
    return frozenset(o.substitute_id for o in uow.cover_offers.list_for_need(need.id))


def asked_before(uow: UnitOfWork, need: CoverNeed) -> frozenset[FacultyId]:
    """:func:`passed_over`, without a read for a need still open (never offered)."""
    return passed_over(uow, need) if need.status is not NeedStatus.OPEN else frozenset()


def rank_need(uow: UnitOfWork, board: CoverBoard, need: CoverNeed) -> CandidateRanking:
    """Rank the teachers for ``need``, leaving out those already asked."""
    return rank_candidates(board, need, asked_before(uow, need))


def notify(
    uow: UnitOfWork,
    random: RandomSource,
    now: datetime,
    institution_id: str,
    kind: str,
    text: tuple[str, str],
    recipients: Iterable[Recipient],
    data: Mapping[str, str],
) -> None:
    """Write one notification to the outbox (delivered by the relay after the commit)."""
    addressed = tuple(recipients)
    if not addressed:
        return
    notification_id = NotificationId(random.new_id())
    uow.outbox.add(
        Notification(
            id=notification_id,
            institution_id=institution_id,  # type: ignore[arg-type]
            kind=kind,
            title=text[0],
            body=text[1],
            recipients=addressed,
            idempotency_key=f"{kind}:{notification_id}",
            created_at=now,
            data=dict(data),
        )
    )


def _class_words(session: ClassSession) -> str:
    when = f"{session.date:%a %d %b} at {session.start:%H:%M}"
    return f"{session.subject_code} for {session.section_id} on {when}"


def offer_to(
    uow: UnitOfWork,
    institution: Institution,
    need: CoverNeed,
    candidate: RankedCandidate,
    *,
    attempt: int,
    plan_id: CoverPlanId | None,
    now: datetime,
    random: RandomSource,
) -> CoverOffer | None:
    """Offer ``need`` to ``candidate`` and tell them; ``None`` when the class starts too soon
    for an offer to be answered.
    """
    expires_at = min(
        now + timedelta(minutes=institution.settings.cover.offer_expiry_minutes), need.starts_at
    )
    if expires_at <= now:
        return None
    offer = CoverOffer(
        id=CoverOfferId(random.new_id()),
        institution_id=institution.id,
        need_id=need.id,
        substitute_id=candidate.faculty_id,
        plan_id=plan_id,
        attempt=attempt,
        score=candidate.score,
        reasons=candidate.reasons,
        offered_at=now,
        expires_at=expires_at,
    )
    uow.cover_offers.add(offer)
    if need.status is not NeedStatus.OFFERED:
        uow.cover_needs.update(need.offered())
    session = uow.sessions.get(need.session_id)
    notify(
        uow,
        random,
        now,
        institution.id,
        OFFER_KIND,
        (
            "Can you cover a class?",
            (
                f"{_class_words(session)}. Please answer by "
                f"{expires_at.astimezone(institution.tz):%H:%M}."
            ),
        ),
        [Recipient(RecipientKind.FACULTY, candidate.faculty_id)],
        {"offerId": offer.id, "needId": need.id, "sessionId": need.session_id},
    )
    return offer


def offer_next(
    uow: UnitOfWork,
    institution: Institution,
    need: CoverNeed,
    *,
    now: datetime,
    random: RandomSource,
    plan_id: CoverPlanId | None = None,
) -> CoverOffer | None:
    """The cascade: offer the need to the best teacher not asked yet; when nobody is left
    (or the class starts too soon), hand the need back to the admins.
    """
    board = load_board(uow, institution, need.day, need.day)
    asked = uow.cover_offers.list_for_need(need.id)
    ranking = rank_candidates(board, need, frozenset(o.substitute_id for o in asked))
    if ranking.ranked and need.starts_at > now:
        offer = offer_to(
            uow,
            institution,
            need,
            ranking.ranked[0],
            attempt=len(asked) + 1,
            plan_id=plan_id,
            now=now,
            random=random,
        )
        if offer is not None:
            return offer
    uow.cover_needs.update(need.escalated())
    admins = [f.id for f in uow.faculty.list() if f.is_admin]
    session = uow.sessions.get(need.session_id)
    notify(
        uow,
        random,
        now,
        institution.id,
        ESCALATED_KIND,
        ("Cover still needed", f"Nobody could take {_class_words(session)}."),
        [Recipient(RecipientKind.FACULTY, a) for a in admins],
        {"needId": need.id, "sessionId": need.session_id},
    )
    return None


def release_need(
    uow: UnitOfWork,
    institution: Institution,
    need: CoverNeed,
    *,
    now: datetime,
    random: RandomSource,
) -> None:
    """Withdraw the need's open offer, or take back its cover and give the class back to
    the absent teacher; tell whoever is affected. The need's own status is the caller's.
    """
    offer = uow.cover_offers.open_for_need(need.id)
    if offer is not None:
        uow.cover_offers.update(offer.withdraw(now))
        notify_withdrawn(uow, random, now, offer)
    cover = uow.covers.for_session(need.session_id)
    if cover is None:
        return
    uow.covers.remove(cover.id)
    session = uow.sessions.get(need.session_id)
    if is_live(session) and session.teacher_id == cover.substitute_id:
        uow.sessions.update(dataclasses.replace(session, teacher_id=need.absent_faculty_id))
    notify(
        uow,
        random,
        now,
        institution.id,
        COVER_CANCELLED_KIND,
        ("Cover cancelled", f"{_class_words(session)} is no longer covered."),
        [
            Recipient(RecipientKind.FACULTY, cover.substitute_id),
            Recipient(RecipientKind.SECTION, session.section_id),
        ],
        {"sessionId": session.id, "needId": need.id},
    )


def needs_for_sessions(
    uow: UnitOfWork,
    institution: Institution,
    absence: Absence,
    sessions: Sequence[ClassSession],
    *,
    now: datetime,
    random: RandomSource,
) -> list[CoverNeed]:
    """Make a need of every live session of the absent teacher inside the absence that
    has none yet; a class the teacher was covering for somebody else goes back to being
    needed by its own absence.
    """
    tz = institution.tz
    created: list[CoverNeed] = []
    for session in sorted(sessions, key=lambda s: (s.date, s.start, s.id)):
        start, end = session.starts_at(tz), session.ends_at(tz)
        if not is_live(session) or not absence.overlaps(start, end):
            continue
        if session.teacher_id != absence.faculty_id:
            continue
        existing = uow.cover_needs.for_session(session.id)
        if existing is not None:
            if existing.substitute_id == absence.faculty_id:
                # the absent teacher was the substitute: the class needs somebody else
                release_need(uow, institution, existing, now=now, random=random)
                uow.cover_needs.update(existing.reopened())
            continue
        created.append(
            CoverNeed(
                id=CoverNeedId(random.new_id()),
                institution_id=institution.id,
                absence_id=AbsenceId(absence.id),
                session_id=session.id,
                absent_faculty_id=absence.faculty_id,
                section_id=session.section_id,
                subject_code=session.subject_code,
                day=session.date,
                starts_at=start,
                ends_at=end,
                created_at=now,
            )
        )
    if created:
        uow.cover_needs.add_many(created)
    return created


def absence_needs(
    uow: UnitOfWork,
    institution: Institution,
    absence: Absence,
    *,
    now: datetime,
    random: RandomSource,
) -> list[CoverNeed]:
    """Make the needs of an effective absence from the teacher's sessions it spans; the
    teacher's own open offers inside it are withdrawn and go to the next candidate.
    """
    tz = institution.tz
    days = DateRange(
        absence.starts_at.astimezone(tz).date(),
        (absence.ends_at - timedelta(microseconds=1)).astimezone(tz).date(),
    )
    sessions = uow.sessions.list_for_teacher(absence.faculty_id, days)
    created = needs_for_sessions(uow, institution, absence, sessions, now=now, random=random)
    offered = uow.cover_offers.page(
        MAX_OPEN_OFFERS, substitute_id=absence.faculty_id, status=OfferStatus.OFFERED
    )
    for offer in offered.items:
        need = uow.cover_needs.get(offer.need_id)
        if need.overlaps(absence.starts_at, absence.ends_at):
            uow.cover_offers.update(offer.withdraw(now))
            notify_withdrawn(uow, random, now, offer)
            offer_next(uow, institution, need, now=now, random=random)
    return created
