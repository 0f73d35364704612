"""Push tokens and class-representative broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from ams_core.ports import SentNotification
from ams_http.schemas.base import CamelBody, CamelStruct

PushTokenText = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class PushTokenBody(CamelBody):
    token: PushTokenText
    platform: Literal["android", "ios", "web"]


class PushTokenOut(CamelStruct):
    platform: str
    registered_at: datetime


class BroadcastBody(CamelBody):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class BroadcastOut(CamelStruct):
    id: str
    recipients: int


class SentBroadcastOut(CamelStruct):
    id: str
    title: str
    body: str
    sender_id: str | None
    sender_name: str | None
    recipients: int
    created_at: datetime
    delivered_at: datetime | None
    delivered: int
    failed: int

    @classmethod
    def of(cls, sent: SentNotification) -> SentBroadcastOut:
        n = sent.notification
        audience = n.data.get("audience", "0")
        return cls(
            id=n.id,
            title=n.title,
            body=n.body,
            sender_id=n.data.get("sender"),
            sender_name=n.data.get("senderName"),
            recipients=int(audience) if audience.isdigit() else 0,
            created_at=n.created_at,
            delivered_at=sent.delivered_at,
            delivered=sent.delivered,
            failed=sent.failed,
        )


class BroadcastHistoryOut(CamelStruct):
    items: list[SentBroadcastOut]
