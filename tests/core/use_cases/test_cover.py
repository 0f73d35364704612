"""Teacher absence and cover, end to end on the memory adapters: absences make needs,
matching ranks with reasons, a plan is optimal under the hard rules, offers cascade on
decline and expiry, acceptance hands the class over, cancelling gives it back.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    ConflictError,
    CoverNeed,
    CoverOfferId,
    CoverRule,
    Faculty,
    FacultyId,
    NeedStatus,
    NotFoundError,
    OfferStatus,
    PermissionDeniedError,
    PlanStatus,
    Principal,
    SessionStatus,
    SubjectCode,
    Unavailability,
    UncoveredReason,
)
from ams_core.domain.cover_solving import ExactCoverSolver
from ams_core.testing.builders import (
    MONDAY,
    SmallCollege,
    faculty_principal,
    seed_small_college,
)
from ams_core.use_cases import (
    AcceptCoverOffer,
    AnswerOfferCommand,
    ApproveAbsence,
    BuildCoverPlan,
    BuildCoverPlanCommand,
    CancelAbsence,
    CancelCoverNeed,
    CompleteSession,
    CompleteSessionCommand,
    CoverAnalytics,
    CoverAnalyticsCommand,
    CoverNeedCommand,
    CoverPlanCommand,
    DecideAbsenceCommand,
    DeclineCoverOffer,
    ExpireCoverOffers,
    ExpireCoverOffersCommand,
    GenerateWeek,
    GenerateWeekCommand,
    GetAbsence,
    GetAbsenceCommand,
    GetCoverOffer,
    GetCoverOfferCommand,
    ListAbsences,
    ListAbsencesCommand,
    ListCoverOffers,
    ListCoverOffersCommand,
    OfferNeed,
    OfferNeedCommand,
    OpenAttendance,
    OpenAttendanceCommand,
    PublishCoverPlan,
    RankCandidates,
    ReportAbsence,
    ReportAbsenceCommand,
    SubstitutePreferenceCatalogue,
)
from tests.core.use_cases.helpers import FRIDAY, WEEK, local

#: Sunday evening before the week: absences are reported ahead of the classes
SUNDAY_EVENING = local(MONDAY - timedelta(days=1), 18)


class Cover:
    """The cover use cases over one memory store, with a clock set to Sunday evening."""

    def __init__(self, uow: InMemoryUnitOfWork, college: SmallCollege) -> None:
        self.uow = uow
        self.college = college
        self.clock = FixedClock(SUNDAY_EVENING)
        self.random = SeededRandomSource(11)
        clock, random = self.clock, self.random
        self.report = ReportAbsence(uow, clock, random)
        self.approve = ApproveAbsence(uow, clock, random)
        self.cancel = CancelAbsence(uow, clock, random)
        self.get_absence = GetAbsence(uow)
        self.list_absences = ListAbsences(uow)
        self.rank = RankCandidates(uow)
        self.plan = BuildCoverPlan(uow, clock, random, ExactCoverSolver())
        self.publish = PublishCoverPlan(uow, clock, random)
        self.accept = AcceptCoverOffer(uow, clock, random)
        self.decline = DeclineCoverOffer(uow, clock, random)
        self.expire = ExpireCoverOffers(uow, clock, random)
        self.get_offer = GetCoverOffer(uow)
        self.list_offers = ListCoverOffers(uow)
        self.analytics = CoverAnalytics(uow)
        self.preferences = SubstitutePreferenceCatalogue(uow, clock, random)
        GenerateWeek(uow, random, clock)(GenerateWeekCommand.for_week(college.admin, WEEK))

    def teacher(
        self, faculty_id: str, name: str, department: str, *subjects: str, admin: bool = False
    ) -> Faculty:
        """Add a teacher without classes (an admin too when ``admin``)."""
        faculty = Faculty(
            FacultyId(faculty_id),
            self.college.id,
            name,
            f"{name.lower()}@a.edu",
            department,
            frozenset(SubjectCode(s) for s in subjects),
            is_admin=admin,
        )
        with self.uow.for_institution(self.college.id) as uow:
            uow.faculty.add(faculty)
            uow.commit()
        return faculty

    def alice_away_monday(self, actor: Principal | None = None) -> list[CoverNeed]:
        result = self.report(
            ReportAbsenceCommand(
                actor or self.college.admin,
                local(MONDAY, 8),
                local(MONDAY, 13),
                "sick",
                faculty_id=self.college.alice.id,
            )
        )
        return list(result.cover_needs)

    def session_of(self, need: CoverNeed) -> SessionStatus | FacultyId:
        with self.uow.for_institution(self.college.id) as uow:
            return uow.sessions.get(need.session_id).teacher_id

    def need(self, need: CoverNeed) -> CoverNeed:
        with self.uow.for_institution(self.college.id) as uow:
            return uow.cover_needs.get(need.id)

    def outbox_kinds(self) -> list[str]:
        with self.uow.for_institution(self.college.id) as uow:
            return [n.kind for n in uow.outbox.pending(1000)]


@pytest.fixture
def cover(uow: InMemoryUnitOfWork, college: SmallCollege) -> Cover:
    return Cover(uow, college)


def test_an_absence_makes_a_need_of_every_class_of_the_teacher_inside_it(cover: Cover) -> None:
    needs = cover.alice_away_monday()

    assert [(n.session_id, n.status, n.day) for n in needs] == [
        (needs[0].session_id, NeedStatus.OPEN, MONDAY)
    ]
    assert needs[0].absent_faculty_id == cover.college.alice.id
    assert needs[0].starts_at == local(MONDAY, 9)


def test_a_teacher_reports_their_own_absence_and_cannot_report_anothers(cover: Cover) -> None:
    alice = faculty_principal(cover.college.alice)
    needs = cover.alice_away_monday(actor=alice)
    assert len(needs) == 1

    with pytest.raises(NotFoundError):
        cover.report(
            ReportAbsenceCommand(
                alice, local(MONDAY, 8), local(MONDAY, 9), "sick", cover.college.bob.id
            )
        )
    bob_sees = cover.list_absences(ListAbsencesCommand(faculty_principal(cover.college.bob)))
    assert bob_sees.total == 0


def test_with_approval_required_a_reported_absence_makes_needs_only_once_approved(
    uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    with uow.for_platform():
        institution = uow.institutions.get(college.id)
        cover_settings = dataclasses.replace(institution.settings.cover, approval_required=True)
        settings = dataclasses.replace(institution.settings, cover=cover_settings)
        uow.institutions.update(dataclasses.replace(institution, settings=settings))
        uow.commit()
    cover = Cover(uow, college)

    needs = cover.alice_away_monday(actor=faculty_principal(college.alice))
    assert needs == []
    absence = cover.list_absences(ListAbsencesCommand(college.admin)).items[0]
    assert absence.status is AbsenceStatus.REPORTED

    approved = cover.approve(DecideAbsenceCommand(college.admin, absence.id))

    assert approved.absence.status is AbsenceStatus.APPROVED
    assert len(approved.cover_needs) == 1
    with pytest.raises(PermissionDeniedError):
        cover.approve(DecideAbsenceCommand(faculty_principal(college.bob), absence.id))


def test_candidates_are_ranked_with_their_reasons_and_the_ruled_out_say_why(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    dave = cover.teacher("F004", "Dave", "PHY")
    [need] = cover.alice_away_monday()

    ranking = cover.rank(CoverNeedCommand(cover.college.admin, need.id))

    assert [c.faculty_id for c in ranking.ranked] == [carol.id, dave.id]
    best = ranking.ranked[0]
    rules = {r.rule: r.points for r in best.reasons}
    assert rules == {CoverRule.QUALIFIED: 40, CoverRule.SAME_DEPARTMENT: 15, CoverRule.FAIRNESS: 20}
    assert best.score == 75
    assert {u.faculty_id: u.reason for u in ranking.unavailable} == {
        cover.college.alice.id: Unavailability.ABSENT,
        cover.college.bob.id: Unavailability.TEACHING,
    }


def test_an_excluded_substitute_is_ruled_out_and_a_preferred_one_gains_points(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    dave = cover.teacher("F004", "Dave", "PHY")
    erin = cover.teacher("F005", "Erin", "PHY")
    admin = cover.college.admin
    cover.preferences.create(
        admin, {"substitute_id": carol.id, "kind": "excluded", "section_id": "E2-CSE-A"}
    )
    cover.preferences.create(
        admin, {"substitute_id": erin.id, "kind": "preferred", "faculty_id": "F001"}
    )
    [need] = cover.alice_away_monday()

    ranking = cover.rank(CoverNeedCommand(admin, need.id))

    assert [c.faculty_id for c in ranking.ranked] == [erin.id, dave.id]
    assert ranking.ranked[0].score == ranking.ranked[1].score + 10
    assert Unavailability.EXCLUDED in {
        u.reason for u in ranking.unavailable if u.faculty_id == carol.id
    }


def test_the_plan_covers_the_most_needs_and_says_why_the_rest_are_uncovered(
    cover: Cover,
) -> None:
    # alice and bob both away on Monday morning: CS101 A 09:00, CS101 B 09:00 and MA101 A
    # 10:00 need cover; carol alone is free, and her cap allows two covers a day
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    cover.alice_away_monday()
    cover.report(
        ReportAbsenceCommand(
            cover.college.admin,
            local(MONDAY, 8),
            local(MONDAY, 12),
            "official_duty",
            faculty_id=cover.college.bob.id,
        )
    )

    plan = cover.plan(BuildCoverPlanCommand(cover.college.admin, MONDAY, MONDAY))

    assert plan.status is PlanStatus.DRAFT
    assert len(plan.assignments) == 2  # one of the two 09:00 classes, and the 10:00 one
    assert {a.substitute_id for a in plan.assignments} == {carol.id}
    assert [u.reason for u in plan.uncovered] == [UncoveredReason.CANDIDATES_NEEDED_ELSEWHERE]


def test_a_new_plan_supersedes_the_older_draft_of_the_same_days(cover: Cover) -> None:
    cover.teacher("F003", "Carol", "CSE", "CS101")
    cover.alice_away_monday()
    admin = cover.college.admin
    first = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY + timedelta(days=1)))

    with pytest.raises(ConflictError) as refused:
        cover.publish(CoverPlanCommand(admin, first.id))
    assert refused.value.code == "plan_superseded"


def test_offers_cascade_on_decline_and_expiry_then_go_back_to_the_admins(cover: Cover) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    dave = cover.teacher("F004", "Dave", "PHY")
    erin = cover.teacher("F005", "Erin", "PHY", admin=True)
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))

    published = cover.publish(CoverPlanCommand(admin, plan.id))
    [first] = published.offers
    assert (first.substitute_id, first.attempt) == (carol.id, 1)
    assert "cover_offer" in cover.outbox_kinds()

    declined = cover.decline(AnswerOfferCommand(faculty_principal(carol), first.id, "busy"))
    assert declined.offer.status is OfferStatus.DECLINED
    second = declined.next_offer
    assert second is not None
    assert (second.substitute_id, second.attempt) == (dave.id, 2)

    cover.clock.set(second.expires_at)
    swept = cover.expire(ExpireCoverOffersCommand())
    assert (swept.expired, swept.offered_next, swept.escalated) == (1, 1, 0)
    third = cover.list_offers(ListCoverOffersCommand(faculty_principal(erin))).items[0]
    assert (third.substitute_id, third.attempt) == (erin.id, 3)

    cover.decline(AnswerOfferCommand(faculty_principal(erin), third.id))
    assert cover.need(need).status is NeedStatus.ESCALATED
    assert "cover_escalated" in cover.outbox_kinds()


def test_accepting_makes_the_substitute_the_teacher_of_record_who_opens_attendance(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers

    accepted = cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))

    assert accepted.offer.status is OfferStatus.ACCEPTED
    assert cover.need(need).status is NeedStatus.COVERED
    assert cover.session_of(need) == carol.id
    assert "session_covered" in cover.outbox_kinds()
    cover.clock.set(local(MONDAY, 9, 1))
    opened = OpenAttendance(cover.uow, cover.clock, cover.random)(
        OpenAttendanceCommand(faculty_principal(carol), need.session_id)
    )
    assert opened.code


def test_only_the_offered_substitute_answers_an_offer(cover: Cover) -> None:
    cover.teacher("F003", "Carol", "CSE", "CS101")
    dave = cover.teacher("F004", "Dave", "PHY")
    admin = cover.college.admin
    cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers

    with pytest.raises(PermissionDeniedError):
        cover.accept(AnswerOfferCommand(admin, offer.id))
    with pytest.raises(NotFoundError):
        cover.accept(AnswerOfferCommand(faculty_principal(dave), offer.id))
    with pytest.raises(NotFoundError):
        cover.get_offer(GetCoverOfferCommand(faculty_principal(dave), offer.id))
    assert cover.list_offers(ListCoverOffersCommand(faculty_principal(dave))).total == 0


def test_an_expired_offer_can_no_longer_be_accepted(cover: Cover) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    cover.clock.set(offer.expires_at)

    with pytest.raises(ConflictError) as refused:
        cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))
    assert refused.value.code == "offer_expired"


def test_two_accepts_that_would_double_book_a_substitute_leave_one_cover(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    cover.alice_away_monday()
    cover.report(
        ReportAbsenceCommand(
            admin, local(MONDAY, 8), local(MONDAY, 10), "sick", faculty_id=cover.college.bob.id
        )
    )
    # both 09:00 classes offered to carol by hand through two single-need plans is not
    # possible (a plan never double-books), so the second offer comes from the cascade
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    assert offer.substitute_id == carol.id
    with cover.uow.for_institution(cover.college.id) as uow:
        other = next(
            n for n in uow.cover_needs.list_between(MONDAY, MONDAY) if n.id != offer.need_id
        )
        uow.cover_offers.add(
            dataclasses.replace(offer, id=CoverOfferId("forced-offer"), need_id=other.id)
        )
        uow.cover_needs.update(other.offered())
        uow.commit()

    cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))
    with pytest.raises(ConflictError) as refused:
        cover.accept(AnswerOfferCommand(faculty_principal(carol), CoverOfferId("forced-offer")))

    assert refused.value.code == "substitute_double_booked"
    with cover.uow.for_institution(cover.college.id) as uow:
        assert (
            len(uow.covers.list_for_substitute(carol.id, local(MONDAY, 0), local(MONDAY, 23))) == 1
        )


def test_cancelling_an_absence_withdraws_offers_takes_back_covers_and_restores_classes(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))
    absence_id = cover.need(need).absence_id

    cancelled = cover.cancel(DecideAbsenceCommand(admin, absence_id))

    assert cancelled.absence.status is AbsenceStatus.CANCELLED
    assert cover.need(need).status is NeedStatus.CANCELLED
    assert cover.session_of(need) == cover.college.alice.id
    with cover.uow.for_institution(cover.college.id) as uow:
        assert uow.covers.for_session(need.session_id) is None
    assert "session_cover_cancelled" in cover.outbox_kinds()


def test_cancelling_an_absence_with_an_open_offer_withdraws_it(cover: Cover) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers

    cover.cancel(DecideAbsenceCommand(faculty_principal(cover.college.alice), need.absence_id))

    withdrawn = cover.get_offer(GetCoverOfferCommand(faculty_principal(carol), offer.id))
    assert withdrawn.status is OfferStatus.WITHDRAWN


def test_a_week_generated_after_the_absence_makes_its_needs(
    uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    cover = Cover(uow, college)
    next_monday = MONDAY + timedelta(days=7)
    result = cover.report(
        ReportAbsenceCommand(
            college.admin,
            local(next_monday, 0),
            local(next_monday + timedelta(days=1), 0),
            "personal",
            faculty_id=college.alice.id,
        )
    )
    assert result.cover_needs == ()

    GenerateWeek(uow, cover.random, cover.clock)(
        GenerateWeekCommand.for_week(college.admin, "2026-W48")
    )

    detail = cover.get_absence(GetAbsenceCommand(college.admin, result.absence.id))
    assert [n.day for n in detail.cover_needs] == [next_monday]


def test_analytics_count_fill_rate_by_day_and_lead_time_and_load(cover: Cover) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    cover.alice_away_monday()
    cover.report(
        ReportAbsenceCommand(
            admin,
            local(MONDAY + timedelta(days=1), 8),
            local(MONDAY + timedelta(days=1), 10),
            "sick",
            faculty_id=cover.college.alice.id,
        )
    )
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))

    report = cover.analytics(CoverAnalyticsCommand(admin, MONDAY, MONDAY + timedelta(days=6)))

    assert (report.total.needs, report.total.covered, report.total.uncovered) == (2, 1, 1)
    assert [(d.day, d.figures.covered, d.figures.needs) for d in report.by_day] == [
        (MONDAY, 1, 1),
        (MONDAY + timedelta(days=1), 0, 1),
    ]
    assert str(report.total.fill_rate) == "50.0"
    # reported Sunday 18:00: 15 hours before Monday 09:00, 39 before Tuesday's class
    assert [b.figures.needs for b in report.by_lead_time] == [1, 1, 0, 0]
    assert (report.load[0].faculty_id, report.load[0].covers) == (carol.id, 1)
    assert dict(report.load_distribution)[1] == 1


def test_another_institution_never_sees_the_absences_needs_or_offers(
    uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    cover = Cover(uow, college)
    cover.teacher("F003", "Carol", "CSE", "CS101")
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(college.admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(college.admin, plan.id)).offers

    with pytest.raises(NotFoundError):
        cover.rank(CoverNeedCommand(other.admin, need.id))
    with pytest.raises(NotFoundError):
        cover.get_absence(GetAbsenceCommand(other.admin, need.absence_id))
    with pytest.raises(NotFoundError):
        cover.get_offer(GetCoverOfferCommand(other.admin, offer.id))
    with pytest.raises(NotFoundError):
        cover.publish(CoverPlanCommand(other.admin, plan.id))
    assert cover.list_absences(ListAbsencesCommand(other.admin)).total == 0
    # b's own plan sees none of a's needs, and b's teachers are never a's candidates
    b_plan = cover.plan(BuildCoverPlanCommand(other.admin, MONDAY, MONDAY))
    assert (b_plan.assignments, b_plan.uncovered) == ((), ())


def test_a_plan_over_past_classes_leaves_them_alone(cover: Cover) -> None:
    cover.teacher("F003", "Carol", "CSE", "CS101")
    cover.alice_away_monday()
    cover.clock.set(local(MONDAY, 9, 30))

    plan = cover.plan(BuildCoverPlanCommand(cover.college.admin, MONDAY, MONDAY))

    assert (plan.assignments, plan.uncovered) == ((), ())


def test_a_plan_spans_at_most_31_days(cover: Cover) -> None:
    from ams_core.domain import ValidationError

    with pytest.raises(ValidationError):
        cover.plan(BuildCoverPlanCommand(cover.college.admin, MONDAY, MONDAY + timedelta(days=31)))


def test_an_accept_past_the_weekly_cap_is_refused(
    uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    cover = Cover(uow, college)
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    with uow.for_institution(college.id):
        uow.faculty.update(dataclasses.replace(uow.faculty.get(carol.id), max_covers_per_week=1))
        uow.commit()
    admin = college.admin
    cover.report(
        ReportAbsenceCommand(
            admin,
            local(MONDAY, 0),
            local(MONDAY + timedelta(days=2), 0),
            "sick",
            faculty_id=college.alice.id,
        )
    )
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY + timedelta(days=1)))
    assert len(plan.assignments) == 1  # the cap leaves one of the two classes uncovered
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    with uow.for_institution(college.id):
        other = next(
            n for n in uow.cover_needs.list_between(MONDAY, FRIDAY) if n.id != offer.need_id
        )
        forced = dataclasses.replace(offer, id=CoverOfferId("forced"), need_id=other.id)
        uow.cover_offers.add(forced)
        uow.cover_needs.update(other.offered())
        uow.commit()
    cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))

    with pytest.raises(ConflictError) as refused:
        cover.accept(AnswerOfferCommand(faculty_principal(carol), forced.id))

    assert refused.value.code == "cover_cap_reached"


def test_with_qualified_only_an_unqualified_teacher_is_ruled_out_and_the_plan_says_so(
    uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    with uow.for_platform():
        institution = uow.institutions.get(college.id)
        cover_settings = dataclasses.replace(institution.settings.cover, qualified_only=True)
        settings = dataclasses.replace(institution.settings, cover=cover_settings)
        uow.institutions.update(dataclasses.replace(institution, settings=settings))
        uow.commit()
    cover = Cover(uow, college)
    dave = cover.teacher("F004", "Dave", "PHY")
    [need] = cover.alice_away_monday()

    ranking = cover.rank(CoverNeedCommand(college.admin, need.id))
    plan = cover.plan(BuildCoverPlanCommand(college.admin, MONDAY, MONDAY))

    assert ranking.ranked == ()
    assert {u.faculty_id: u.reason for u in ranking.unavailable}[dave.id] is (
        Unavailability.NOT_QUALIFIED
    )
    assert [u.reason for u in plan.uncovered] == [UncoveredReason.NO_QUALIFIED_TEACHER_FREE]


def test_an_admin_offers_an_escalated_need_by_hand_under_the_hard_rules(cover: Cover) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    cover.decline(AnswerOfferCommand(faculty_principal(carol), offer.id))
    assert cover.need(need).status is NeedStatus.ESCALATED
    offer_by_hand = OfferNeed(cover.uow, cover.clock, cover.random)

    with pytest.raises(ConflictError) as refused:
        offer_by_hand(OfferNeedCommand(admin, need.id, cover.college.bob.id))
    again = offer_by_hand(OfferNeedCommand(admin, need.id, carol.id))

    assert refused.value.code == "teacher_unavailable"
    assert "teaching" in str(refused.value)
    assert (again.substitute_id, again.attempt, again.plan_id) == (carol.id, 2, None)
    assert cover.need(need).status is NeedStatus.OFFERED
    with pytest.raises(PermissionDeniedError):
        offer_by_hand(OfferNeedCommand(faculty_principal(carol), need.id, carol.id))


def test_cancelling_one_of_two_overlapping_absences_keeps_the_need_under_the_other(
    cover: Cover,
) -> None:
    cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()  # 08:00-13:00
    whole_day = cover.report(
        ReportAbsenceCommand(
            admin,
            local(MONDAY, 0),
            local(MONDAY + timedelta(days=1), 0),
            "sick",
            faculty_id=cover.college.alice.id,
        )
    )

    cover.cancel(DecideAbsenceCommand(admin, need.absence_id))

    kept = cover.need(need)
    assert (kept.status, kept.absence_id) == (NeedStatus.OPEN, whole_day.absence.id)
    assert cover.session_of(need) == cover.college.alice.id


def test_a_substitute_who_falls_ill_has_their_open_offers_moved_on_and_cannot_accept(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    dave = cover.teacher("F004", "Dave", "PHY")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers

    cover.report(
        ReportAbsenceCommand(
            faculty_principal(carol),
            local(MONDAY, 0),
            local(MONDAY + timedelta(days=1), 0),
            "sick",
        )
    )

    assert cover.get_offer(GetCoverOfferCommand(admin, offer.id)).status is OfferStatus.WITHDRAWN
    with pytest.raises(ConflictError):
        cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))
    following = cover.list_offers(ListCoverOffersCommand(faculty_principal(dave))).items
    assert [(o.need_id, o.attempt) for o in following] == [(need.id, 2)]


def test_an_offer_accepted_after_the_substitute_became_absent_is_refused(
    cover: Cover,
) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    with cover.uow.for_institution(cover.college.id) as uow:
        # an absence stored by hand, without the withdrawal ReportAbsence does
        uow.absences.add(
            Absence(
                AbsenceId("away"),
                cover.college.id,
                carol.id,
                local(MONDAY, 8),
                local(MONDAY, 12),
                AbsenceKind.SICK,
                AbsenceStatus.APPROVED,
                SUNDAY_EVENING,
                "carol@a.edu",
            )
        )
        uow.commit()

    with pytest.raises(ConflictError) as refused:
        cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))

    assert refused.value.code == "teacher_unavailable"
    assert "absent" in str(refused.value)


def test_the_need_of_a_class_held_under_cover_cannot_be_cancelled(cover: Cover) -> None:
    carol = cover.teacher("F003", "Carol", "CSE", "CS101")
    admin = cover.college.admin
    [need] = cover.alice_away_monday()
    plan = cover.plan(BuildCoverPlanCommand(admin, MONDAY, MONDAY))
    [offer] = cover.publish(CoverPlanCommand(admin, plan.id)).offers
    cover.accept(AnswerOfferCommand(faculty_principal(carol), offer.id))
    cover.clock.set(local(MONDAY, 10, 30))
    CompleteSession(cover.uow, cover.clock)(
        CompleteSessionCommand(faculty_principal(carol), need.session_id, "Stacks")
    )

    with pytest.raises(ConflictError) as refused:
        CancelCoverNeed(cover.uow, cover.clock, cover.random)(CoverNeedCommand(admin, need.id))

    assert refused.value.code == "need_covered"
    assert cover.need(need).status is NeedStatus.COVERED
