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
from ams_core.domain.cover_solving.problem import PlanningCandidate
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
    #: every listed teacher's name, by id (for the people reading the ranking)
    names: Mapping[FacultyId, str] = field(default_factory=dict)


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
    _preferences_of: Mapping[FacultyId, tuple[SubstitutePreference, ...]] = field(
        init=False, repr=False, compare=False
    )
    _free: dict[tuple[datetime, datetime], frozenset[FacultyId]] = field(
        init=False, repr=False, compare=False
    )
    _free_in_pool: dict[tuple[SubjectCode | None, datetime, datetime], tuple[FacultyId, ...]] = (
        field(init=False, repr=False, compare=False)
    )
    _adjacent: dict[tuple[FacultyId, datetime, datetime], bool] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # a deactivated teacher is never a candidate (but stays on the board as the absent one)
        order = tuple(sorted(f for f, t in self.teachers.items() if t.faculty.active))
        qualified: dict[SubjectCode, list[FacultyId]] = {}
        for faculty_id in order:
            for subject in self.teachers[faculty_id].faculty.qualified_subjects:
                qualified.setdefault(subject, []).append(faculty_id)
        preferences_of: dict[FacultyId, list[SubstitutePreference]] = {}
        for preference in self.preferences:
            preferences_of.setdefault(preference.substitute_id, []).append(preference)
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "qualified", {k: tuple(v) for k, v in qualified.items()})
        object.__setattr__(
            self, "_preferences_of", {k: tuple(v) for k, v in preferences_of.items()}
        )
        object.__setattr__(self, "_free", {})
        object.__setattr__(self, "_free_in_pool", {})
        object.__setattr__(self, "_adjacent", {})

    def free_between(self, start: datetime, end: datetime) -> frozenset[FacultyId]:
        """Teachers neither absent nor teaching, covering or offered anything overlapping
        [start, end): the time rules of :func:`time_block`, worked out once per span (a plan
        has many needs in few periods).
        """
        key = (start, end)
        free = self._free.get(key)
        if free is None:
            free = frozenset(
                faculty_id
                for faculty_id, teacher in self.teachers.items()
                if not _busy(teacher, start, end)
            )
            self._free[key] = free
        return free

    def free_in_pool(self, need: CoverNeed) -> tuple[FacultyId, ...]:
        """:meth:`pool` less the teachers :meth:`free_between` leaves out, in id order;
        worked out once per subject (with ``qualified_only``) and span.
        """
        subject = need.subject_code if self.settings.qualified_only else None
        key = (subject, need.starts_at, need.ends_at)
        found = self._free_in_pool.get(key)
        if found is None:
            free = self.free_between(need.starts_at, need.ends_at)
            found = tuple(f for f in self.pool(need) if f in free)
            self._free_in_pool[key] = found
        return found

    def adjacent(self, teacher: TeacherDay, need: CoverNeed) -> bool:
        """:func:`_adjacent`, remembered per teacher and span."""
        key = (teacher.faculty.id, need.starts_at, need.ends_at)
        found = self._adjacent.get(key)
        if found is None:
            found = _adjacent(teacher, need)
            self._adjacent[key] = found
        return found

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
        own = self._preferences_of.get(teacher)
        if not own:
            return None
        kinds = {p.kind for p in own if p.applies_to(need)}
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
    # a class the teacher covers is among their classes too: it is named a cover
    if any(b.overlaps(start, end) for b in teacher.covers):
        return Unavailability.COVERING
    if any(b.overlaps(start, end) for b in teacher.classes):
        return Unavailability.TEACHING
    if any(b.overlaps(start, end) for b in teacher.offers):
        return Unavailability.OFFERED_ELSEWHERE
    return None


def _busy(teacher: TeacherDay, start: datetime, end: datetime) -> bool:
    return (
        any(a_start < end and start < a_end for a_start, a_end in teacher.absences)
        or any(b.starts_at < end and start < b.ends_at for b in teacher.classes)
        or any(b.starts_at < end and start < b.ends_at for b in teacher.covers)
        or any(b.starts_at < end and start < b.ends_at for b in teacher.offers)
    )


def cap_block(board: CoverBoard, teacher: TeacherDay, need: CoverNeed) -> Unavailability | None:
    """The cap the teacher's accepted covers already reach on the need's day or week."""
    covers = teacher.covers
    on_day = covers_on(covers, need.day) if covers else 0
    if on_day >= board.daily_cap(teacher.faculty):
        return Unavailability.DAILY_CAP
    in_week = covers_in_week(covers, need.day) if covers else 0
    if in_week >= board.weekly_cap(teacher.faculty):
        return Unavailability.WEEKLY_CAP
    return None


