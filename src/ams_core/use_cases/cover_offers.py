"""Cover offers: the offered substitute accepts or declines; a decline or an expired offer
moves the need to the next best candidate, and finally back to the admins (PRODUCT.md §2.6).

Accepting makes the substitute the session's teacher of record (they open attendance and
mark it) and tells the session's students. Two accepts that would double-book one
substitute leave exactly one cover: the persistence adapters refuse the second booking.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from ams_core.domain.cover import CoverAssignment
from ams_core.domain.cover_matching import Unavailability, cap_block, time_block
from ams_core.domain.cover_needs import CoverNeed, NeedStatus
from ams_core.domain.cover_offers import CoverOffer, OfferStatus
from ams_core.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import CoverId, CoverNeedId, CoverOfferId, FacultyId, InstitutionId
from ams_core.domain.institution import Institution
from ams_core.domain.notifications import Recipient, RecipientKind
from ams_core.domain.sessions import SessionStatus
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import Slice, UnitOfWork
from ams_core.use_cases._access import require_admin, require_faculty, tenant_of
from ams_core.use_cases._cover import (
    COVERED_KIND,
    notify,
    notify_withdrawn,
    offer_next,
    one_teacher_board,
    parse_choice,
)

logger = logging.getLogger("ams.cover")


def _visible(actor: Principal, offer: CoverOffer) -> bool:
    return actor.is_admin or (actor.is_faculty and actor.faculty_id == offer.substitute_id)


def _own_offer(actor: Principal, offer: CoverOffer) -> None:
    """Only the offered substitute answers; another teacher does not even see the offer."""
    if actor.is_faculty and actor.faculty_id == offer.substitute_id:
        return
    if actor.is_admin:
        raise PermissionDeniedError("only the offered substitute may answer an offer")
    raise NotFoundError("cover offer", offer.id)


def _require_still_free(
    uow: UnitOfWork, institution: Institution, substitute_id: FacultyId, need: CoverNeed
) -> None:
    """Refuse an accept the hard rules no longer allow: the substitute became absent, took
    a class or a cover at that time, was excluded, or reached a cap since the offer (their
    other open offers do not count: whichever they accept first wins).
    """
    board, teacher = one_teacher_board(uow, institution, substitute_id, need)
    block = time_block(board, teacher, need) or cap_block(board, teacher, need)
    if block is None:
        return
    if block is Unavailability.COVERING:  # the code the database gives a racing booking
        raise ConflictError(
            "the substitute already covers a class at that time",
            code="substitute_double_booked",
        )
    if block in (Unavailability.DAILY_CAP, Unavailability.WEEKLY_CAP):
        raise ConflictError(
            "the substitute already holds as many covers as their cap allows",
            code="cover_cap_reached",
        )
    raise ConflictError(
        f"the substitute can no longer take this class ({block.value.replace('_', ' ')})",
        code="teacher_unavailable",
    )


@dataclass(frozen=True, slots=True)
class AnswerOfferCommand:
    """The offered substitute answers; a decline may say why."""

    actor: Principal
    offer_id: CoverOfferId
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """The answered offer and, after a decline, the next offer of the cascade (``None``
    when the need went back to the admins).
    """

    offer: CoverOffer
    next_offer: CoverOffer | None = None


class AcceptCoverOffer:
    """Accept an offer: book the cover, hand the session over, tell the students."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: AnswerOfferCommand) -> AnswerResult:
        """Accept.

        Raises:
            NotFoundError: no such offer, or somebody else's.
            PermissionDeniedError: an admin answering for the substitute.
            ConflictError: ``offer_expired``, ``offer_<status>`` once answered,
                ``substitute_double_booked`` when the substitute took an overlapping class
                meanwhile, ``session_cancelled``/``session_completed``.
        """
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            offer = uow.cover_offers.get(command.offer_id)
            _own_offer(command.actor, offer)
            accepted = offer.accept(now)
            need = uow.cover_needs.get(offer.need_id)
            session = uow.sessions.get(need.session_id)
            if session.status not in (SessionStatus.SCHEDULED, SessionStatus.OPEN):
                raise ConflictError(
                    f"the class is {session.status.value}", code=f"session_{session.status.value}"
                )
            _require_still_free(uow, institution, offer.substitute_id, need)
            uow.covers.add(
                CoverAssignment(
                    id=CoverId(self._random.new_id()),
                    institution_id=institution_id,
                    session_id=session.id,
                    substitute_id=offer.substitute_id,
                    starts_at=need.starts_at,
                    ends_at=need.ends_at,
                    booked_at=now,
                )
            )
            accepted = uow.cover_offers.update(accepted)
            uow.cover_needs.update(need.covered_by(offer.substitute_id, now))
            uow.sessions.update(dataclasses.replace(session, teacher_id=offer.substitute_id))
            substitute = uow.faculty.get(offer.substitute_id)
            notify(
                uow,
                self._random,
                now,
                institution_id,
                COVERED_KIND,
                (
                    "Your class has a substitute",
                    (
                        f"{session.subject_code} on {session.date:%a %d %b} at "
                        f"{session.start:%H:%M} is taught by {substitute.name}."
                    ),
                ),
                [Recipient(RecipientKind.SECTION, session.section_id)],
                {"sessionId": session.id, "substituteId": substitute.id},
            )
            uow.commit()
        return AnswerResult(accepted)


