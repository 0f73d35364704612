"""Cover needs, substitute matching and cover plans (PRODUCT.md §2.6): admins only.

A plan covers the most open needs of a date range and, among those, has the best total
score, under every hard rule; the solver behind the :class:`CoverSolver` port finds it. A
plan is a draft until it is published; publishing offers each planned need to its
substitute. Planning again supersedes older drafts over the same days and leaves accepted
covers and needs already on offer alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ams_core.domain.cover_matching import (
    CandidateRanking,
    CoverBoard,
    RankedCandidate,
    Unavailability,
    assess,
    candidate_scores,
    covers_in_week,
    covers_on,
    iso_week,
    score,
)
from ams_core.domain.cover_needs import PLANNABLE, CoverNeed, NeedStatus
from ams_core.domain.cover_offers import CoverOffer
from ams_core.domain.cover_plans import (
    CoverPlan,
    PlannedCover,
    PlanStatus,
    UncoveredNeed,
    UncoveredReason,
)
from ams_core.domain.cover_solving import CoverProblem, PlanningCandidate, PlanningNeed
from ams_core.domain.errors import ConflictError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import AbsenceId, CoverNeedId, CoverPlanId, FacultyId
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.cover_solver import CoverSolver
from ams_core.ports.persistence import Slice, UnitOfWork
from ams_core.use_cases._access import require_admin, tenant_of
from ams_core.use_cases._cover import (
    asked_before,
    is_live,
    load_board,
    offer_to,
    parse_choice,
    rank_need,
    release_need,
    week_span,
)


def _statuses(values: tuple[str, ...]) -> frozenset[NeedStatus] | None:
    if not values:
        return None
    return frozenset(parse_choice(NeedStatus, value, "status") for value in values)


@dataclass(frozen=True, slots=True)
class ListCoverNeedsCommand:
    """A page of cover needs, by start, filtered by status, days and absence."""

    actor: Principal
    limit: int = 50
    offset: int = 0
    statuses: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    absence_id: AbsenceId | None = None


class ListCoverNeeds:
    """The institution's cover needs (admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: ListCoverNeedsCommand) -> Slice[CoverNeed]:
        """Read a page.

        Raises:
            PermissionDeniedError: not an admin.
            ValidationError: unknown status.
        """
        require_admin(command.actor)
        statuses = _statuses(command.statuses)
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            return uow.cover_needs.page(
                command.limit,
                command.offset,
                statuses=statuses,
                first_day=command.first_day,
                last_day=command.last_day,
                absence_id=command.absence_id,
            )


@dataclass(frozen=True, slots=True)
class CoverNeedCommand:
    """One cover need, by id."""

    actor: Principal
    need_id: CoverNeedId


@dataclass(frozen=True, slots=True)
class CoverNeedDetail:
    """A need with every offer made for it so far."""

    need: CoverNeed
    offers: tuple[CoverOffer, ...]


