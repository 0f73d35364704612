"""Substitute matching: the hard rules that rule a teacher out, and the weighted soft rules
that score the rest, with the reasons (rule → points) behind every score (PRODUCT.md §2.6).

Everything here is a pure function of a :class:`CoverBoard`, a snapshot of what matters
around the needs (teachers, their classes, absences, covers, offers and preferences), so the
ranking of one need and a whole cover plan use the very same rules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ams_core.domain.cover_needs import CoverNeed
from ams_core.domain.ids import AbsenceId, FacultyId, SectionId, SubjectCode
from ams_core.domain.institution import CoverSettings
from ams_core.domain.people import Faculty
from ams_core.domain.substitutes import PreferenceKind, SubstitutePreference

#: an own class ending or starting this close to the need makes the cover "adjacent"
ADJACENT_GAP = timedelta(minutes=30)


class CoverRule(enum.Enum):
    """The soft rules; each adds its institution's weight (fairness: a share of it)."""

    QUALIFIED = "qualified"
    TEACHES_SECTION = "teaches_section"
    SAME_DEPARTMENT = "same_department"
    ADJACENT = "adjacent"
    FAIRNESS = "fairness"
    CONTINUITY = "continuity"
    PREFERRED = "preferred"


class Unavailability(enum.Enum):
    """The hard rule that rules a teacher out of one need (the first that applies)."""

    ABSENT = "absent"
    NOT_QUALIFIED = "not_qualified"
    EXCLUDED = "excluded"
    TEACHING = "teaching"
    COVERING = "covering"
    OFFERED_ELSEWHERE = "offered_elsewhere"
    DAILY_CAP = "daily_cap"
    WEEKLY_CAP = "weekly_cap"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class ScoreReason:
    """Why a candidate got points: the rule and how many."""

    rule: CoverRule
    points: int


@dataclass(frozen=True, slots=True)
class RankedCandidate:
    """A teacher who may cover the need, with the score and its reasons."""

    faculty_id: FacultyId
    score: int
    reasons: tuple[ScoreReason, ...]


@dataclass(frozen=True, slots=True)
class UnavailableCandidate:
    """A teacher ruled out of the need, and the hard rule that did it."""

    faculty_id: FacultyId
    reason: Unavailability


@dataclass(frozen=True, slots=True)
class CandidateRanking:
    """Every teacher of the institution for one need: the ranked ones best first (ties by
    id), the ruled-out ones by id.
    """

    ranked: tuple[RankedCandidate, ...]
    unavailable: tuple[UnavailableCandidate, ...]


