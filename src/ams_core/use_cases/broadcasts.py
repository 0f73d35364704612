"""Push registrations and class-representative broadcasts (PRODUCT.md §2.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ams_core.domain.accounts import PushPlatform, PushToken
from ams_core.domain.errors import (
    FieldProblem,
    PermissionDeniedError,
    TooManyAttemptsError,
    ValidationError,
)
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import NotificationId
from ams_core.domain.notifications import Notification, Recipient, RecipientKind
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import SentNotification, UnitOfWork
from ams_core.use_cases._access import require_student, tenant_of

BROADCAST_KIND = "broadcast"
MAX_PUSH_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class RegisterPushTokenCommand:
    """A signed-in person registers their device's push token."""

    actor: Principal
    token: str
    platform: str


class RegisterPushToken:
    """Remember a push token for the actor; a token registered again moves to them."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: RegisterPushTokenCommand) -> PushToken:
        """Store the registration and return it.

        Raises:
            ValidationError: empty or over-long token, unknown platform.
            PermissionDeniedError: the actor is not a member of an institution.
        """
        institution_id = tenant_of(command.actor)
        problems = []
        token = command.token.strip()
        if not 0 < len(token) <= MAX_PUSH_TOKEN_LENGTH:
            problems.append(
                FieldProblem("token", f"must be 1 to {MAX_PUSH_TOKEN_LENGTH} characters")
            )
        platform = next((p for p in PushPlatform if p.value == command.platform), None)
        if platform is None:
            allowed = ", ".join(p.value for p in PushPlatform)
            problems.append(FieldProblem("platform", f"must be one of {allowed}"))
        if problems or platform is None:
            raise ValidationError(problems)
        registration = PushToken(
            institution_id=institution_id,
            token=token,
            platform=platform,
            owner_email=command.actor.email,
            registered_at=self._clock.now(),
            student_id=command.actor.student_id,
            faculty_id=command.actor.faculty_id,
        )
        with self._uow.for_institution(institution_id) as uow:
            uow.push_tokens.put(registration)
            uow.commit()
        return registration


@dataclass(frozen=True, slots=True)
class BroadcastLimits:
    """How long a broadcast may be and how many a representative may send per hour."""

    max_title: int = 100
    max_body: int = 2000
    per_hour: int = 10


@dataclass(frozen=True, slots=True)
class BroadcastCommand:
    """A class representative sends a message to their own section."""

    actor: Principal
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    """The queued notification and how many students it addresses."""

    notification: Notification
    recipients: int


def _require_representative(actor: Principal) -> None:
    require_student(actor)
    if not actor.has(Role.CLASS_REPRESENTATIVE):
        raise PermissionDeniedError("only a class representative may broadcast")


class Broadcast:
    """Queue a push notification to the representative's section (delivered by a worker)."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        random: RandomSource,
        limits: BroadcastLimits | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random
        self._limits = limits or BroadcastLimits()

    def __call__(self, command: BroadcastCommand) -> BroadcastResult:
        """Write the broadcast to the outbox.

        Raises:
            PermissionDeniedError: the actor is not a class representative.
            ValidationError: empty or over-long title or body.
            TooManyAttemptsError: ``broadcast_limit`` when the hourly limit is reached.
        """
        _require_representative(command.actor)
        title, body = command.title.strip(), command.body.strip()
        problems = [
            FieldProblem(name, f"must be 1 to {limit} characters")
            for name, value, limit in (
                ("title", title, self._limits.max_title),
                ("body", body, self._limits.max_body),
            )
            if not 0 < len(value) <= limit
        ]
        if problems:
            raise ValidationError(problems)
        now = self._clock.now()
        institution_id = tenant_of(command.actor)
        with self._uow.for_institution(institution_id) as uow:
            student = uow.students.get(require_student(command.actor))
            section = Recipient(RecipientKind.SECTION, student.section_id)
            recent = [
                sent
                for sent in uow.outbox.history(BROADCAST_KIND, section, self._limits.per_hour)
                if sent.notification.created_at > now - timedelta(hours=1)
            ]
            if len(recent) >= self._limits.per_hour:
                oldest = min(sent.notification.created_at for sent in recent)
                wait = oldest + timedelta(hours=1) - now
                raise TooManyAttemptsError(
                    f"at most {self._limits.per_hour} broadcasts an hour",
                    retry_after_seconds=max(1, int(wait.total_seconds())),
                    code="broadcast_limit",
                )
            audience = len(uow.students.ids_in_section(student.section_id))
            notification_id = NotificationId(self._random.new_id())
            notification = Notification(
                id=notification_id,
                institution_id=institution_id,
                kind=BROADCAST_KIND,
                title=title,
                body=body,
                recipients=(section,),
                idempotency_key=f"{BROADCAST_KIND}:{notification_id}",
                created_at=now,
                data={"sender": student.id, "senderName": student.name, "audience": str(audience)},
            )
            uow.outbox.add(notification)
            uow.commit()
        return BroadcastResult(notification, audience)


@dataclass(frozen=True, slots=True)
class ListBroadcastsCommand:
    """A class representative looks at their section's broadcast history."""

    actor: Principal
    limit: int = 50


class ListBroadcasts:
    """The section's broadcasts, newest first, with delivery counts."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: ListBroadcastsCommand) -> list[SentNotification]:
        """Return the history.

        Raises:
            PermissionDeniedError: the actor is not a class representative.
        """
        _require_representative(command.actor)
        limit = max(1, min(command.limit, 200))
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            student = uow.students.get(require_student(command.actor))
            section = Recipient(RecipientKind.SECTION, student.section_id)
            return list(uow.outbox.history(BROADCAST_KIND, section, limit))
