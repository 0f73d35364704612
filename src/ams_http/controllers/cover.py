"""Teaching cover: needs, ranked candidates, cover plans, offers, analytics and the
substitute preferences (PRODUCT.md §2.6).

Admins read and manage needs, plans, preferences and analytics (everybody else: 403). An
offer is for its substitute alone: they see their own offers and accept or decline them
(another teacher gets 404, an admin answering for them 403); admins see every offer and
may withdraw an open one. Lists are paged (``limit``, ``offset``) and answer
``{items, total, limit, offset}``.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any, Literal

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter

from ams_core.domain import (
    AbsenceId,
    CoverNeedId,
    CoverOfferId,
    CoverPlanId,
    FacultyId,
    PreferenceId,
    PreferenceKind,
    Principal,
)
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE, WorkbookWriter
from ams_core.use_cases import (
    AcceptCoverOffer,
    AnswerOfferCommand,
    BuildCoverPlan,
    BuildCoverPlanCommand,
    CancelCoverNeed,
    CancelCoverPlan,
    CoverAnalytics,
    CoverAnalyticsCommand,
    CoverNeedCommand,
    CoverPlanCommand,
    DeclineCoverOffer,
    GetCoverNeed,
    GetCoverOffer,
    GetCoverOfferCommand,
    GetCoverPlan,
    ListCoverNeeds,
    ListCoverNeedsCommand,
    ListCoverOffers,
    ListCoverOffersCommand,
    ListCoverPlans,
    ListCoverPlansCommand,
    OfferNeed,
    OfferNeedCommand,
    PublishCoverPlan,
    RankCandidates,
    SubstitutePreferenceCatalogue,
    WithdrawCoverOffer,
)
from ams_http.controllers._params import CREATES, READ, Limit, Offset, acts
from ams_http.controllers._resource import ListFilter, Resource, ResourceDocs, resource_controller
from ams_http.controllers._run import created, run, run_in_thread
from ams_http.controllers._xlsx import VARY_ACCEPT, attachment, wants_xlsx, xlsx_name
from ams_http.controllers.cover_workbooks import analytics_workbook, plan_workbook
from ams_http.openapi import INPUT, SIGNED_IN, problems, with_alternative_media_type
from ams_http.schemas.cover import (
    AnswerOut,
    CandidatesOut,
    CoverAnalyticsOut,
    CoverNeedDetailOut,
    CoverNeedOut,
    CoverNeedPageOut,
    CoverOfferOut,
    CoverOfferPageOut,
    CoverPlanIn,
    CoverPlanOut,
    CoverPlanPageOut,
    DeclineIn,
    OfferNeedIn,
    PreferenceIn,
    PreferenceOut,
    PreferencePageOut,
    PreferencePatch,
    PublishOut,
)

COVER = "/api/v1/cover"
NEED = f"{COVER}/needs/{{need_id:str}}"
PLAN = f"{COVER}/plans/{{plan_id:str}}"
OFFER = f"{COVER}/offers/{{offer_id:str}}"
TAGS = ["cover"]
NeedPath = Annotated[str, PathParameter(max_length=64, description="cover need id")]
PlanPath = Annotated[str, PathParameter(max_length=64, description="cover plan id")]
OfferPath = Annotated[str, PathParameter(max_length=64, description="cover offer id")]


# -- needs ------------------------------------------------------------------------------
@get(f"{COVER}/needs", tags=TAGS, operation_id="listCoverNeeds", responses=READ)
@inject
async def list_cover_needs(
    actor: FromDishka[Principal],
    use_case: FromDishka[ListCoverNeeds],
    status: Annotated[
        list[str] | None,
        QueryParameter(
            description="open, offered, covered, escalated or cancelled: repeat the "
            "parameter or give a comma-separated list (any of them matches)",
        ),
    ] = None,
    start: Annotated[date | None, QueryParameter(name="from", description="first date")] = None,
    end: Annotated[date | None, QueryParameter(name="to", description="last date")] = None,
    absence_id: Annotated[
        str | None, QueryParameter(name="absenceId", max_length=64, description="one absence's")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CoverNeedPageOut:
    """Admin: the institution's cover needs by the start of their class (filters: status,
    the class's local dates ``from``/``to``, absence).
    """
    statuses = tuple(
        part.strip() for value in status or () for part in value.split(",") if part.strip()
    )
    command = ListCoverNeedsCommand(
        actor,
        limit=limit,
        offset=offset,
        statuses=statuses,
        first_day=start,
        last_day=end,
        absence_id=AbsenceId(absence_id) if absence_id else None,
    )
    page = await run(use_case, command)
    return CoverNeedPageOut(
        items=[CoverNeedOut.of(n) for n in page.items], total=page.total, limit=limit, offset=offset
    )


@get(NEED, tags=TAGS, operation_id="getCoverNeed", responses=READ)
@inject
async def get_cover_need(
    actor: FromDishka[Principal],
    need_id: NeedPath,
    use_case: FromDishka[GetCoverNeed],
) -> CoverNeedDetailOut:
    """Admin: one cover need and every offer made for it so far."""
    detail = await run(use_case, CoverNeedCommand(actor, CoverNeedId(need_id)))
    return CoverNeedDetailOut.of_detail(detail)


@post(f"{NEED}/cancel", tags=TAGS, operation_id="cancelCoverNeed", **acts(body=False))
@inject
async def cancel_cover_need(
    actor: FromDishka[Principal],
    need_id: NeedPath,
    use_case: FromDishka[CancelCoverNeed],
) -> CoverNeedOut:
    """Admin: the class needs no cover after all. Its open offer is withdrawn, an accepted
    cover taken back and the class given back to the absent teacher. 409
    ``need_cancelled`` when it already was.
    """
    need = await run(use_case, CoverNeedCommand(actor, CoverNeedId(need_id)))
    return CoverNeedOut.of(need)


@get(f"{NEED}/candidates", tags=TAGS, operation_id="rankCoverCandidates", responses=READ)
@inject
async def rank_cover_candidates(
    actor: FromDishka[Principal],
    need_id: NeedPath,
    use_case: FromDishka[RankCandidates],
) -> CandidatesOut:
    """Admin: every teacher for one need. ``candidates`` may cover it, best first (ties by
    id), each with the score and the soft rules behind it (``reasons``: rule → points);
    ``unavailable`` are ruled out by a hard rule (absent, excluded, teaching, covering,
    offered elsewhere, a cap reached, declined), by id.
    """
    ranking = await run_in_thread(use_case, CoverNeedCommand(actor, CoverNeedId(need_id)))
    return CandidatesOut.of(need_id, ranking, ranking.names)


@post(f"{NEED}/offers", tags=TAGS, operation_id="offerCoverNeed", **CREATES)
@inject
async def offer_cover_need(
    actor: FromDishka[Principal],
    need_id: NeedPath,
    data: JSONBody[OfferNeedIn],
    use_case: FromDishka[OfferNeed],
) -> Response[CoverOfferOut]:
    """Admin: offer one open or escalated need to a teacher of your choice, outside any
    plan (for instance after every candidate declined). The hard rules still hold: 409
    ``teacher_unavailable`` names the rule that rules the teacher out; a teacher who
    declined before may be asked again. 409 ``need_offered``/``need_covered``/
    ``need_cancelled`` for a need not open, ``class_starts_too_soon`` once it has begun.
    """
    command = OfferNeedCommand(actor, CoverNeedId(need_id), FacultyId(data.faculty_id))
    offer = await run(use_case, command)
    return created(CoverOfferOut.of(offer), f"{COVER}/offers/{offer.id}")


# -- plans ------------------------------------------------------------------------------
@post(f"{COVER}/plans", tags=TAGS, operation_id="buildCoverPlan", **CREATES)
@inject
async def build_cover_plan(
    actor: FromDishka[Principal],
    data: JSONBody[CoverPlanIn],
    use_case: FromDishka[BuildCoverPlan],
) -> Response[CoverPlanOut]:
    """Admin: plan the open and escalated needs whose class has not started, from ``from``
    to ``to`` (local dates, both included, at most 31 days): the most needs covered and,
    among those, the best total score, under every hard rule; the same input gives the same
    plan. ``uncovered`` says why a need is left. The plan is a draft (older drafts over the
    same days are superseded) until it is published.
    """
    command = BuildCoverPlanCommand(actor, data.first_day, data.last_day)
    plan = await run_in_thread(use_case, command)
    return created(CoverPlanOut.of(plan), f"{COVER}/plans/{plan.id}")


@get(f"{COVER}/plans", tags=TAGS, operation_id="listCoverPlans", responses=READ)
@inject
async def list_cover_plans(
    actor: FromDishka[Principal],
    use_case: FromDishka[ListCoverPlans],
    status: Annotated[
        Literal["draft", "published", "superseded", "cancelled"] | None, QueryParameter()
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CoverPlanPageOut:
    """Admin: the institution's cover plans, newest first (filter: status)."""
    command = ListCoverPlansCommand(actor, limit=limit, offset=offset, status=status)
    page = await run(use_case, command)
    return CoverPlanPageOut(
        items=[CoverPlanOut.of(p) for p in page.items], total=page.total, limit=limit, offset=offset
    )


