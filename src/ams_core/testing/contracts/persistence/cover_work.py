"""Part of the persistence contract. Cover work: teacher absences, cover needs, cover plans,
cover offers, substitute preferences, and the cover-assignment reads the planner uses.

(Round trips of every field, duplicate keys, optimistic updates and removal of absences,
plans and preferences are in the keyed and removal cases; needs and offers refer to
sessions and absences, so their round trips are here.)
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from ams_core.domain import (
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    ConcurrencyError,
    ConflictError,
    CoverNeed,
    CoverNeedId,
    CoverOfferId,
    CoverPlanId,
    CoverRule,
    DateRange,
    FacultyId,
    InstitutionId,
    NeedStatus,
    NotFoundError,
    OfferStatus,
    PermissionDeniedError,
    PlanStatus,
    PreferenceId,
    PreferenceKind,
    ScoreReason,
    SectionId,
    SessionId,
    SessionStatus,
    SubjectCode,
)
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    _FAR_FUTURE,
    _FAR_PAST,
    IST,
    T0,
    _absence,
    _cover,
    _day,
    _need,
    _offer,
    _plan,
    _preference,
)

HOUR = timedelta(hours=1)


class CoverWorkContract(ContractHelpers):
    """Absences, cover needs, plans, offers and substitute preferences."""

    def _absences_and_needs(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, *needs: CoverNeed
    ) -> None:
        """Sessions S-1..S-4, absences AB-1 (alice) and AB-2 (bob), and ``needs``."""
        c = college
        self._cover_sessions(uow_factory, c)
        with uow_factory().for_institution(c.id) as uow:
            uow.absences.add(_absence(c, "AB-1", c.alice.id, T0 - HOUR, hours=48))
            uow.absences.add(_absence(c, "AB-2", c.bob.id, T0 - HOUR, hours=4))
            uow.cover_needs.add_many(list(needs))
            uow.commit()

    # -- absences -----------------------------------------------------------------------------
    def test_absences_overlapping_a_span_come_by_start_then_id_whatever_their_status(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        late = _absence(
            c, "AB-3", c.alice.id, T0 + 2 * HOUR, hours=2, status=AbsenceStatus.CANCELLED
        )
        early = _absence(c, "AB-2", c.bob.id, T0, hours=3, status=AbsenceStatus.REPORTED)
        same_start = _absence(c, "AB-1", c.alice.id, T0, hours=1)
        next_day = _absence(c, "AB-0", c.bob.id, T0 + timedelta(days=1))
        with uow_factory().for_institution(c.id) as uow:
            for absence in (late, early, same_start, next_day):
                uow.absences.add(absence)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            absences = uow.absences
            assert absences.get(AbsenceId("AB-3")) == late
            assert list(absences.list_overlapping(T0, T0 + 4 * HOUR)) == [same_start, early, late]
            assert list(absences.list_overlapping(_FAR_PAST, _FAR_FUTURE)) == [
                same_start,
                early,
                late,
                next_day,
            ]
            # [start, end): touching ends do not overlap
            assert list(absences.list_overlapping(T0 - HOUR, T0)) == []
            assert list(absences.list_overlapping(T0 + 3 * HOUR, T0 + 3 * HOUR + HOUR)) == [late]
            minute = timedelta(minutes=1)
            assert list(absences.list_overlapping(T0 + HOUR - minute, T0 + HOUR)) == [
                same_start,
                early,
            ]

    def test_absence_pages_come_newest_start_first_filtered_with_the_whole_count(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        a1 = _absence(c, "AB-1", c.alice.id, T0, hours=2)
        a2 = _absence(c, "AB-2", c.bob.id, T0, hours=2, status=AbsenceStatus.REPORTED)
        a3 = _absence(c, "AB-3", c.alice.id, T0 + timedelta(days=2), status=AbsenceStatus.CANCELLED)
        a4 = _absence(c, "AB-4", c.bob.id, T0 - timedelta(days=3), kind=AbsenceKind.PERSONAL)
        with uow_factory().for_institution(c.id) as uow:
            for absence in (a4, a2, a3, a1):
                uow.absences.add(absence)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            page = uow.absences.page
            everything = page(10)
            assert (list(everything.items), everything.total) == ([a3, a1, a2, a4], 4)
            second = page(2, 2)
            assert (list(second.items), second.total) == ([a2, a4], 4)
            past_the_end = page(2, 10)
            assert (list(past_the_end.items), past_the_end.total) == ([], 4)
            bobs = page(1, faculty_id=c.bob.id)
            assert (list(bobs.items), bobs.total) == ([a2], 2)
            approved = page(10, status=AbsenceStatus.APPROVED)
            assert (list(approved.items), approved.total) == ([a1, a4], 2)
            this_week = page(10, start=T0 + HOUR, end=T0 + timedelta(days=2))
            assert list(this_week.items) == [a1, a2]
            from_now_on = page(10, start=T0 + 2 * HOUR)
            assert list(from_now_on.items) == [a3]
            until_now = page(10, end=T0)
            assert list(until_now.items) == [a4]
            assert page(10, faculty_id=FacultyId("F404")).total == 0

    def test_an_absence_of_a_missing_teacher_or_another_institution_is_refused(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        with uow_factory().for_institution(c.id) as uow, pytest.raises(NotFoundError):
            uow.absences.add(_absence(c, "AB-1", FacultyId("F404"), T0))
        foreign = dataclasses.replace(
            _absence(c, "AB-1", c.bob.id, T0), institution_id=InstitutionId("inst-b")
        )
        with uow_factory().for_institution(c.id) as uow, pytest.raises(PermissionDeniedError):
            uow.absences.add(foreign)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.absences.find(AbsenceId("AB-1")) is None

    # -- cover needs --------------------------------------------------------------------------
    def test_cover_needs_keep_every_field_and_are_found_by_session_absence_and_day(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        full = dataclasses.replace(
            _need(c, "N-2", "AB-1", "S-2", datetime(2026, 11, 16, 10, 0, tzinfo=IST)),
            status=NeedStatus.COVERED,
            substitute_id=c.bob.id,
            closed_at=datetime(2026, 11, 15, 20, 1, 2, 345678, tzinfo=IST),
            created_at=datetime(2026, 11, 15, 19, 0, tzinfo=UTC),
        )
        n1 = _need(c, "N-1", "AB-1", "S-1", T0, status=NeedStatus.OFFERED)
        n3 = _need(c, "N-3", "AB-1", "S-3", T0 + timedelta(days=1))
        n4 = _need(c, "N-4", "AB-2", "S-4", T0, faculty_id=c.bob.id, status=NeedStatus.ESCALATED)
        self._absences_and_needs(uow_factory, c, n3, full, n4, n1)
        with uow_factory().for_institution(c.id) as uow:
            needs = uow.cover_needs
            assert needs.get(full.id) == full
            stored = needs.find(full.id)
            assert stored is not None
            assert stored.starts_at.utcoffset() is not None
            assert stored.day == MONDAY
            assert needs.find(CoverNeedId("N-404")) is None
            with pytest.raises(NotFoundError):
                needs.get(CoverNeedId("N-404"))
            assert needs.for_session(SessionId("S-1")) == n1
            assert needs.for_session(SessionId("S-404")) is None
            assert list(needs.list_for_absence(AbsenceId("AB-1"))) == [n1, full, n3]
            assert list(needs.list_for_absence(AbsenceId("AB-2"))) == [n4]
            assert list(needs.list_for_absence(AbsenceId("AB-404"))) == []
            assert list(needs.list_between(MONDAY, MONDAY)) == [n1, n4, full]
            assert list(needs.list_between(MONDAY, _day(6))) == [n1, n4, full, n3]
            plannable = [NeedStatus.OPEN, NeedStatus.ESCALATED]
            assert list(needs.list_between(MONDAY, _day(1), plannable)) == [n4, n3]
            assert list(needs.list_between(MONDAY, _day(1), iter(plannable))) == [n4, n3]
            assert list(needs.list_between(MONDAY, _day(1), [])) == []
            assert list(needs.list_between(_day(2), _day(6))) == []

            first = needs.page(2)
            assert (list(first.items), first.total) == ([n1, n4], 4)
            second = needs.page(2, 2)
            assert (list(second.items), second.total) == ([full, n3], 4)
            past_the_end = needs.page(2, 10)
            assert (list(past_the_end.items), past_the_end.total) == ([], 4)
            open_of_ab1 = needs.page(10, statuses=plannable, absence_id=AbsenceId("AB-1"))
            assert (list(open_of_ab1.items), open_of_ab1.total) == ([n3], 1)
            tuesday_on = needs.page(10, first_day=_day(1))
            assert (list(tuesday_on.items), tuesday_on.total) == ([n3], 1)
            monday_only = needs.page(1, last_day=MONDAY)
            assert (list(monday_only.items), monday_only.total) == ([n1], 3)

    def test_a_session_has_at_most_one_need_that_is_not_cancelled(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        first = _need(c, "N-1", "AB-1", "S-1", T0)
        self._absences_and_needs(uow_factory, c, first)
        again = _need(c, "N-5", "AB-2", "S-1", T0, faculty_id=c.bob.id)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.cover_needs.add_many([again])
        assert error.value.code == "session_already_needs_cover"
        other = _need(c, "N-6", "AB-1", "S-2", T0 + HOUR)
        with uow_factory().for_institution(c.id) as uow:
            with pytest.raises(ConflictError) as error:
                uow.cover_needs.add_many([other, again])  # all or nothing
            assert error.value.code == "session_already_needs_cover"
            assert uow.cover_needs.find(other.id) is None
            with pytest.raises(ConflictError) as error:
                twice = dataclasses.replace(other, id=CoverNeedId("N-7"))
                uow.cover_needs.add_many([other, twice])
            assert error.value.code == "session_already_needs_cover"
            # the transaction goes on after a refused batch
            uow.cover_needs.add_many([other])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.cover_needs.get(other.id) == other
            cancelled = uow.cover_needs.update(first.cancelled(T0))
            uow.cover_needs.add_many([again])
            assert uow.cover_needs.for_session(SessionId("S-1")) == again
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.cover_needs.for_session(SessionId("S-1")) == again
            with pytest.raises(ConflictError) as error:
                uow.cover_needs.update(dataclasses.replace(cancelled, status=NeedStatus.OPEN))
            assert error.value.code == "session_already_needs_cover"
            assert list(uow.cover_needs.list_between(MONDAY, MONDAY)) == [cancelled, again, other]

    def test_a_need_refers_to_an_existing_absence_session_and_teachers(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._absences_and_needs(uow_factory, c)
        for broken in (
            _need(c, "N-1", "AB-404", "S-1", T0),
            _need(c, "N-1", "AB-1", "S-404", T0),
            _need(c, "N-1", "AB-1", "S-1", T0, faculty_id=FacultyId("F404")),
            _need(c, "N-1", "AB-1", "S-1", T0, substitute_id=FacultyId("F404")),
        ):
            with uow_factory().for_institution(c.id) as uow, pytest.raises(NotFoundError):
                uow.cover_needs.add_many([broken])
        with uow_factory().for_institution(c.id) as uow:
            assert uow.cover_needs.find(CoverNeedId("N-1")) is None

    def test_a_need_update_is_optimistic_and_stores_version_plus_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        need = _need(c, "N-1", "AB-1", "S-1", T0)
        self._absences_and_needs(uow_factory, c, need)
        with uow_factory().for_institution(c.id) as uow:
            offered = uow.cover_needs.update(need.offered())
            assert offered.version == 1
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.cover_needs.get(need.id) == offered
            with pytest.raises(ConcurrencyError):
                uow.cover_needs.update(need.covered_by(c.bob.id, T0))
            covered = uow.cover_needs.update(offered.covered_by(c.bob.id, T0))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.cover_needs.get(need.id) == covered
            assert covered.version == 2
            assert covered.substitute_id == c.bob.id
            with pytest.raises(NotFoundError):
                uow.cover_needs.update(dataclasses.replace(need, id=CoverNeedId("N-404")))

    # -- cover plans --------------------------------------------------------------------------
    def test_draft_plans_sharing_a_day_come_oldest_first_and_pages_newest_first(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        week = _plan(c, "P-1", MONDAY, _day(4), T0)
        wednesday = _plan(c, "P-2", _day(2), _day(2), T0 + HOUR)
        published = _plan(c, "P-3", MONDAY, _day(4), T0 + 2 * HOUR, status=PlanStatus.PUBLISHED)
        next_week = _plan(c, "P-4", _day(7), _day(8), T0 - HOUR)
        cancelled = _plan(c, "P-5", MONDAY, _day(1), T0 + 3 * HOUR, status=PlanStatus.CANCELLED)
        same_time = _plan(c, "P-6", _day(5), _day(6), T0)
        with uow_factory().for_institution(c.id) as uow:
            for plan in (cancelled, week, next_week, same_time, published, wednesday):
                uow.cover_plans.add(plan)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            plans = uow.cover_plans
            assert list(plans.drafts_overlapping(_day(2), _day(3))) == [week, wednesday]
            assert list(plans.drafts_overlapping(_day(4), _day(4))) == [week]
            assert list(plans.drafts_overlapping(_day(6), _day(7))) == [next_week, same_time]
            assert list(plans.drafts_overlapping(_day(9), _day(30))) == []
            everything = plans.page(10)
            assert list(everything.items) == [
                cancelled,
                published,
                wednesday,
                same_time,
                week,
                next_week,
            ]
            assert everything.total == 6
            some = plans.page(2, 1)
            assert (list(some.items), some.total) == ([published, wednesday], 6)
            drafts = plans.page(10, status=PlanStatus.DRAFT)
            assert (list(drafts.items), drafts.total) == (
                [wednesday, same_time, week, next_week],
                4,
            )
            past_the_end = plans.page(5, 6, status=None)
            assert (list(past_the_end.items), past_the_end.total) == ([], 6)
            assert plans.page(10, status=PlanStatus.SUPERSEDED).total == 0

    # -- cover offers -------------------------------------------------------------------------
    def _offers(self, uow_factory: UnitOfWorkFactory, college: SmallCollege) -> dict[str, Any]:
        c = college
        self._absences_and_needs(
            uow_factory,
            c,
            _need(c, "N-1", "AB-1", "S-1", T0),
            _need(c, "N-2", "AB-1", "S-2", T0 + HOUR),
            _need(c, "N-3", "AB-1", "S-3", T0 + timedelta(days=1)),
        )
        reasons = (ScoreReason(CoverRule.QUALIFIED, 40), ScoreReason(CoverRule.FAIRNESS, 7))
        offers = {
            "declined": dataclasses.replace(
                _offer(
                    c,
                    "O-1",
                    "N-1",
                    c.bob.id,
                    T0 - 3 * HOUR,
                    status=OfferStatus.DECLINED,
                    plan_id="P-1",
                    reasons=reasons,
                ),
                decline_reason="I teach the B section then",
            ),
            "second": _offer(c, "O-2", "N-1", c.alice.id, T0 - 2 * HOUR, attempt=2),
            "open": _offer(c, "O-3", "N-2", c.alice.id, T0 - HOUR),
            "oldest": _offer(c, "O-4", "N-3", c.bob.id, T0 - 4 * HOUR, hours=1),
        }
        with uow_factory().for_institution(c.id) as uow:
            uow.cover_plans.add(_plan(c, "P-1", MONDAY, _day(4), T0 - 5 * HOUR))
            for offer in offers.values():
                uow.cover_offers.add(offer)
            uow.commit()
        return offers

    def test_cover_offers_keep_every_field_and_are_found_by_need_expiry_and_substitute(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        o = self._offers(uow_factory, c)
        declined, second, open_, oldest = o["declined"], o["second"], o["open"], o["oldest"]
        with uow_factory().for_institution(c.id) as uow:
            offers = uow.cover_offers
            assert offers.get(CoverOfferId("O-1")) == declined
            assert offers.find(CoverOfferId("O-404")) is None
            with pytest.raises(NotFoundError):
                offers.get(CoverOfferId("O-404"))
            assert offers.open_for_need(CoverNeedId("N-1")) == second
            assert offers.open_for_need(CoverNeedId("N-404")) is None
            assert list(offers.list_for_need(CoverNeedId("N-1"))) == [declined, second]
            assert list(offers.list_for_need(CoverNeedId("N-404"))) == []
            needs = [CoverNeedId(n) for n in ("N-3", "N-1", "N-2", "N-404", "N-1")]
            assert list(offers.open_for_needs(needs)) == [second, open_, oldest]
            assert list(offers.open_for_needs(iter([CoverNeedId("N-2")]))) == [open_]
            assert list(offers.open_for_needs([])) == []
            # open offers whose time ran out: expires_at <= now, by expiry then id
            assert list(offers.expired(T0)) == [oldest, second]
            assert list(offers.expired(T0, limit=1)) == [oldest]
            assert list(offers.expired(T0 - 3 * HOUR - timedelta(seconds=1))) == []
            assert list(offers.expired(T0 + 2 * HOUR)) == [oldest, second, open_]

            everything = offers.page(10)
            assert (list(everything.items), everything.total) == (
                [open_, second, declined, oldest],
                4,
            )
            one = offers.page(1, 1)
            assert (list(one.items), one.total) == ([second], 4)
            bobs = offers.page(10, substitute_id=c.bob.id)
            assert (list(bobs.items), bobs.total) == ([declined, oldest], 2)
            still_open = offers.page(2, status=OfferStatus.OFFERED)
            assert (list(still_open.items), still_open.total) == ([open_, second], 3)
            of_n1 = offers.page(10, need_id=CoverNeedId("N-1"))
            assert (list(of_n1.items), of_n1.total) == ([second, declined], 2)
            none = offers.page(10, substitute_id=c.bob.id, status=OfferStatus.ACCEPTED)
            assert (list(none.items), none.total) == ([], 0)

    def test_a_need_has_at_most_one_open_offer(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._offers(uow_factory, c)
        rival = _offer(c, "O-5", "N-1", c.bob.id, T0 - HOUR, attempt=3)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.cover_offers.add(rival)
        assert error.value.code == "need_already_offered"
        closed = _offer(c, "O-6", "N-1", c.bob.id, T0 - HOUR, status=OfferStatus.EXPIRED)
        with uow_factory().for_institution(c.id) as uow:
            uow.cover_offers.add(closed)  # answered offers do not count
            second = uow.cover_offers.get(CoverOfferId("O-2"))
            declined = uow.cover_offers.update(second.decline(T0 - HOUR, "busy"))
            uow.cover_offers.add(rival)  # the transaction went on, and the need is free
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.cover_offers.open_for_need(CoverNeedId("N-1")) == rival
            assert uow.cover_offers.get(declined.id) == declined
            assert declined.version == 1
            with pytest.raises(ConflictError) as error:
                reopened = dataclasses.replace(declined, status=OfferStatus.OFFERED)
                uow.cover_offers.update(reopened)
            assert error.value.code == "need_already_offered"
            # by attempt (then id)
            assert [o.id for o in uow.cover_offers.list_for_need(CoverNeedId("N-1"))] == [
                "O-1",
                "O-6",
                "O-2",
                "O-5",
            ]

    def test_racing_offers_of_one_need_leave_exactly_one_open(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._absences_and_needs(uow_factory, c, _need(c, "N-1", "AB-1", "S-1", T0))
        racers = 4
        barrier = threading.Barrier(racers)

        def offer(n: int) -> str:
            uow = uow_factory()
            barrier.wait(timeout=30)
            try:
                with uow.for_institution(c.id):
                    uow.cover_offers.add(_offer(c, f"O-{n}", "N-1", c.bob.id, T0, attempt=n))
                    uow.commit()
            except ConflictError as error:
                return error.code
            except ConcurrencyError:
                return "retry"
            return "offered"

        with ThreadPoolExecutor(max_workers=racers) as pool:
            outcomes = list(pool.map(offer, range(1, racers + 1)))
        assert outcomes.count("offered") == 1
        assert set(outcomes) <= {"offered", "need_already_offered", "retry"}
        with uow_factory().for_institution(c.id) as uow:
            stored = list(uow.cover_offers.list_for_need(CoverNeedId("N-1")))
            assert len(stored) == 1
            assert uow.cover_offers.open_for_need(CoverNeedId("N-1")) == stored[0]
            assert f"O-{outcomes.index('offered') + 1}" == stored[0].id

    def test_an_offer_update_is_optimistic_and_an_offer_refers_to_existing_rows(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._offers(uow_factory, c)
        with uow_factory().for_institution(c.id) as uow:
            stale = uow.cover_offers.get(CoverOfferId("O-3"))
        with uow_factory().for_institution(c.id) as uow:
            accepted = uow.cover_offers.update(stale.accept(T0 - HOUR / 2))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            with pytest.raises(ConcurrencyError):
                uow.cover_offers.update(stale.withdraw(T0))
            assert uow.cover_offers.get(stale.id) == accepted
            assert accepted.version == 1
            assert uow.cover_offers.open_for_need(CoverNeedId("N-2")) is None
        for broken in (
            _offer(c, "O-9", "N-404", c.bob.id, T0),
            _offer(c, "O-9", "N-2", FacultyId("F404"), T0),
            _offer(c, "O-9", "N-2", c.bob.id, T0, plan_id="P-404"),
        ):
            with uow_factory().for_institution(c.id) as uow, pytest.raises(NotFoundError):
                uow.cover_offers.add(broken)

    # -- substitute preferences ---------------------------------------------------------------
    def test_a_substitute_has_one_preference_of_a_kind_per_scope(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        bob, alice = c.bob.id, c.alice.id
        excluded = PreferenceKind.EXCLUDED
        kept = [
            _preference(c, "PR-1", bob, faculty_id=alice, note="knows the class"),
            _preference(c, "PR-2", bob, excluded, faculty_id=alice),
            _preference(c, "PR-3", bob, section_id=c.section_a.id),
            _preference(c, "PR-4", bob, subject_code=c.cs101.code),
            _preference(c, "PR-5", alice, section_id=c.section_a.id),
            _preference(c, "PR-6", bob, subject_code=c.ma101.code),
        ]
        with uow_factory().for_institution(c.id) as uow:
            for preference in reversed(kept):
                uow.substitute_preferences.add(preference)
            uow.commit()
        for twin in (
            _preference(c, "PR-7", bob, faculty_id=alice),
            _preference(c, "PR-7", bob, section_id=c.section_a.id),
            _preference(c, "PR-7", bob, subject_code=c.cs101.code),
        ):
            with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as e:
                uow.substitute_preferences.add(twin)
            assert e.value.code == "preference_exists"
        with uow_factory().for_institution(c.id) as uow:
            preferences = uow.substitute_preferences
            assert list(preferences.list()) == kept
            with pytest.raises(ConflictError) as e:
                preferences.update(dataclasses.replace(kept[5], subject_code=c.cs101.code))
            assert e.value.code == "preference_exists"
            # the transaction goes on: moving a preference frees its old scope
            moved = preferences.update(dataclasses.replace(kept[3], kind=excluded))
            preferences.add(_preference(c, "PR-8", bob, subject_code=c.cs101.code))
            assert preferences.remove(PreferenceId("PR-1")) is True
            preferences.add(_preference(c, "PR-9", bob, faculty_id=alice))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert [p.id for p in uow.substitute_preferences.list()] == [
                "PR-2",
                "PR-3",
                "PR-4",
                "PR-5",
                "PR-6",
                "PR-8",
                "PR-9",
            ]
            assert uow.substitute_preferences.get(moved.id) == moved
        for broken in (
            _preference(c, "PR-X", FacultyId("F404"), faculty_id=alice),
            _preference(c, "PR-X", bob, faculty_id=FacultyId("F404")),
            _preference(c, "PR-X", bob, section_id=SectionId("E2-CSE-Z")),
            _preference(c, "PR-X", bob, subject_code=SubjectCode("XX101")),
        ):
            with uow_factory().for_institution(c.id) as uow, pytest.raises(NotFoundError):
                uow.substitute_preferences.add(broken)

    # -- cover assignments: what the planner reads --------------------------------------------
    def test_covers_between_two_instants_and_the_count_each_substitute_starts(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        monday = _cover(c, "C-1", "S-1", c.bob.id, T0)
        later = _cover(c, "C-2", "S-2", c.alice.id, T0 + HOUR)
        tuesday = _cover(c, "C-3", "S-3", c.bob.id, T0 + timedelta(days=1))
        same_start = _cover(c, "C-0", "S-4", c.alice.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            for cover in (tuesday, later, monday, same_start):
                uow.covers.add(cover)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            covers = uow.covers
            assert list(covers.list_between(T0, T0 + HOUR)) == [same_start, monday]
            span = (T0 - timedelta(days=1), T0 + timedelta(days=2))
            assert list(covers.list_between(*span)) == [same_start, monday, later, tuesday]
            minute = timedelta(minutes=1)
            assert list(covers.list_between(T0 + HOUR, T0 + HOUR + minute)) == [later]
            assert list(covers.list_between(T0 - HOUR, T0)) == []
            assert dict(covers.count_by_substitute(T0, T0 + timedelta(days=1))) == {
                c.alice.id: 2,
                c.bob.id: 1,
            }
            # by start: a cover that began before the span is not counted
            assert dict(covers.count_by_substitute(T0 + minute, span[1])) == {
                c.alice.id: 1,
                c.bob.id: 1,
            }
            assert dict(covers.count_by_substitute(T0 + timedelta(days=3), _FAR_FUTURE)) == {}

    # -- the board's lean reads ---------------------------------------------------------------
    def test_teacher_bookings_list_live_sessions_by_teacher_date_and_start(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        with uow_factory().for_institution(c.id) as uow:
            cancelled = uow.sessions.get(SessionId("S-4"))
            uow.sessions.update(dataclasses.replace(cancelled, status=SessionStatus.CANCELLED))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            week = DateRange(MONDAY, _day(6))
            found = [
                (b.teacher_id, b.date, b.start, b.end) for b in uow.sessions.teacher_bookings(week)
            ]
            assert found == [
                (c.alice.id, MONDAY, time(9), time(10)),
                (c.alice.id, _day(1), time(9), time(10)),
                (c.bob.id, MONDAY, time(10), time(11)),
            ]
            assert list(uow.sessions.teacher_bookings(DateRange(_day(2), _day(6)))) == []

    def test_sections_by_teacher_name_each_section_a_teacher_has_an_assignment_for(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        with uow_factory().for_institution(c.id) as uow:
            assert dict(uow.assignments.sections_by_teacher()) == {
                c.alice.id: frozenset({c.section_a.id}),
                c.bob.id: frozenset({c.section_a.id, c.section_b.id}),
            }

    # -- tenants ------------------------------------------------------------------------------
    def test_another_institutions_cover_work_is_never_seen_and_never_in_the_way(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        a = college
        b = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        written: dict[str, dict[str, Any]] = {}
        for tag, c in (("A", a), ("B", b)):
            self._cover_sessions(uow_factory, c)
            rows: dict[str, Any] = {
                "absence": _absence(c, "AB-1", c.alice.id, T0 - HOUR, hours=48),
                "own absence": _absence(c, f"AB-{tag}", c.bob.id, T0),
                "need": _need(c, "N-1", "AB-1", "S-1", T0),
                "own need": _need(c, f"N-{tag}", f"AB-{tag}", "S-4", T0, faculty_id=c.bob.id),
                "plan": _plan(c, "P-1", MONDAY, _day(4), T0),
                "own plan": _plan(c, f"P-{tag}", MONDAY, MONDAY, T0 - HOUR),
                "offer": _offer(c, "O-1", "N-1", c.bob.id, T0 - 2 * HOUR, plan_id="P-1"),
                "own offer": _offer(c, f"O-{tag}", f"N-{tag}", c.alice.id, T0 - 2 * HOUR),
                "preference": _preference(c, "PR-1", c.bob.id, faculty_id=c.alice.id),
                "own preference": _preference(c, f"PR-{tag}", c.alice.id, faculty_id=c.bob.id),
                "cover": _cover(c, "C-1", "S-2", c.alice.id, T0 + HOUR),
            }
            with uow_factory().for_institution(c.id) as uow:
                uow.absences.add(rows["absence"])
                uow.absences.add(rows["own absence"])
                uow.cover_needs.add_many([rows["need"], rows["own need"]])
                uow.cover_plans.add(rows["plan"])
                uow.cover_plans.add(rows["own plan"])
                uow.cover_offers.add(rows["offer"])
                uow.cover_offers.add(rows["own offer"])
                uow.substitute_preferences.add(rows["preference"])
                uow.substitute_preferences.add(rows["own preference"])
                uow.covers.add(rows["cover"])
                uow.commit()
            written[tag] = rows
        for me, other in (("A", "B"), ("B", "A")):
            mine = written[me]
            c = a if me == "A" else b
            with uow_factory().for_institution(c.id) as uow:
                assert uow.absences.find(AbsenceId(f"AB-{other}")) is None
                with pytest.raises(NotFoundError):
                    uow.absences.get(AbsenceId(f"AB-{other}"))
                assert uow.cover_needs.find(CoverNeedId(f"N-{other}")) is None
                with pytest.raises(NotFoundError):
                    uow.cover_needs.get(CoverNeedId(f"N-{other}"))
                assert uow.cover_plans.find(CoverPlanId(f"P-{other}")) is None
                with pytest.raises(NotFoundError):
                    uow.cover_plans.get(CoverPlanId(f"P-{other}"))
                assert uow.cover_offers.find(CoverOfferId(f"O-{other}")) is None
                with pytest.raises(NotFoundError):
                    uow.cover_offers.get(CoverOfferId(f"O-{other}"))
                assert uow.substitute_preferences.find(PreferenceId(f"PR-{other}")) is None
                with pytest.raises(NotFoundError):
                    uow.substitute_preferences.get(PreferenceId(f"PR-{other}"))
                assert uow.substitute_preferences.remove(PreferenceId(f"PR-{other}")) is False

                assert uow.absences.get(AbsenceId("AB-1")) == mine["absence"]
                everyone_away = uow.absences.list_overlapping(_FAR_PAST, _FAR_FUTURE)
                assert list(everyone_away) == [mine["absence"], mine["own absence"]]
                assert uow.absences.page(10).total == 2
                assert uow.cover_needs.for_session(SessionId("S-1")) == mine["need"]
                assert list(uow.cover_needs.list_between(MONDAY, _day(6))) == [
                    mine["need"],
                    mine["own need"],
                ]
                assert uow.cover_needs.page(10).total == 2
                assert list(uow.cover_plans.drafts_overlapping(MONDAY, MONDAY)) == [
                    mine["own plan"],
                    mine["plan"],
                ]
                assert uow.cover_plans.page(10).total == 2
                assert uow.cover_offers.open_for_need(CoverNeedId("N-1")) == mine["offer"]
                assert list(uow.cover_offers.expired(_FAR_FUTURE)) == [
                    mine["offer"],
                    mine["own offer"],
                ]
                assert uow.cover_offers.page(10).total == 2
                assert list(uow.substitute_preferences.list()) == [
                    mine["preference"],
                    mine["own preference"],
                ]
                assert list(uow.covers.list_between(_FAR_PAST, _FAR_FUTURE)) == [mine["cover"]]
                assert dict(uow.covers.count_by_substitute(_FAR_PAST, _FAR_FUTURE)) == {
                    c.alice.id: 1
                }