def score(board: CoverBoard, teacher: TeacherDay, need: CoverNeed) -> RankedCandidate:
    """Score an eligible teacher for a need; every rule that gives points is a reason."""
    weights = board.settings
    faculty = teacher.faculty
    earned: list[tuple[CoverRule, int]] = []
    if need.subject_code in faculty.qualified_subjects:
        earned.append((CoverRule.QUALIFIED, weights.weight_qualified))
    if need.section_id in teacher.sections:
        earned.append((CoverRule.TEACHES_SECTION, weights.weight_teaches_section))
    absent = board.teachers.get(need.absent_faculty_id)
    if absent is not None and absent.faculty.department == faculty.department != "":
        earned.append((CoverRule.SAME_DEPARTMENT, weights.weight_same_department))
    if _adjacent(teacher, need):
        earned.append((CoverRule.ADJACENT, weights.weight_adjacent))
    # a teacher without recent covers gets the whole weight, one with n of them 1/(n+1)
    earned.append((CoverRule.FAIRNESS, weights.weight_fairness // (1 + teacher.recent_covers)))
    if _continues(teacher, need):
        earned.append((CoverRule.CONTINUITY, weights.weight_continuity))
    if board.preference(faculty.id, need) is PreferenceKind.PREFERRED:
        earned.append((CoverRule.PREFERRED, weights.weight_preferred))
    reasons = tuple(ScoreReason(rule, points) for rule, points in earned if points > 0)
    return RankedCandidate(faculty.id, sum(points for _, points in earned), reasons)


def _continues(teacher: TeacherDay, need: CoverNeed) -> bool:
    absence = need.absence_id
    return any(b.absence_id == absence for b in teacher.covers) or any(
        b.absence_id == absence for b in teacher.offers
    )


def _adjacent(teacher: TeacherDay, need: CoverNeed) -> bool:
    day, start, end = need.day, need.starts_at, need.ends_at
    earliest_end, latest_start = start - ADJACENT_GAP, end + ADJACENT_GAP
    for bookings in (teacher.classes, teacher.covers):
        for booking in bookings:
            if booking.day == day and (
                earliest_end <= booking.ends_at <= start or end <= booking.starts_at <= latest_start
            ):
                return True
    return False


def assess(
    board: CoverBoard,
    faculty_id: FacultyId,
    need: CoverNeed,
    passed_over: frozenset[FacultyId] = frozenset(),
) -> RankedCandidate | Unavailability:
    """One teacher for one need, as :func:`rank_candidates` judges them: scored with the
    reasons, or the hard rule that rules them out.
    """
    teacher = board.teachers[faculty_id]
    if board.settings.qualified_only and need.subject_code not in (
        teacher.faculty.qualified_subjects
    ):
        return Unavailability.NOT_QUALIFIED
    block = time_block(board, teacher, need) or cap_block(board, teacher, need)
    if block is None and faculty_id in passed_over:
        block = Unavailability.DECLINED
    return score(board, teacher, need) if block is None else block


def rank_candidates(
    board: CoverBoard, need: CoverNeed, passed_over: frozenset[FacultyId] = frozenset()
) -> CandidateRanking:
    """Rank every teacher of the board for ``need``: best score first, ties by faculty id.

    ``passed_over`` are the teachers who already declined the need or let its offer expire.
    """
    ranked: list[RankedCandidate] = []
    unavailable: list[UnavailableCandidate] = []
    pool = board.pool(need)
    if board.settings.qualified_only:
        in_pool = frozenset(pool)
        unavailable += [
            UnavailableCandidate(f, Unavailability.NOT_QUALIFIED)
            for f in board.order
            if f not in in_pool
        ]
    for faculty_id in pool:
        found = assess(board, faculty_id, need, passed_over)
        if isinstance(found, RankedCandidate):
            ranked.append(found)
        else:
            unavailable.append(UnavailableCandidate(faculty_id, found))
    ranked.sort(key=lambda c: (-c.score, c.faculty_id))
    unavailable.sort(key=lambda u: u.faculty_id)
    names = {f: teacher.faculty.name for f, teacher in board.teachers.items()}
    return CandidateRanking(tuple(ranked), tuple(unavailable), names)


def candidate_scores(
    board: CoverBoard, need: CoverNeed, passed_over: frozenset[FacultyId] = frozenset()
) -> list[PlanningCandidate]:
    """The ranked teachers of :func:`rank_candidates` as (substitute, score), in the same
    order, without the reasons: what a plan over thousands of needs asks the solver about
    (the reasons are worked out for the chosen candidates only).
    """
    weights = board.settings
    absent = board.teachers.get(need.absent_faculty_id)
    department = absent.faculty.department if absent is not None else ""
    subject, section = need.subject_code, need.section_id
    with_preferences = board._preferences_of
    fairness = weights.weight_fairness
    caps_closed = weights.max_covers_per_day <= 0 or weights.max_covers_per_week <= 0
    found: list[PlanningCandidate] = []
    for faculty_id in board.free_in_pool(need):
        if faculty_id == need.absent_faculty_id or faculty_id in passed_over:
            continue
        preference = board.preference(faculty_id, need) if faculty_id in with_preferences else None
        if preference is PreferenceKind.EXCLUDED:
            continue
        teacher = board.teachers[faculty_id]
        faculty = teacher.faculty
        own_caps = faculty.max_covers_per_day is not None or faculty.max_covers_per_week is not None
        # caps can only block a teacher with covers, or when a cap is zero
        if (teacher.covers or own_caps or caps_closed) and cap_block(
            board, teacher, need
        ) is not None:
            continue
        points = fairness // (1 + teacher.recent_covers)
        if subject in faculty.qualified_subjects:
            points += weights.weight_qualified
        if section in teacher.sections:
            points += weights.weight_teaches_section
        if department and faculty.department == department:
            points += weights.weight_same_department
        if board.adjacent(teacher, need):
            points += weights.weight_adjacent
        if (teacher.covers or teacher.offers) and _continues(teacher, need):
            points += weights.weight_continuity
        if preference is PreferenceKind.PREFERRED:
            points += weights.weight_preferred
        found.append(PlanningCandidate(faculty_id, points))
    found.sort(key=lambda c: (-c.score, c.substitute))
    return found