@dataclass(frozen=True, slots=True)
class BusySpan:
    """A span a teacher is taken: a class they teach, a cover they hold or an offer out.

    ``absence_id`` names the absence a cover or offer stands in for (continuity).
    """

    starts_at: datetime
    ends_at: datetime
    day: date
    absence_id: AbsenceId | None = None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the booking shares any instant with [start, end)."""
        return self.starts_at < end and start < self.ends_at


@dataclass(frozen=True, slots=True)
class TeacherDay:
    """What one teacher has on the board: classes, absences, covers held and offers out.

    ``covers`` are accepted covers (they count against caps); ``offers`` are open offers
    (they block the time but count against no cap). ``recent_covers`` counts the covers in
    the fairness window; ``sections`` are the sections the teacher teaches.
    """

    faculty: Faculty
    classes: tuple[BusySpan, ...] = ()
    absences: tuple[tuple[datetime, datetime], ...] = ()
    covers: tuple[BusySpan, ...] = ()
    offers: tuple[BusySpan, ...] = ()
    sections: frozenset[SectionId] = frozenset()
    recent_covers: int = 0


@dataclass(frozen=True, slots=True)
class CoverBoard:
    """The snapshot the rules read: settings, every teacher, the preferences.

    ``order`` (teacher ids ascending) and ``qualified`` (subject → qualified teacher ids,
    ascending) are derived once, so ranking many needs does not sort or scan every teacher
    again for each.
    """

    settings: CoverSettings
    teachers: Mapping[FacultyId, TeacherDay]
    preferences: tuple[SubstitutePreference, ...] = ()
    order: tuple[FacultyId, ...] = field(init=False)
    qualified: Mapping[SubjectCode, tuple[FacultyId, ...]] = field(init=False)

    def __post_init__(self) -> None:
        order = tuple(sorted(self.teachers))
        qualified: dict[SubjectCode, list[FacultyId]] = {}
        for faculty_id in order:
            for subject in self.teachers[faculty_id].faculty.qualified_subjects:
                qualified.setdefault(subject, []).append(faculty_id)
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "qualified", {k: tuple(v) for k, v in qualified.items()})

    def pool(self, need: CoverNeed) -> tuple[FacultyId, ...]:
        """The teachers who may be ranked at all: with ``qualified_only``, those qualified
        in the need's subject; otherwise every teacher.
        """
        if self.settings.qualified_only:
            return self.qualified.get(need.subject_code, ())
        return self.order

    def daily_cap(self, teacher: Faculty) -> int:
        """The teacher's own daily cap, else the institution's."""
        own = teacher.max_covers_per_day
        return self.settings.max_covers_per_day if own is None else own

    def weekly_cap(self, teacher: Faculty) -> int:
        """The teacher's own weekly cap, else the institution's."""
        own = teacher.max_covers_per_week
        return self.settings.max_covers_per_week if own is None else own

    def preference(self, teacher: FacultyId, need: CoverNeed) -> PreferenceKind | None:
        """Excluded wins over preferred when both apply to the need."""
        kinds = {
            p.kind for p in self.preferences if p.substitute_id == teacher and p.applies_to(need)
        }
        if PreferenceKind.EXCLUDED in kinds:
            return PreferenceKind.EXCLUDED
        return PreferenceKind.PREFERRED if kinds else None


def iso_week(day: date) -> tuple[int, int]:
    """The (ISO year, ISO week) a day falls in; caps count per ISO week."""
    year, week, _ = day.isocalendar()
    return year, week


def covers_on(bookings: Iterable[BusySpan], day: date) -> int:
    """How many of the bookings fall on ``day``."""
    return sum(1 for b in bookings if b.day == day)


def covers_in_week(bookings: Iterable[BusySpan], day: date) -> int:
    """How many of the bookings fall in the ISO week of ``day``."""
    week = iso_week(day)
    return sum(1 for b in bookings if iso_week(b.day) == week)


def time_block(board: CoverBoard, teacher: TeacherDay, need: CoverNeed) -> Unavailability | None:
    """The hard rule about time and lists that rules ``teacher`` out of ``need``, if any:
    absent, excluded, teaching, covering or offered something overlapping. Caps are separate
    (:func:`cap_block`), since a plan spends them across needs.
    """
    start, end = need.starts_at, need.ends_at
    faculty = teacher.faculty
    if faculty.id == need.absent_faculty_id or any(
        a_start < end and start < a_end for a_start, a_end in teacher.absences
    ):
        return Unavailability.ABSENT
    if board.preference(faculty.id, need) is PreferenceKind.EXCLUDED:
        return Unavailability.EXCLUDED
    if any(b.overlaps(start, end) for b in teacher.classes):
        return Unavailability.TEACHING
    if any(b.overlaps(start, end) for b in teacher.covers):
        return Unavailability.COVERING
    if any(b.overlaps(start, end) for b in teacher.offers):
        return Unavailability.OFFERED_ELSEWHERE
    return None


def cap_block(board: CoverBoard, teacher: TeacherDay, need: CoverNeed) -> Unavailability | None:
    """The cap the teacher's accepted covers already reach on the need's day or week."""
    if covers_on(teacher.covers, need.day) >= board.daily_cap(teacher.faculty):
        return Unavailability.DAILY_CAP
    if covers_in_week(teacher.covers, need.day) >= board.weekly_cap(teacher.faculty):
        return Unavailability.WEEKLY_CAP
    return None


def score(board: CoverBoard, teacher: TeacherDay, need: CoverNeed) -> RankedCandidate:
    """Score an eligible teacher for a need; every rule that gives points is a reason."""
    weights = board.settings
    faculty = teacher.faculty
    reasons: list[ScoreReason] = []

    def add(rule: CoverRule, points: int) -> None:
        if points > 0:
            reasons.append(ScoreReason(rule, points))

    if need.subject_code in faculty.qualified_subjects:
        add(CoverRule.QUALIFIED, weights.weight_qualified)
    if need.section_id in teacher.sections:
        add(CoverRule.TEACHES_SECTION, weights.weight_teaches_section)
    absent = board.teachers.get(need.absent_faculty_id)
    if absent is not None and absent.faculty.department == faculty.department != "":
        add(CoverRule.SAME_DEPARTMENT, weights.weight_same_department)
    if _adjacent(teacher, need):
        add(CoverRule.ADJACENT, weights.weight_adjacent)
    # a teacher without recent covers gets the whole weight, one with n of them 1/(n+1)
    add(CoverRule.FAIRNESS, weights.weight_fairness // (1 + teacher.recent_covers))
    if any(b.absence_id == need.absence_id for b in (*teacher.covers, *teacher.offers)):
        add(CoverRule.CONTINUITY, weights.weight_continuity)
    if board.preference(faculty.id, need) is PreferenceKind.PREFERRED:
        add(CoverRule.PREFERRED, weights.weight_preferred)
    return RankedCandidate(faculty.id, sum(r.points for r in reasons), tuple(reasons))


def _adjacent(teacher: TeacherDay, need: CoverNeed) -> bool:
    for booking in (*teacher.classes, *teacher.covers):
        if booking.day != need.day:
            continue
        if timedelta(0) <= need.starts_at - booking.ends_at <= ADJACENT_GAP:
            return True
        if timedelta(0) <= booking.starts_at - need.ends_at <= ADJACENT_GAP:
            return True
    return False


def rank_candidates(
    board: CoverBoard,
    need: CoverNeed,
    passed_over: frozenset[FacultyId] = frozenset(),
    *,
    explain: bool = True,
) -> CandidateRanking:
    """Rank every teacher of the board for ``need``: best score first, ties by faculty id.

    ``passed_over`` are the teachers who already declined the need or let its offer expire.
    With ``explain=False`` the ruled-out teachers are not listed (a plan over many needs
    asks for them only for the needs it leaves uncovered).
    """
    ranked: list[RankedCandidate] = []
    unavailable: list[UnavailableCandidate] = []
    pool = board.pool(need)
    if explain and board.settings.qualified_only:
        in_pool = frozenset(pool)
        unavailable += [
            UnavailableCandidate(f, Unavailability.NOT_QUALIFIED)
            for f in board.order
            if f not in in_pool
        ]
    for faculty_id in pool:
        teacher = board.teachers[faculty_id]
        block = time_block(board, teacher, need) or cap_block(board, teacher, need)
        if block is None and faculty_id in passed_over:
            block = Unavailability.DECLINED
        if block is None:
            ranked.append(score(board, teacher, need))
        elif explain:
            unavailable.append(UnavailableCandidate(faculty_id, block))
    ranked.sort(key=lambda c: (-c.score, c.faculty_id))
    unavailable.sort(key=lambda u: u.faculty_id)
    return CandidateRanking(tuple(ranked), tuple(unavailable))