@get(
    PLAN,
    tags=TAGS,
    operation_id="getCoverPlan",
    response_headers=[VARY_ACCEPT],
    operation_class=with_alternative_media_type(
        XLSX_MEDIA_TYPE,
        "With `Accept: " + XLSX_MEDIA_TYPE + "`: an Excel workbook with the sheets "
        "Assignments (each planned cover with its class, substitute, score and reasons) and "
        "Uncovered (each need left, and why); start and end are the class's instants.",
    ),
    responses={
        200: ResponseSpec(CoverPlanOut, generate_examples=False, description="Cover plan"),
        **READ,
    },
)
@inject
async def get_cover_plan(
    request: Request[Any, Any, Any],
    actor: FromDishka[Principal],
    plan_id: PlanPath,
    use_case: FromDishka[GetCoverPlan],
    needs: FromDishka[ListCoverNeeds],
    workbooks: FromDishka[WorkbookWriter],
) -> CoverPlanOut | Response[bytes]:
    """Admin: one cover plan."""
    plan = await run(use_case, CoverPlanCommand(actor, CoverPlanId(plan_id)))
    if not wants_xlsx(request):
        return CoverPlanOut.of(plan)
    workbook = await run_in_thread(functools.partial(plan_workbook, workbooks, needs), actor, plan)
    dates = f"{plan.first_day.isoformat()}-to-{plan.last_day.isoformat()}"
    return attachment(workbook, xlsx_name(("cover-plan", dates, plan.status.value)))


