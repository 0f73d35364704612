"""Turning a notification into FCM messages."""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from firebase_admin import messaging  # type: ignore[import-untyped]

from ams_core.domain import Notification

#: FCM refuses messages whose payload (notification and data) is larger than this.
MAX_PAYLOAD_BYTES = 4096

#: Data keys FCM reserves; a message using one is rejected.
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
RESERVED_DATA_PREFIXES = ("google", "gcm")

# ``warnings.catch_warnings`` swaps a process-wide filter list; serialise our own uses.
_WARNINGS_LOCK = threading.Lock()


def collapse_id(idempotency_key: str) -> str:
    """A short, stable stand-in for the key (APNs collapse ids are at most 64 bytes)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Payload:
    """What every device gets for one notification."""

    title: str
    body: str
    data: Mapping[str, str]
    collapse_id: str

    @classmethod
    def of(cls, notification: Notification) -> Payload:
        """The payload of ``notification``: its ``data`` plus ``event_id`` and ``kind``."""
        data = {
            **notification.data,
            "event_id": notification.idempotency_key,
            "kind": notification.kind,
        }
        return cls(
            title=notification.title,
            body=notification.body,
            data=data,
            collapse_id=collapse_id(notification.idempotency_key),
        )

    def size(self) -> int:
        """Bytes of the payload FCM counts against its limit (notification and data)."""
        document: dict[str, Any] = {
            "notification": {"title": self.title, "body": self.body},
            "data": dict(self.data),
        }
        encoded = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return len(encoded.encode())

    def problem(self) -> str | None:
        """Why FCM would refuse this payload for any device, or ``None``."""
        size = self.size()
        if size > MAX_PAYLOAD_BYTES:
            return f"the payload is {size} bytes, over FCM's limit of {MAX_PAYLOAD_BYTES}"
        reserved = sorted(
            key
            for key in self.data
            if key in RESERVED_DATA_KEYS or key.lower().startswith(RESERVED_DATA_PREFIXES)
        )
        if reserved:
            return f"the data uses keys FCM reserves: {', '.join(reserved)}"
        return None

    def messages(self, tokens: Sequence[str]) -> list[Any]:
        """One ``messaging.Message`` per token."""
        notification = messaging.Notification(title=self.title, body=self.body)
        data = dict(self.data)
        # Not ``collapse_key``: FCM keeps at most four per device, and ours are all different.
        android = messaging.AndroidConfig(
            notification=messaging.AndroidNotification(tag=self.collapse_id)
        )
        apns = messaging.APNSConfig(headers={"apns-collapse-id": self.collapse_id})
        webpush = messaging.WebpushConfig(
            notification=messaging.WebpushNotification(tag=self.collapse_id)
        )
        # firebase-admin 7.x deprecates ``Message(token=...)`` in favour of Firebase
        # installation ids (``fid``). Our devices register FCM registration tokens
        # (``getToken()``), which are not installation ids, and Google warns against mixing
        # the two APIs, so we keep addressing tokens and silence just that warning, just
        # around these constructors (firebase-admin does the same when it expands a
        # MulticastMessage). Moving to fids means the apps registering fids first.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"Message\.token is deprecated", category=DeprecationWarning
            )
            return [
                messaging.Message(
                    token=token,
                    notification=notification,
                    data=data,
                    android=android,
                    apns=apns,
                    webpush=webpush,
                )
                for token in tokens
            ]