class DeclineCoverOffer:
    """Decline an offer; the need moves on to the next best candidate."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: AnswerOfferCommand) -> AnswerResult:
        """Decline and cascade.

        Raises:
            NotFoundError: no such offer, or somebody else's.
            PermissionDeniedError: an admin answering for the substitute.
            ValidationError: a reason over 500 characters.
            ConflictError: ``offer_expired`` or ``offer_<status>``.
        """
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            institution = uow.institutions.get(institution_id)
            offer = uow.cover_offers.get(command.offer_id)
            _own_offer(command.actor, offer)
            declined = uow.cover_offers.update(offer.decline(now, command.reason))
            need = uow.cover_needs.get(offer.need_id)
            following = offer_next(uow, institution, need, now=now, random=self._random)
            uow.commit()
        return AnswerResult(declined, following)


class WithdrawCoverOffer:
    """An admin takes an open offer back; the need is open again for planning."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: AnswerOfferCommand) -> AnswerResult:
        """Withdraw.

        Raises:
            PermissionDeniedError: not an admin.
            NotFoundError: no such offer.
            ConflictError: ``offer_<status>`` once answered.
        """
        require_admin(command.actor)
        institution_id = tenant_of(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            offer = uow.cover_offers.get(command.offer_id)
            withdrawn = uow.cover_offers.update(offer.withdraw(now))
            need = uow.cover_needs.get(offer.need_id)
            if need.status is NeedStatus.OFFERED:
                uow.cover_needs.update(need.reopened())
            notify_withdrawn(uow, self._random, now, offer)
            uow.commit()
        return AnswerResult(withdrawn)


@dataclass(frozen=True, slots=True)
class GetCoverOfferCommand:
    """Read one offer."""

    actor: Principal
    offer_id: CoverOfferId


class GetCoverOffer:
    """One offer: its substitute or an admin."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: GetCoverOfferCommand) -> CoverOffer:
        """Read.

        Raises:
            NotFoundError: no such offer, or somebody else's.
        """
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            offer = uow.cover_offers.get(command.offer_id)
        if not _visible(command.actor, offer):
            raise NotFoundError("cover offer", command.offer_id)
        return offer


@dataclass(frozen=True, slots=True)
class ListCoverOffersCommand:
    """A page of offers, newest first; teachers see only their own."""

    actor: Principal
    limit: int = 50
    offset: int = 0
    status: str | None = None
    substitute_id: FacultyId | None = None
    need_id: CoverNeedId | None = None


class ListCoverOffers:
    """Offers newest first: an admin's whole institution, a teacher's own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: ListCoverOffersCommand) -> Slice[CoverOffer]:
        """Read a page.

        Raises:
            ValidationError: unknown status.
            PermissionDeniedError: neither a teacher nor an admin.
        """
        institution_id = tenant_of(command.actor)
        substitute = (
            command.substitute_id if command.actor.is_admin else require_faculty(command.actor)
        )
        status = None
        if command.status is not None:
            status = parse_choice(OfferStatus, command.status, "status")
        with self._uow.for_institution(institution_id) as uow:
            return uow.cover_offers.page(
                command.limit,
                command.offset,
                substitute_id=substitute,
                status=status,
                need_id=command.need_id,
            )


@dataclass(frozen=True, slots=True)
class ExpireCoverOffersCommand:
    """Expire the offers whose time ran out; ``institution_id`` limits the sweep to one
    institution, ``None`` sweeps all of them.
    """

    institution_id: InstitutionId | None = None


@dataclass(frozen=True, slots=True)
class ExpireCoverOffersResult:
    """How many offers expired, how many needs went on to a next candidate and how many
    went back to the admins.
    """

    expired: int
    offered_next: int
    escalated: int


class ExpireCoverOffers:
    """The periodic job behind the cascade's timeout (one transaction per offer, so one
    failure does not hold the others back).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: ExpireCoverOffersCommand) -> ExpireCoverOffersResult:
        """Sweep, expire and cascade."""
        now = self._clock.now()
        if command.institution_id is None:
            with self._uow.for_platform() as uow:
                institution_ids = [i.id for i in uow.institutions.list()]
        else:
            institution_ids = [command.institution_id]
        expired = offered_next = escalated = 0
        for institution_id in institution_ids:
            with self._uow.for_institution(institution_id) as uow:
                due = [o.id for o in uow.cover_offers.expired(now, limit=10_000)]
            for offer_id in due:
                try:
                    with self._uow.for_institution(institution_id) as uow:
                        institution = uow.institutions.get(institution_id)
                        offer = uow.cover_offers.get(offer_id)
                        if not offer.is_expired_at(now):
                            continue
                        uow.cover_offers.update(offer.expire(now))
                        need = uow.cover_needs.get(offer.need_id)
                        following = offer_next(uow, institution, need, now=now, random=self._random)
                        uow.commit()
                except (ConflictError, NotFoundError) as error:
                    # answered or changed meanwhile (a decline at the last second): the
                    # others still expire; a later sweep sees this one again if still due
                    logger.warning("cover offer %s not expired: %s", offer_id, error)
                    continue
                expired += 1
                if following is None:
                    escalated += 1
                else:
                    offered_next += 1
        return ExpireCoverOffersResult(expired, offered_next, escalated)
