"""A deactivated person keeps their history but is on no roster, cannot sign in, check in
or be offered cover; activating them again restores all of it."""

from __future__ import annotations

import dataclasses

import pytest

from ams_adapters.memory import FixedClock, SeededRandomSource
from ams_core.domain import CheckInRefusal, CheckInRefusedError, PermissionDeniedError
from ams_core.domain.cover_matching import CoverBoard
from ams_core.testing.builders import OPERATOR
from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand, SignInLifetimes
from ams_core.use_cases._cover import load_board
from tests.core.use_cases.helpers import App
from tests.core.use_cases.identity_fakes import PlainAccessTokens


def _set_active(app: App, active: bool) -> None:
    c = app.college
    with app.uow.for_institution(c.id) as uow:
        uow.students.update(dataclasses.replace(uow.students.get(c.students[0].id), active=active))
        uow.faculty.update(dataclasses.replace(uow.faculty.get(c.bob.id), active=active))
        uow.commit()


def test_a_deactivated_student_cannot_check_in_and_is_not_marked_absent(app: App) -> None:
    student = app.college.as_student(0)
    app.bind(student)
    session = app.session(app.college.alice_cs_a)
    app.open(session)
    _set_active(app, False)

    with pytest.raises(CheckInRefusedError) as refused:
        app.check_in(student, session)

    assert refused.value.reason is CheckInRefusal.NOT_IN_SECTION
    with app.uow.for_institution(app.college.id) as uow:
        roster = uow.students.ids_in_section(app.college.section_a.id)
    assert student.student_id not in roster
    _set_active(app, True)
    assert app.check_in(student, session).status is not None


def test_a_deactivated_person_cannot_sign_in(app: App, clock: FixedClock) -> None:
    issue = IssueLocalToken(
        app.uow, PlainAccessTokens(), clock, SeededRandomSource(2), SignInLifetimes()
    )
    _set_active(app, False)

    for email in (app.college.students[0].email, app.college.bob.email):
        with pytest.raises(PermissionDeniedError) as refused:
            issue(IssueLocalTokenCommand(OPERATOR, email))
        assert refused.value.code == "deactivated"
    _set_active(app, True)
    assert issue(IssueLocalTokenCommand(OPERATOR, app.college.bob.email)).access_token


def test_a_deactivated_teacher_is_never_a_cover_candidate(app: App) -> None:
    _set_active(app, False)

    with app.uow.for_institution(app.college.id) as uow:
        board: CoverBoard = load_board(
            uow, app.college.institution, app.college.term.start, app.college.term.start
        )

    assert app.college.bob.id in board.teachers
    assert app.college.bob.id not in board.order
