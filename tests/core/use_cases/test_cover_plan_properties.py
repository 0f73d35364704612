"""Properties of whole cover plans built by the use case from random institutions: a plan
never breaks a hard rule, and the same state gives the same plan.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, MemoryStore, SeededRandomSource
from ams_core.domain import (
    CoverNeed,
    CoverSettings,
    Faculty,
    FacultyId,
    InstitutionSettings,
    PreferenceId,
    PreferenceKind,
    SubjectCode,
    SubstitutePreference,
)
from ams_core.domain.cover_matching import (
    candidate_scores,
    covers_in_week,
    covers_on,
    rank_candidates,
    time_block,
)
from ams_core.domain.cover_solving import ExactCoverSolver
from ams_core.testing.builders import MONDAY, seed_small_college
from ams_core.use_cases import (
    BuildCoverPlan,
    BuildCoverPlanCommand,
    GenerateWeek,
    GenerateWeekCommand,
    ReportAbsence,
    ReportAbsenceCommand,
)
from ams_core.use_cases._cover import load_board
from tests.core.use_cases.helpers import WEEK, local

teachers = st.lists(
    st.tuples(
        st.sampled_from(["CSE", "MATH", "PHY"]),
        st.sets(st.sampled_from(["CS101", "MA101"])),
        st.one_of(st.none(), st.integers(0, 2)),
    ),
    min_size=0,
    max_size=5,
)
absences = st.lists(
    st.tuples(
        st.sampled_from(["F001", "F002"]),
        st.integers(0, 4),  # weekday
        st.integers(7, 10),  # from hour
        st.integers(1, 30),  # hours
    ),
    min_size=1,
    max_size=3,
)


preferences = st.lists(
    st.tuples(
        st.integers(0, 4),  # which extra teacher
        st.sampled_from(list(PreferenceKind)),
        st.sampled_from(["faculty_id", "section_id", "subject_code"]),
    ),
    max_size=4,
)
_SCOPES = {"faculty_id": "F001", "section_id": "E2-CSE-A", "subject_code": "CS101"}


@given(teachers, absences, st.integers(0, 2), preferences, st.booleans())
def test_a_plan_never_breaks_a_hard_rule_and_is_the_same_twice(
    extra: list[tuple[str, set[str], int | None]],
    away: list[tuple[str, int, int, int]],
    daily_cap: int,
    prefer: list[tuple[int, PreferenceKind, str]],
    qualified_only: bool,
) -> None:
    uow = InMemoryUnitOfWork(MemoryStore())
    settings = InstitutionSettings(cover=CoverSettings(qualified_only=qualified_only))
    college = seed_small_college(uow, settings=settings)
    clock = FixedClock(local(MONDAY - timedelta(days=1), 18))
    random = SeededRandomSource(3)
    GenerateWeek(uow, random, clock)(GenerateWeekCommand.for_week(college.admin, WEEK))
    with uow.for_institution(college.id):
        for n, (department, subjects, cap) in enumerate(extra):
            uow.faculty.add(
                Faculty(
                    FacultyId(f"X{n}"),
                    college.id,
                    f"Extra {n}",
                    f"x{n}@a.edu",
                    department,
                    frozenset(SubjectCode(s) for s in subjects),
                    max_covers_per_day=cap if cap is not None else daily_cap,
                )
            )
        for n, (who, kind, scope) in enumerate(prefer):
            if who < len(extra):
                preference = SubstitutePreference(
                    PreferenceId(f"P{n}"),
                    college.id,
                    FacultyId(f"X{who}"),
                    kind,
                    **{scope: _SCOPES[scope]},  # type: ignore[arg-type]
                )
                if all(
                    (p.substitute_id, p.kind, p.faculty_id, p.section_id, p.subject_code)
                    != (
                        preference.substitute_id,
                        preference.kind,
                        preference.faculty_id,
                        preference.section_id,
                        preference.subject_code,
                    )
                    for p in uow.substitute_preferences.list()
                ):
                    uow.substitute_preferences.add(preference)
        uow.commit()
    report = ReportAbsence(uow, clock, random)
    for faculty_id, weekday, hour, hours in away:
        start = local(MONDAY + timedelta(days=weekday), hour)
        report(
            ReportAbsenceCommand(
                college.admin,
                start,
                start + timedelta(hours=hours),
                "sick",
                faculty_id=FacultyId(faculty_id),
            )
        )
    build = BuildCoverPlan(uow, clock, random, ExactCoverSolver())
    last = MONDAY + timedelta(days=6)

    plan = build(BuildCoverPlanCommand(college.admin, MONDAY, last))

    with uow.for_institution(college.id):
        institution = uow.institutions.get(college.id)
        board = load_board(uow, institution, MONDAY, last)
        needs = {n.id: n for n in uow.cover_needs.list_between(MONDAY, last)}
    for need in needs.values():
        # the plan's fast scores and the explained ranking agree
        ranked = rank_candidates(board, need).ranked
        fast = [(c.substitute, c.score) for c in candidate_scores(board, need)]
        assert fast == [(c.faculty_id, c.score) for c in ranked]
    held: dict[FacultyId, list[CoverNeed]] = {}
    for planned in plan.assignments:
        need = needs[planned.need_id]
        teacher = board.teachers[planned.substitute_id]
        assert time_block(board, teacher, need) is None
        held.setdefault(planned.substitute_id, []).append(need)
    for substitute, chosen in held.items():
        teacher = board.teachers[substitute]
        chosen.sort(key=lambda n: n.starts_at)
        for first, second in itertools.pairwise(chosen):
            assert second.starts_at >= first.ends_at, "double-booked"
        for need in chosen:
            on_day = sum(1 for n in chosen if n.day == need.day)
            assert on_day + covers_on(teacher.covers, need.day) <= board.daily_cap(teacher.faculty)
            # the plan spans one ISO week
            in_week = len(chosen) + covers_in_week(teacher.covers, need.day)
            assert in_week <= board.weekly_cap(teacher.faculty)
    assert len(plan.assignments) + len(plan.uncovered) == len(
        [n for n in needs.values() if n.starts_at > clock.now()]
    )
    again = build(BuildCoverPlanCommand(college.admin, MONDAY, last))
    assert again.assignments == plan.assignments
    assert again.uncovered == plan.uncovered
