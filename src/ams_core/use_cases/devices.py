"""Device binding: one phone per student, one student per phone."""

from __future__ import annotations

from dataclasses import dataclass

from ams_core.domain.errors import PermissionDeniedError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import DeviceId, StudentId
from ams_core.domain.people import DeviceBinding, validate_device_id
from ams_core.domain.security import SecurityEvent, SecurityEventKind
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, require_student, tenant_of


@dataclass(frozen=True, slots=True)
class BindDeviceCommand:
    """A student signs in from a device (the first sign-in binds it)."""

    actor: Principal
    device_id: str
    client_ip: str | None = None


@dataclass(frozen=True, slots=True)
class BindDeviceResult:
    """The bound device; ``newly_bound`` on the first sign-in."""

    device_id: DeviceId
    newly_bound: bool


class BindDevice:
    """Bind a student's device on first sign-in; refuse a second device or a shared one.

    Refusals are recorded as security events for an admin to review.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: BindDeviceCommand) -> BindDeviceResult:
        """Bind, or confirm the existing binding.

        Raises:
            PermissionDeniedError: ``device_mismatch`` (the student has another device) or
                ``device_in_use`` (the device belongs to another student).
            ValidationError: the device id is malformed.
        """
        student_id = require_student(command.actor)
        device_id = validate_device_id(command.device_id)
        now = self._clock.now()
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            student = uow.students.get(student_id)
            own = uow.devices.for_student(student.id)
            if own is not None and own.device_id == device_id:
                return BindDeviceResult(device_id, newly_bound=False)
            holder = uow.devices.for_device(device_id)
            if own is not None or holder is not None:
                kind = (
                    SecurityEventKind.SECOND_DEVICE
                    if own is not None
                    else SecurityEventKind.DEVICE_SHARED
                )
                uow.security_events.add(
                    SecurityEvent(
                        institution_id=student.institution_id,
                        kind=kind,
                        at=now,
                        actor=command.actor.email,
                        student_id=student.id,
                        device_id=device_id,
                        client_ip=command.client_ip,
                    )
                )
                uow.commit()
                if own is not None:
                    raise PermissionDeniedError(
                        "your account is bound to another device; ask an admin to reset it",
                        code="device_mismatch",
                    )
                raise PermissionDeniedError(
                    "this device is bound to another student", code="device_in_use"
                )
            uow.devices.add(DeviceBinding(student.institution_id, student.id, device_id, now))
            uow.commit()
        return BindDeviceResult(device_id, newly_bound=True)


@dataclass(frozen=True, slots=True)
class ResetDeviceBindingCommand:
    """An admin frees a student's device binding (lost or replaced phone)."""

    actor: Principal
    student_id: StudentId


@dataclass(frozen=True, slots=True)
class ResetDeviceBindingResult:
    """Whether a binding existed and was removed."""

    student_id: StudentId
    removed: bool


class ResetDeviceBinding:
    """Remove a student's binding and end their sessions; the next sign-in binds anew."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: ResetDeviceBindingCommand) -> ResetDeviceBindingResult:
        """Reset, recording who did it.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            NotFoundError: no such student in the admin's institution.
        """
        require_admin(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            student = uow.students.get(command.student_id)
            previous = uow.devices.for_student(student.id)
            removed = uow.devices.remove(student.id)
            uow.sign_ins.revoke_all(student.email, now)
            uow.security_events.add(
                SecurityEvent(
                    institution_id=student.institution_id,
                    kind=SecurityEventKind.DEVICE_RESET,
                    at=now,
                    actor=command.actor.email,
                    student_id=student.id,
                    device_id=previous.device_id if previous is not None else None,
                )
            )
            uow.commit()
        return ResetDeviceBindingResult(student.id, removed)