@post(f"{PLAN}/publish", tags=TAGS, operation_id="publishCoverPlan", **acts(body=False))
@inject
async def publish_cover_plan(
    actor: FromDishka[Principal],
    plan_id: PlanPath,
    use_case: FromDishka[PublishCoverPlan],
) -> PublishOut:
    """Admin: publish a draft plan: each planned need is offered to its substitute, who is
    told. ``skipped`` are the planned needs that could not be offered (taken meanwhile, or
    the substitute is no longer free). 409 ``plan_published``, ``plan_superseded`` or
    ``plan_cancelled``.
    """
    result = await run(use_case, CoverPlanCommand(actor, CoverPlanId(plan_id)))
    return PublishOut.of(result)


@post(f"{PLAN}/cancel", tags=TAGS, operation_id="cancelCoverPlan", **acts(body=False))
@inject
async def cancel_cover_plan(
    actor: FromDishka[Principal],
    plan_id: PlanPath,
    use_case: FromDishka[CancelCoverPlan],
) -> CoverPlanOut:
    """Admin: discard a draft plan. 409 ``plan_<status>`` when it is no longer a draft."""
    plan = await run(use_case, CoverPlanCommand(actor, CoverPlanId(plan_id)))
    return CoverPlanOut.of(plan)


# -- offers -----------------------------------------------------------------------------
@get(f"{COVER}/offers", tags=TAGS, operation_id="listCoverOffers", responses=READ)
@inject
async def list_cover_offers(
    actor: FromDishka[Principal],
    use_case: FromDishka[ListCoverOffers],
    status: Annotated[
        Literal["offered", "accepted", "declined", "expired", "withdrawn"] | None,
        QueryParameter(),
    ] = None,
    substitute_id: Annotated[
        str | None,
        QueryParameter(name="substituteId", max_length=64, description="admins: one teacher's"),
    ] = None,
    need_id: Annotated[str | None, QueryParameter(name="needId", max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CoverOfferPageOut:
    """A teacher: the offers made to them (``substituteId`` is ignored); an admin: every
    offer. Newest first (filters: status, substitute, need).
    """
    command = ListCoverOffersCommand(
        actor,
        limit=limit,
        offset=offset,
        status=status,
        substitute_id=FacultyId(substitute_id) if substitute_id else None,
        need_id=CoverNeedId(need_id) if need_id else None,
    )
    page = await run(use_case, command)
    return CoverOfferPageOut(
        items=[CoverOfferOut.of(o) for o in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@get(OFFER, tags=TAGS, operation_id="getCoverOffer", responses=READ)
@inject
async def get_cover_offer(
    actor: FromDishka[Principal],
    offer_id: OfferPath,
    use_case: FromDishka[GetCoverOffer],
) -> CoverOfferOut:
    """The offered substitute or an admin: one offer (anybody else: 404)."""
    offer = await run(use_case, GetCoverOfferCommand(actor, CoverOfferId(offer_id)))
    return CoverOfferOut.of(offer)


@post(f"{OFFER}/accept", tags=TAGS, operation_id="acceptCoverOffer", **acts(body=False))
@inject
async def accept_cover_offer(
    actor: FromDishka[Principal],
    offer_id: OfferPath,
    use_case: FromDishka[AcceptCoverOffer],
) -> AnswerOut:
    """The offered substitute: accept. They become the class's teacher of record (they
    open attendance and mark it) and its students are told. 409 ``offer_expired``,
    ``offer_<status>`` once answered, ``substitute_double_booked`` when they took an
    overlapping class meanwhile, ``session_cancelled``/``session_completed``. An admin
    cannot answer for the substitute (403); another teacher does not find the offer (404).
    """
    result = await run(use_case, AnswerOfferCommand(actor, CoverOfferId(offer_id)))
    return AnswerOut.of(result)


@post(f"{OFFER}/decline", tags=TAGS, operation_id="declineCoverOffer", **acts())
@inject
async def decline_cover_offer(
    actor: FromDishka[Principal],
    offer_id: OfferPath,
    use_case: FromDishka[DeclineCoverOffer],
    data: JSONBody[DeclineIn | None] = None,
) -> AnswerOut:
    """The offered substitute: decline, optionally saying why (``reason``; the body may
    be left out). The need moves on to the next best candidate (``nextOffer``), or back to
    the admins when nobody is left (``nextOffer`` null). Same refusals as accepting.
    """
    reason = (data or DeclineIn()).reason
    result = await run(use_case, AnswerOfferCommand(actor, CoverOfferId(offer_id), reason))
    return AnswerOut.of(result)


@post(f"{OFFER}/cancel", tags=TAGS, operation_id="withdrawCoverOffer", **acts(body=False))
@inject
async def withdraw_cover_offer(
    actor: FromDishka[Principal],
    offer_id: OfferPath,
    use_case: FromDishka[WithdrawCoverOffer],
) -> AnswerOut:
    """Admin: withdraw an open offer (the substitute is told); the need is open for
    planning again. 409 ``offer_<status>`` once answered.
    """
    result = await run(use_case, AnswerOfferCommand(actor, CoverOfferId(offer_id)))
    return AnswerOut.of(result)


# -- analytics --------------------------------------------------------------------------
@get(
    f"{COVER}/analytics",
    tags=TAGS,
    operation_id="getCoverAnalytics",
    response_headers=[VARY_ACCEPT],
    operation_class=with_alternative_media_type(
        XLSX_MEDIA_TYPE,
        "With `Accept: " + XLSX_MEDIA_TYPE + "`: an Excel workbook with the sheets "
        "By day, By lead time, Load and Uncovered (fill rates as numbers).",
    ),
    responses={
        200: ResponseSpec(CoverAnalyticsOut, generate_examples=False, description="Analytics"),
        **problems(*SIGNED_IN, *INPUT, 403, 404),
    },
)
@inject
async def get_cover_analytics(
    request: Request[Any, Any, Any],
    actor: FromDishka[Principal],
    use_case: FromDishka[CoverAnalytics],
    workbooks: FromDishka[WorkbookWriter],
    start: Annotated[date, QueryParameter(name="from", description="first date")],
    end: Annotated[
        date,
        QueryParameter(
            name="to", description="last date: not before `from`, at most 372 days in all"
        ),
    ],
) -> CoverAnalyticsOut | Response[bytes]:
    """Admin: aggregate cover figures for the classes from ``from`` to ``to`` (local dates,
    both included): fill rate in all, by day and by lead time (how long before the class
    the need arose), the needs left uncovered, and how many covers each teacher held and
    how that load spreads. Cancelled needs are left out.
    """
    report = await run_in_thread(use_case, CoverAnalyticsCommand(actor, start, end))
    if not wants_xlsx(request):
        return CoverAnalyticsOut.of(report)
    workbook = await run_in_thread(functools.partial(analytics_workbook, workbooks), report)
    dates = f"{report.first_day.isoformat()}-to-{report.last_day.isoformat()}"
    return attachment(workbook, xlsx_name(("cover-analytics", dates)))


# -- substitute preferences -------------------------------------------------------------
PREFERENCE_DOCS = ResourceDocs(
    list=(
        "Admin: the preferred and excluded substitutes, by id (filters: substitute, kind,\n"
        "teacher, section, subject)."
    ),
    create=(
        "Admin: prefer a substitute for (more points), or exclude them from (never offered),\n"
        "the classes of exactly one of: a teacher (``facultyId``), a section or a subject.\n"
        "Excluded wins when both apply."
    ),
    get="Admin: one substitute preference.",
    update=(
        "Admin: change a preference (``null`` clears a scope; exactly one of ``facultyId``,\n"
        "``sectionId`` and ``subjectCode`` must stay set)."
    ),
    delete="Admin: delete a substitute preference.",
)

PreferenceController = resource_controller(
    Resource(
        path=f"{COVER}/preferences",
        tags=TAGS,
        doc="Preferred and excluded substitutes.",
        singular="SubstitutePreference",
        plural="SubstitutePreferences",
        key="preference_id",
        key_description="substitute preference id",
        key_type=PreferenceId,
        entity_key=lambda preference: preference.id,
        catalogue=SubstitutePreferenceCatalogue,
        out=PreferenceOut,
        page_out=PreferencePageOut,
        body=PreferenceIn,
        patch_body=PreferencePatch,
        filters=(
            ListFilter(
                "substitute_id",
                Annotated[str | None, QueryParameter(name="substituteId", max_length=64)],
            ),
            ListFilter(
                "kind",
                Annotated[Literal["preferred", "excluded"] | None, QueryParameter()],
                convert=PreferenceKind,
            ),
            ListFilter(
                "faculty_id", Annotated[str | None, QueryParameter(name="facultyId", max_length=64)]
            ),
            ListFilter(
                "section_id", Annotated[str | None, QueryParameter(name="sectionId", max_length=64)]
            ),
            ListFilter(
                "subject_code",
                Annotated[str | None, QueryParameter(name="subjectCode", max_length=64)],
            ),
        ),
        docs=PREFERENCE_DOCS,
    )
)

ROUTES = [
    list_cover_needs,
    get_cover_need,
    cancel_cover_need,
    rank_cover_candidates,
    offer_cover_need,
    build_cover_plan,
    list_cover_plans,
    get_cover_plan,
    publish_cover_plan,
    cancel_cover_plan,
    list_cover_offers,
    get_cover_offer,
    accept_cover_offer,
    decline_cover_offer,
    withdraw_cover_offer,
    get_cover_analytics,
    PreferenceController,
]