class GetCoverNeed:
    """One need and its offers (admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: CoverNeedCommand) -> CoverNeedDetail:
        """Read.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such need in the institution.
        """
        require_admin(command.actor)
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            need = uow.cover_needs.get(command.need_id)
            return CoverNeedDetail(need, tuple(uow.cover_offers.list_for_need(need.id)))


class CancelCoverNeed:
    """The admin decides a class needs no cover after all: its open offer is withdrawn, a
    cover is taken back and the class goes back to the absent teacher's name.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: CoverNeedCommand) -> CoverNeed:
        """Cancel.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such need.
            ConflictError: ``need_cancelled`` when it already was.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            need = uow.cover_needs.get(command.need_id)
            cancelled = need.cancelled(now)
            if need.status is NeedStatus.COVERED and not is_live(uow.sessions.get(need.session_id)):
                raise ConflictError(
                    "the class was held under cover; its cover stays on record",
                    code="need_covered",
                )
            release_need(uow, institution, need, now=now, random=self._random)
            cancelled = uow.cover_needs.update(cancelled)
            uow.commit()
        return cancelled


class RankCandidates:
    """Ranked substitutes for one need, each with the score and its reasons, and the
    teachers ruled out with the hard rule that did it (admin).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: CoverNeedCommand) -> CandidateRanking:
        """Rank.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such need.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            need = uow.cover_needs.get(command.need_id)
            board = load_board(uow, institution, need.day, need.day)
            return rank_need(uow, board, need)


@dataclass(frozen=True, slots=True)
class OfferNeedCommand:
    """The admin offers one need to a teacher they choose."""

    actor: Principal
    need_id: CoverNeedId
    faculty_id: FacultyId


class OfferNeed:
    """Offer a need to a named teacher, outside any plan (an escalated need, or a class
    the admin wants to hand out by hand). Every hard rule still holds; a teacher who
    declined before may be asked again.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: OfferNeedCommand) -> CoverOffer:
        """Offer and tell the teacher.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such need or teacher.
            ConflictError: ``need_<status>`` when the need is covered, cancelled or already
                on offer; ``teacher_unavailable`` naming the hard rule that rules the
                teacher out; ``class_starts_too_soon`` when the class has begun.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            need = uow.cover_needs.get(command.need_id)
            uow.faculty.get(command.faculty_id)
            if not need.is_plannable:
                raise ConflictError(
                    f"the cover need is {need.status.value}", code=f"need_{need.status.value}"
                )
            board = load_board(uow, institution, need.day, need.day)
            candidate = assess(board, command.faculty_id, need)
            if not isinstance(candidate, RankedCandidate):
                raise ConflictError(
                    f"the teacher cannot cover this class ({candidate.value.replace('_', ' ')})",
                    code="teacher_unavailable",
                )
            attempt = len(uow.cover_offers.list_for_need(need.id)) + 1
            offer = offer_to(
                uow,
                institution,
                need,
                candidate,
                attempt=attempt,
                plan_id=None,
                now=now,
                random=self._random,
            )
            if offer is None:
                raise ConflictError("the class starts too soon", code="class_starts_too_soon")
            uow.commit()
        return offer


@dataclass(frozen=True, slots=True)
class BuildCoverPlanCommand:
    """Plan the open needs from ``first_day`` to ``last_day`` (local dates, inclusive)."""

    actor: Principal
    first_day: date
    last_day: date


def _uncovered_reason(ranking: CandidateRanking) -> UncoveredReason:
    if ranking.ranked:
        return UncoveredReason.CANDIDATES_NEEDED_ELSEWHERE
    reasons = {u.reason for u in ranking.unavailable}
    if reasons & {Unavailability.DAILY_CAP, Unavailability.WEEKLY_CAP}:
        return UncoveredReason.CAPS_REACHED
    if Unavailability.DECLINED in reasons:
        return UncoveredReason.ALL_DECLINED
    if Unavailability.NOT_QUALIFIED in reasons:
        return UncoveredReason.NO_QUALIFIED_TEACHER_FREE
    return UncoveredReason.NO_TEACHER_FREE


class BuildCoverPlan:
    """Solve the cover plan of a date range and store it as a draft."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, random: RandomSource, solver: CoverSolver
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random
        self._solver = solver

    def __call__(self, command: BuildCoverPlanCommand) -> CoverPlan:
        """Plan: every open or escalated need of the range whose class has not started.

        Raises:
            PermissionDeniedError: not an admin.
            ValidationError: ``to`` before ``from`` or a range over 31 days.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            # validates the range before anything is read
            CoverPlan(
                CoverPlanId("-"),
                institution_id,
                command.first_day,
                command.last_day,
                now,
                "",
                "",
                (),
                (),
            )
            # the whole weeks' needs serve the caps and offers of the board as well
            week_needs = uow.cover_needs.list_between(
                *week_span(command.first_day, command.last_day)
            )
            needs = [
                n
                for n in week_needs
                if command.first_day <= n.day <= command.last_day
                and n.is_plannable
                and n.starts_at > now
            ]
            board = load_board(uow, institution, command.first_day, command.last_day, week_needs)
            scores = {n.id: candidate_scores(board, n, asked_before(uow, n)) for n in needs}
            problem = _problem(board, needs, scores)
            solution = self._solver.solve(problem)
            assignments = []
            for need in needs:
                substitute = solution.assignments.get(need.id)
                if substitute is None:
                    continue
                chosen = score(board, board.teachers[FacultyId(substitute)], need)
                assignments.append(
                    PlannedCover(need.id, chosen.faculty_id, chosen.score, chosen.reasons)
                )
            uncovered = [
                UncoveredNeed(n.id, _uncovered_reason(rank_need(uow, board, n)))
                for n in needs
                if n.id not in solution.assignments
            ]
            for older in uow.cover_plans.drafts_overlapping(command.first_day, command.last_day):
                uow.cover_plans.update(older.superseded())
            plan = CoverPlan(
                id=CoverPlanId(self._random.new_id()),
                institution_id=institution_id,
                first_day=command.first_day,
                last_day=command.last_day,
                created_at=now,
                created_by=command.actor.email,
                solver=_solver_name(self._solver, problem),
                assignments=tuple(assignments),
                uncovered=tuple(uncovered),
            )
            uow.cover_plans.add(plan)
            uow.commit()
        return plan


def _solver_name(solver: CoverSolver, problem: CoverProblem) -> str:
    choose = getattr(solver, "choose", None)
    return str(choose(problem).name) if callable(choose) else solver.name


def _problem(
    board: CoverBoard,
    needs: list[CoverNeed],
    scores: dict[CoverNeedId, list[PlanningCandidate]],
) -> CoverProblem:
    """The solver's view: eligible candidates with their scores, and what is left of each
    candidate's caps after the covers they already hold.
    """
    day_capacity: dict[tuple[str, date], int] = {}
    week_capacity: dict[tuple[str, tuple[int, int]], int] = {}
    planning: list[PlanningNeed] = []
    for need in needs:
        week = iso_week(need.day)
        candidates = scores[need.id]
        for candidate in candidates:
            key_day = (candidate.substitute, need.day)
            if key_day in day_capacity:
                continue
            teacher = board.teachers[FacultyId(candidate.substitute)]
            day_capacity[key_day] = board.daily_cap(teacher.faculty) - covers_on(
                teacher.covers, need.day
            )
            key_week = (candidate.substitute, week)
            if key_week not in week_capacity:
                week_capacity[key_week] = board.weekly_cap(teacher.faculty) - covers_in_week(
                    teacher.covers, need.day
                )
        planning.append(
            PlanningNeed(need.id, need.starts_at, need.ends_at, need.day, week, tuple(candidates))
        )
    return CoverProblem(tuple(planning), day_capacity, week_capacity)


@dataclass(frozen=True, slots=True)
class CoverPlanCommand:
    """One plan, by id."""

    actor: Principal
    plan_id: CoverPlanId


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The published plan, the offers it sent, and the planned needs it could not offer
    (taken meanwhile, or starting too soon).
    """

    plan: CoverPlan
    offers: tuple[CoverOffer, ...]
    skipped: tuple[CoverNeedId, ...]


