"""Push registrations, broadcasts and device resets."""

from __future__ import annotations

from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from ams_core.domain import Principal, StudentId
from ams_core.use_cases import (
    Broadcast,
    BroadcastCommand,
    ListBroadcasts,
    ListBroadcastsCommand,
    RegisterPushToken,
    RegisterPushTokenCommand,
    ResetDeviceBinding,
    ResetDeviceBindingCommand,
)
from ams_http.controllers._params import acts
from ams_http.controllers._run import run
from ams_http.openapi import INPUT, SIGNED_IN, problems
from ams_http.schemas.base import CamelStruct
from ams_http.schemas.messaging import (
    BroadcastBody,
    BroadcastHistoryOut,
    BroadcastOut,
    PushTokenBody,
    PushTokenOut,
    SentBroadcastOut,
)


class DeviceResetOut(CamelStruct):
    student_id: str
    removed: bool


@post(
    "/api/v1/me/push-tokens",
    tags=["me"],
    operation_id="registerPushToken",
    **acts(HTTP_201_CREATED),
)
@inject
async def register_push_token(
    actor: FromDishka[Principal],
    data: JSONBody[PushTokenBody],
    use_case: FromDishka[RegisterPushToken],
) -> PushTokenOut:
    """Anyone signed in: register this device's push token."""
    command = RegisterPushTokenCommand(actor, data.token, data.platform)
    stored = await run(use_case, command)
    return PushTokenOut(platform=stored.platform.value, registered_at=stored.registered_at)


@post(
    "/api/v1/notifications",
    tags=["notifications"],
    operation_id="broadcast",
    **acts(HTTP_201_CREATED),
)
@inject
async def broadcast(
    actor: FromDishka[Principal], data: JSONBody[BroadcastBody], use_case: FromDishka[Broadcast]
) -> BroadcastOut:
    """Class representative: send a push notification to their own section."""
    result = await run(use_case, BroadcastCommand(actor, data.title, data.body))
    return BroadcastOut(id=result.notification.id, recipients=result.recipients)


@get(
    "/api/v1/notifications",
    tags=["notifications"],
    operation_id="listBroadcasts",
    responses=problems(*SIGNED_IN, *INPUT, 403, 404),
)
@inject
async def list_broadcasts(
    actor: FromDishka[Principal],
    use_case: FromDishka[ListBroadcasts],
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> BroadcastHistoryOut:
    """Class representative: the section's broadcasts, newest first, with delivery counts."""
    sent = await run(use_case, ListBroadcastsCommand(actor, limit))
    return BroadcastHistoryOut(items=[SentBroadcastOut.of(item) for item in sent])


@post(
    "/api/v1/students/{student_id:str}/device-reset",
    tags=["people"],
    operation_id="resetDevice",
    **acts(body=False),
)
@inject
async def reset_device(
    actor: FromDishka[Principal],
    student_id: Annotated[str, PathParameter(max_length=64)],
    use_case: FromDishka[ResetDeviceBinding],
) -> DeviceResetOut:
    """Admin: free a student's device binding; their sessions end, next sign-in binds anew."""
    result = await run(use_case, ResetDeviceBindingCommand(actor, StudentId(student_id)))
    return DeviceResetOut(student_id=result.student_id, removed=result.removed)


ROUTES = [register_push_token, broadcast, list_broadcasts, reset_device]
