"""BindDevice and ResetDeviceBinding: one phone per student, one student per phone
(PRODUCT.md §2.4, "Device binding").
"""

from __future__ import annotations

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    DeviceBinding,
    DeviceId,
    NotFoundError,
    PermissionDeniedError,
    Principal,
    SecurityEventKind,
    StudentId,
    ValidationError,
)
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.use_cases import (
    BindDeviceCommand,
    BindDeviceResult,
    ResetDeviceBindingCommand,
    ResetDeviceBindingResult,
)
from tests.conftest import CLASS_START
from tests.core.use_cases.helpers import App

PHONE = "android-7f3a9c21"
NEW_PHONE = "android-0b44e1d9"


@pytest.fixture
def app(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    random_source: SeededRandomSource,
    college: SmallCollege,
) -> App:
    return App(uow, clock, random_source, college)


@pytest.fixture
def student(college: SmallCollege) -> Principal:
    return college.as_student(0)


def binding_of(app: App, student_id: StudentId) -> DeviceBinding | None:
    with app.uow.for_institution(app.college.id) as uow:
        return uow.devices.for_student(student_id)


def bind(app: App, student: Principal, device: str, ip: str | None = None) -> BindDeviceResult:
    return app.bind_device(BindDeviceCommand(student, device, client_ip=ip))


def test_the_first_sign_in_binds_the_device(app: App, student: Principal) -> None:
    result = bind(app, student, PHONE)

    assert result == BindDeviceResult(DeviceId(PHONE), newly_bound=True)
    assert student.student_id is not None
    assert binding_of(app, student.student_id) == DeviceBinding(
        app.college.id, student.student_id, DeviceId(PHONE), CLASS_START
    )
    assert app.events() == []


def test_signing_in_again_from_the_same_device_changes_nothing(
    app: App, student: Principal
) -> None:
    bind(app, student, PHONE)
    app.clock.advance(days=3)

    result = bind(app, student, PHONE)

    assert result == BindDeviceResult(DeviceId(PHONE), newly_bound=False)
    assert student.student_id is not None
    binding = binding_of(app, student.student_id)
    assert binding is not None
    assert binding.bound_at == CLASS_START
    assert app.events() == []


def test_a_second_device_is_refused_and_recorded(app: App, student: Principal) -> None:
    bind(app, student, PHONE)

    with pytest.raises(PermissionDeniedError) as error:
        bind(app, student, NEW_PHONE, ip="10.0.0.7")

    assert error.value.code == "device_mismatch"
    assert student.student_id is not None
    binding = binding_of(app, student.student_id)
    assert binding is not None
    assert binding.device_id == PHONE
    [event] = app.events()
    assert event.kind is SecurityEventKind.SECOND_DEVICE
    assert (event.student_id, event.device_id, event.client_ip) == (
        student.student_id,
        NEW_PHONE,
        "10.0.0.7",
    )
    assert event.actor == student.email


def test_a_device_bound_to_another_student_is_refused_and_recorded(
    app: App, student: Principal
) -> None:
    bind(app, student, PHONE)
    friend = app.college.as_student(1)

    with pytest.raises(PermissionDeniedError) as error:
        bind(app, friend, PHONE)

    assert error.value.code == "device_in_use"
    assert friend.student_id is not None
    assert binding_of(app, friend.student_id) is None
    [event] = app.events()
    assert event.kind is SecurityEventKind.DEVICE_SHARED
    assert (event.student_id, event.device_id) == (friend.student_id, PHONE)


@pytest.mark.parametrize("device_id", ["", "short", "has a space in it", "tab\tinside1", "x" * 201])
def test_a_malformed_device_id_is_refused(app: App, student: Principal, device_id: str) -> None:
    with pytest.raises(ValidationError) as error:
        bind(app, student, device_id)

    assert [p.field for p in error.value.problems] == ["device_id"]
    assert student.student_id is not None
    assert binding_of(app, student.student_id) is None


@pytest.mark.parametrize("who", ["teacher", "admin"])
def test_only_a_student_binds_a_device(app: App, who: str) -> None:
    actor = app.college.as_alice() if who == "teacher" else app.college.admin

    with pytest.raises(PermissionDeniedError):
        bind(app, actor, PHONE)


def test_an_admin_reset_frees_the_student_to_bind_a_new_device(
    app: App, student: Principal
) -> None:
    bind(app, student, PHONE)
    assert student.student_id is not None
    app.clock.advance(hours=1)

    result = app.reset_device(ResetDeviceBindingCommand(app.college.admin, student.student_id))

    assert result == ResetDeviceBindingResult(student.student_id, removed=True)
    assert binding_of(app, student.student_id) is None
    [event] = app.events()
    assert event.kind is SecurityEventKind.DEVICE_RESET
    assert (event.student_id, event.device_id, event.actor) == (
        student.student_id,
        PHONE,
        app.college.admin.email,
    )
    assert bind(app, student, NEW_PHONE).newly_bound is True
    # The old phone is free again too.
    assert bind(app, app.college.as_student(1), PHONE).newly_bound is True


def test_resetting_a_student_without_a_device_reports_nothing_removed(
    app: App, student: Principal
) -> None:
    assert student.student_id is not None

    result = app.reset_device(ResetDeviceBindingCommand(app.college.admin, student.student_id))

    assert result.removed is False
    [event] = app.events()
    assert (event.kind, event.device_id) == (SecurityEventKind.DEVICE_RESET, None)


@pytest.mark.parametrize("who", ["teacher", "student"])
def test_only_an_admin_may_reset_a_device(app: App, student: Principal, who: str) -> None:
    bind(app, student, PHONE)
    actor = app.college.as_alice() if who == "teacher" else student
    assert student.student_id is not None

    with pytest.raises(PermissionDeniedError):
        app.reset_device(ResetDeviceBindingCommand(actor, student.student_id))

    assert binding_of(app, student.student_id) is not None
    assert [e.kind for e in app.events()] == []


def test_resetting_an_unknown_student_is_not_found(app: App) -> None:
    with pytest.raises(NotFoundError):
        app.reset_device(ResetDeviceBindingCommand(app.college.admin, StudentId("N200000")))

    assert app.events() == []


def test_an_admin_cannot_reset_a_student_of_another_institution(
    app: App, uow: InMemoryUnitOfWork, student: Principal
) -> None:
    bind(app, student, PHONE)
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    same_id = other.students[0]
    assert same_id.id == student.student_id

    with pytest.raises(NotFoundError):
        app.reset_device(ResetDeviceBindingCommand(other.admin, StudentId("N210099")))
    # Student ids repeat across institutions: B's admin resets B's student, never A's.
    app.reset_device(ResetDeviceBindingCommand(other.admin, same_id.id))

    assert student.student_id is not None
    assert binding_of(app, student.student_id) is not None
    assert app.events() == []
    assert [e.kind for e in app.events(other.id)] == [SecurityEventKind.DEVICE_RESET]