class PublishCoverPlan:
    """Publish a draft: offer each planned need to its substitute and tell them."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: CoverPlanCommand) -> PublishResult:
        """Publish.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such plan.
            ConflictError: ``plan_published``, ``plan_superseded`` or ``plan_cancelled``.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            plan = uow.cover_plans.update(uow.cover_plans.get(command.plan_id).publish(now))
            board = load_board(uow, institution, plan.first_day, plan.last_day)
            offers: list[CoverOffer] = []
            skipped: list[CoverNeedId] = []
            for planned in plan.assignments:
                need = uow.cover_needs.get(planned.need_id)
                # only the planned substitute is judged again, not the whole ranking
                candidate = None
                if (
                    need.status in PLANNABLE
                    and planned.substitute_id in board.teachers
                    and uow.cover_offers.open_for_need(need.id) is None
                ):
                    judged = assess(board, planned.substitute_id, need, asked_before(uow, need))
                    if isinstance(judged, RankedCandidate):
                        candidate = judged
                offer = None
                if candidate is not None:
                    attempt = len(uow.cover_offers.list_for_need(need.id)) + 1
                    offer = offer_to(
                        uow,
                        institution,
                        need,
                        candidate,
                        attempt=attempt,
                        plan_id=plan.id,
                        now=now,
                        random=self._random,
                    )
                if offer is None:
                    skipped.append(need.id)
                else:
                    offers.append(offer)
            uow.commit()
        return PublishResult(plan, tuple(offers), tuple(skipped))


class CancelCoverPlan:
    """Discard a draft plan (admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: CoverPlanCommand) -> CoverPlan:
        """Cancel.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such plan.
            ConflictError: the plan is not a draft.
        """
        require_admin(command.actor)
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            plan = uow.cover_plans.update(uow.cover_plans.get(command.plan_id).cancel())
            uow.commit()
        return plan


class GetCoverPlan:
    """One plan (admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: CoverPlanCommand) -> CoverPlan:
        """Read.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such plan.
        """
        require_admin(command.actor)
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            return uow.cover_plans.get(command.plan_id)


@dataclass(frozen=True, slots=True)
class ListCoverPlansCommand:
    """A page of plans, newest first."""

    actor: Principal
    limit: int = 50
    offset: int = 0
    status: str | None = None


class ListCoverPlans:
    """The institution's plans, newest first (admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: ListCoverPlansCommand) -> Slice[CoverPlan]:
        """Read a page.

        Raises:
            PermissionDeniedError: not an admin.
            ValidationError: unknown status.
        """
        require_admin(command.actor)
        status = None
        if command.status is not None:
            status = parse_choice(PlanStatus, command.status, "status")
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            return uow.cover_plans.page(command.limit, command.offset, status=status)
