"""Suspicious events recorded for an administrator to review."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ams_core.domain.ids import DeviceId, InstitutionId, SessionId, StudentId


class SecurityEventKind(enum.Enum):
    """What looked suspicious."""

    SECOND_DEVICE = "second_device"
    DEVICE_SHARED = "device_shared"
    WRONG_CODE = "wrong_code"
    CHECK_IN_LOCKED = "check_in_locked"
    SECRET_ROTATED = "secret_rotated"  # noqa: S105 - an event name, not a secret
    OFF_CAMPUS = "off_campus"
    DEVICE_RESET = "device_reset"
    ACCOUNT_LOCKED = "account_locked"


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """A recorded event; never holds a code, a secret or a token."""

    institution_id: InstitutionId
    kind: SecurityEventKind
    at: datetime
    actor: str
    student_id: StudentId | None = None
    session_id: SessionId | None = None
    device_id: DeviceId | None = None
    client_ip: str | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
