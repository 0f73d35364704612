"""What FCM's answer for one device means for us."""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from firebase_admin import exceptions, messaging  # type: ignore[import-untyped]

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
TOKEN_FIELDS = frozenset({"message.token", "token"})


class Outcome(enum.Enum):
    """How one device's send ended."""

    DELIVERED = "delivered"
    DEAD = "dead"  # unregistered or invalid: delete the token
    BAD_PAYLOAD = "bad payload"  # FCM refused our message: a bug on our side
    THIRD_PARTY_AUTH = "third-party auth"  # APNs / web push credentials are wrong
    TRANSIENT = "transient"  # worth retrying: quota, outage, transport
    FAILED = "failed"  # anything else: give up on this device for now, keep the token


_TRANSIENT_ERRORS = (
    exceptions.ResourceExhaustedError,  # includes messaging.QuotaExceededError
    exceptions.UnavailableError,  # 503, and connection errors
    exceptions.InternalError,
    exceptions.DeadlineExceededError,  # timeouts
    exceptions.UnknownError,  # other transport errors and unexpected statuses (502)
)


def outcome_of(response: Any) -> Outcome:
    """Classify one ``messaging.SendResponse``."""
    if response.success:
        return Outcome.DELIVERED
    return outcome_of_error(response.exception)


def outcome_of_error(error: BaseException | None) -> Outcome:
    """Classify the error FCM (or the transport) answered for one device."""
    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return Outcome.DEAD
    if isinstance(error, messaging.ThirdPartyAuthError):
        return Outcome.THIRD_PARTY_AUTH
    if isinstance(error, exceptions.InvalidArgumentError):
        return _invalid_argument(_error_details(error))
    if isinstance(error, _TRANSIENT_ERRORS):
        return Outcome.TRANSIENT
    return Outcome.FAILED


def _invalid_argument(details: list[dict[str, Any]]) -> Outcome:
    bad_request = [detail for detail in details if detail.get("@type") == BAD_REQUEST]
    if bad_request:
        fields = {
            violation.get("field")
            for detail in bad_request
            for violation in detail.get("fieldViolations") or ()
            if isinstance(violation, dict)
        }
        return Outcome.DEAD if fields & TOKEN_FIELDS else Outcome.BAD_PAYLOAD
    for detail in details:
        if detail.get("@type") == FCM_ERROR and detail.get("errorCode") == "INVALID_ARGUMENT":
            return Outcome.DEAD  # "The registration token is not a valid FCM token"
    return Outcome.FAILED


def _error_details(error: Any) -> list[dict[str, Any]]:
    """The ``error.details`` of the HTTP response of a FirebaseError, or ``[]``."""
    body = _json_body(getattr(error, "http_response", None))
    inner = body.get("error") if isinstance(body, dict) else None
    details = inner.get("details") if isinstance(inner, dict) else None
    if not isinstance(details, list):
        return []
    return [detail for detail in details if isinstance(detail, dict)]


def _json_body(response: Any) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def retry_after_seconds(error: Any, *, now: datetime | None = None) -> float | None:
    """The delay a ``Retry-After`` header on the error's HTTP response asks for, if any."""
    response = getattr(error, "http_response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            at = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        seconds = (at - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
