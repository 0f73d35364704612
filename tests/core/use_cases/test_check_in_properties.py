"""Properties of student check-in (PRODUCT.md §2.4), over the memory adapter.

Every example builds its own store: Hypothesis does not reset function-scoped fixtures
between examples, so no state lives in fixtures here.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain.attendance import AttendanceMark, AttendanceStatus, MarkSource
from ams_core.domain.calendar import DateRange
from ams_core.domain.errors import (
    CheckInRefusal,
    CheckInRefusedError,
    ConflictError,
    PermissionDeniedError,
)
from ams_core.domain.ids import SessionId
from ams_core.domain.people import Student
from ams_core.domain.sessions import AttendanceWindow, ClassSession
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college, student_principal
from ams_core.use_cases import (
    BindDevice,
    BindDeviceCommand,
    CheckIn,
    CheckInCommand,
    CheckInResult,
    GenerateWeek,
    GenerateWeekCommand,
    GetSchedule,
    GetScheduleCommand,
    OpenAttendance,
    OpenAttendanceCommand,
    OpenAttendanceResult,
    ResetDeviceBinding,
    ResetDeviceBindingCommand,
)
from tests.conftest import CLASS_START

WINDOW = timedelta(minutes=10)  # default check-in window
ROTATION = timedelta(seconds=30)  # default code rotation
LATE_FROM = CLASS_START + timedelta(minutes=10)  # default late_after
EARLIEST_OPEN = CLASS_START - timedelta(minutes=15)  # default open_early
CLASS_END = CLASS_START + timedelta(hours=1)
LOCK_AFTER = 5  # default max_wrong_codes_per_student


# -- a fresh world per example ----------------------------------------------------------------


@dataclass
class World:
    """A seeded college, its week generated, and alice's Monday CS101 class for section A."""

    uow: InMemoryUnitOfWork
    clock: FixedClock
    random: SeededRandomSource
    college: SmallCollege
    session_id: SessionId = field(init=False)

    def __post_init__(self) -> None:
        GenerateWeek(self.uow, self.random)(
            GenerateWeekCommand.for_week(self.college.admin, "2026-W47")
        )
        schedule = GetSchedule(self.uow)(
            GetScheduleCommand(self.college.as_alice(), DateRange(MONDAY, MONDAY))
        )
        (entry,) = schedule.entries
        assert entry.section_id == self.college.section_a.id
        assert entry.starts_at == CLASS_START
        self.session_id = entry.session_id

    def at(self, instant: datetime) -> None:
        self.clock.set(instant)

    def bind(self, student: Student, device: str) -> None:
        BindDevice(self.uow, self.clock)(BindDeviceCommand(student_principal(student), device))

    def open(self) -> OpenAttendanceResult:
        return OpenAttendance(self.uow, self.clock, self.random)(
            OpenAttendanceCommand(self.college.as_alice(), self.session_id)
        )

    def check_in(self, student: Student, code: str, device: str) -> CheckInResult:
        return CheckIn(self.uow, self.clock, self.random)(
            CheckInCommand(student_principal(student), self.session_id, code, device)
        )

    def session(self) -> ClassSession:
        with self.uow.for_institution(self.college.id):
            return self.uow.sessions.get(self.session_id)

    def window(self) -> AttendanceWindow:
        window = self.session().window
        assert window is not None
        return window

    def valid_codes(self, instant: datetime) -> set[str]:
        """The codes accepted at ``instant``: the one on screen and the one before it."""
        window = self.window()
        return {window.code_at(instant), window.code_at(instant - ROTATION)}

    def marks(self) -> list[AttendanceMark]:
        with self.uow.for_institution(self.college.id):
            return list(self.uow.marks.list_for_session(self.session_id))


def new_world(seed: int) -> World:
    uow = InMemoryUnitOfWork()
    college = seed_small_college(uow)
    return World(uow, FixedClock(CLASS_START), SeededRandomSource(seed), college)


def refusal(world: World, student: Student, code: str, device: str) -> CheckInRefusedError:
    with pytest.raises(CheckInRefusedError) as raised:
        world.check_in(student, code, device)
    return raised.value


# -- strategies ---------------------------------------------------------------------------------


seeds = st.integers(min_value=0, max_value=2**32)
devices = st.text(alphabet=string.ascii_letters + string.digits + "-_.:", min_size=8, max_size=40)
student_indexes = st.integers(min_value=0, max_value=4)
six_digits = st.from_regex(r"[0-9]{6}", fullmatch=True)


def microseconds(low: timedelta, high: timedelta) -> st.SearchStrategy[timedelta]:
    """Durations in ``[low, high)``, to the microsecond."""
    return st.integers(
        min_value=low // timedelta(microseconds=1),
        max_value=high // timedelta(microseconds=1) - 1,
    ).map(lambda us: timedelta(microseconds=us))


#: When the teacher opens attendance: from 15 minutes before the start until the end.
open_times = microseconds(EARLIEST_OPEN - CLASS_START, CLASS_END - CLASS_START).map(
    lambda offset: CLASS_START + offset
)
#: How long after opening a check-in arrives, while the window is open.
inside_window = microseconds(timedelta(0), WINDOW)


@dataclass(frozen=True)
class Scene:
    """A student with a bound device, attendance open, and a moment inside the window."""

    seed: int
    student_index: int
    device: str
    opened_at: datetime
    check_in_after: timedelta
    previous_code: bool


scenes = st.builds(
    Scene,
    seed=seeds,
    student_index=student_indexes,
    device=devices,
    opened_at=open_times,
    check_in_after=inside_window,
    previous_code=st.booleans(),
)


def set_scene(scene: Scene) -> tuple[World, Student, str]:
    """Build the world of ``scene`` and return it, the student and the right code."""
    world = new_world(scene.seed)
    student = world.college.students[scene.student_index]
    world.bind(student, scene.device)
    world.at(scene.opened_at)
    opened = world.open()
    assert opened.window_opened_at == scene.opened_at
    now = scene.opened_at + scene.check_in_after
    world.at(now)
    use_previous = scene.previous_code and scene.check_in_after >= ROTATION
    code = world.window().code_at(now - ROTATION if use_previous else now)
    return world, student, code


# -- success, exactly once ------------------------------------------------------------------


@given(scene=scenes, later=microseconds(timedelta(0), timedelta(hours=3)))
def test_the_right_device_section_time_and_code_check_in_exactly_once(
    scene: Scene, later: timedelta
) -> None:
    world, student, code = set_scene(scene)
    now = world.clock.now()

    first = world.check_in(student, code, scene.device)
    world.at(now + later)  # even after the window closed, a repeat changes nothing
    again = world.check_in(student, code, scene.device)

    expected = AttendanceStatus.LATE if now > LATE_FROM else AttendanceStatus.PRESENT
    assert (first.status, first.marked_at, first.already_marked) == (expected, now, False)
    assert (again.status, again.marked_at, again.already_marked) == (expected, now, True)
    (mark,) = world.marks()
    assert (mark.student_id, mark.status, mark.source) == (
        student.id,
        expected,
        MarkSource.CHECK_IN,
    )
    assert mark.device_id == scene.device


@example(seed=0, student_index=0, device="phone-0000", from_late=timedelta(0), waited=WINDOW / 2)
@example(
    seed=0,
    student_index=0,
    device="phone-0000",
    from_late=timedelta(microseconds=1),
    waited=WINDOW / 2,
)
@given(
    seed=seeds,
    student_index=student_indexes,
    device=devices,
    from_late=microseconds(-timedelta(minutes=2), timedelta(minutes=2)),
    waited=inside_window,
)
def test_a_check_in_is_late_exactly_when_it_comes_after_late_after_minutes(
    seed: int, student_index: int, device: str, from_late: timedelta, waited: timedelta
) -> None:
    now = LATE_FROM + from_late
    scene = Scene(seed, student_index, device, now - waited, waited, previous_code=False)
    world, student, code = set_scene(scene)

    result = world.check_in(student, code, device)

    late = from_late > timedelta(0)
    assert result.status is (AttendanceStatus.LATE if late else AttendanceStatus.PRESENT)


# -- refusals -----------------------------------------------------------------------------------


@given(scene=scenes, other_device=devices)
def test_a_check_in_from_another_device_never_succeeds(scene: Scene, other_device: str) -> None:
    assume(other_device != scene.device)
    world, student, code = set_scene(scene)

    refused = refusal(world, student, code, other_device)

    assert refused.reason is CheckInRefusal.DEVICE_MISMATCH
    assert world.marks() == []
    # The refusal was about the device alone: the bound one gets in with the same code.
    assert not world.check_in(student, code, scene.device).already_marked


@given(scene=scenes)
def test_a_student_without_a_bound_device_cannot_check_in(scene: Scene) -> None:
    world, _, code = set_scene(scene)
    unbound = world.college.students[(scene.student_index + 1) % 5]

    refused = refusal(world, unbound, code, scene.device + "-x")

    assert refused.reason is CheckInRefusal.DEVICE_NOT_BOUND
    assert world.marks() == []


@given(scene=scenes, outsider_device=devices)
def test_a_student_of_another_section_never_checks_in(scene: Scene, outsider_device: str) -> None:
    assume(outsider_device != scene.device)
    world, _, code = set_scene(scene)
    outsider = world.college.outsider
    world.bind(outsider, outsider_device)

    refused = refusal(world, outsider, code, outsider_device)

    assert refused.reason is CheckInRefusal.NOT_IN_SECTION
    assert world.marks() == []


@given(
    seed=seeds,
    student_index=student_indexes,
    device=devices,
    at=microseconds(-timedelta(hours=2), timedelta(hours=3)).map(lambda d: CLASS_START + d),
    code=six_digits,
)
def test_no_check_in_succeeds_before_attendance_is_opened(
    seed: int, student_index: int, device: str, at: datetime, code: str
) -> None:
    world = new_world(seed)
    student = world.college.students[student_index]
    world.bind(student, device)
    world.at(at)

    refused = refusal(world, student, code, device)

    assert refused.reason is CheckInRefusal.ATTENDANCE_NOT_OPEN
    assert world.marks() == []


@given(scene=scenes, earlier=microseconds(timedelta(microseconds=1), timedelta(hours=1)))
def test_no_check_in_succeeds_before_the_window_opened(scene: Scene, earlier: timedelta) -> None:
    world, student, _ = set_scene(scene)
    before = scene.opened_at - earlier
    world.at(before)

    refused = refusal(world, student, world.window().code_at(before), scene.device)

    assert refused.reason is CheckInRefusal.ATTENDANCE_NOT_OPEN
    assert world.marks() == []


@given(
    scene=scenes,
    after_close=microseconds(timedelta(0), timedelta(hours=3)),
    last_shown=st.booleans(),
)
def test_no_check_in_succeeds_once_the_window_has_closed(
    scene: Scene, after_close: timedelta, last_shown: bool
) -> None:
    world, student, _ = set_scene(scene)
    window = world.window()
    now = window.closes_at + after_close
    world.at(now)
    # Either the last code the class saw, or the one the screen would show now.
    code = window.code_at(window.closes_at - timedelta(microseconds=1) if last_shown else now)

    refused = refusal(world, student, code, scene.device)

    assert window.closes_at == scene.opened_at + WINDOW
    assert refused.reason is CheckInRefusal.ATTENDANCE_CLOSED
    assert world.marks() == []


@st.composite
def attempt_times(draw: st.DrawFn, count: int) -> list[timedelta]:
    """``count`` moments inside the window, in order (a student's attempts)."""
    offsets = draw(st.lists(inside_window, min_size=count, max_size=count))
    return sorted(offsets)


@given(scene=scenes, wrong=st.integers(min_value=0, max_value=LOCK_AFTER + 2), data=st.data())
def test_five_wrong_codes_lock_the_student_out_and_fewer_do_not(
    scene: Scene, wrong: int, data: st.DataObject
) -> None:
    world, student, _ = set_scene(scene)
    times = data.draw(attempt_times(wrong + 1), label="attempt offsets")

    for n, offset in enumerate(times[:-1]):
        world.at(scene.opened_at + offset)
        code = data.draw(six_digits, label=f"wrong code {n + 1}")
        assume(code not in world.valid_codes(world.clock.now()))
        refused = refusal(world, student, code, scene.device)
        expected = CheckInRefusal.WRONG_CODE if n < LOCK_AFTER else CheckInRefusal.LOCKED
        assert refused.reason is expected
        if n < LOCK_AFTER:
            assert refused.attempts_left == LOCK_AFTER - n - 1
    world.at(scene.opened_at + times[-1])
    right = world.window().code_at(world.clock.now())

    if wrong >= LOCK_AFTER:
        refused = refusal(world, student, right, scene.device)
        assert refused.reason is CheckInRefusal.LOCKED
        assert world.marks() == []
        # The lock is the student's alone: a classmate still checks in.
        classmate = world.college.students[(scene.student_index + 1) % 5]
        world.bind(classmate, scene.device + "-mate")
        assert not world.check_in(classmate, right, scene.device + "-mate").already_marked
    else:
        assert not world.check_in(student, right, scene.device).already_marked
        assert [m.student_id for m in world.marks()] == [student.id]


# -- every interleaving: a check-in succeeds only when every rule holds ---------------------------


DEVICE_POOL = tuple(f"phone-{n:04d}" for n in range(8))
PEOPLE = st.integers(min_value=0, max_value=5)  # 0-4: section A; 5: the outsider of section B


class CheckInMachine(RuleBasedStateMachine):
    """Students bind devices, admins reset them, the teacher opens attendance, time passes,
    and students try codes. A reference model of the rules predicts every outcome.
    """

    def __init__(self) -> None:
        super().__init__()
        self.world = new_world(0)
        self.people: tuple[Student, ...] = (
            *self.world.college.students,
            self.world.college.outsider,
        )
        self.bound: dict[int, str] = {}
        self.failures: dict[int, int] = {}
        self.marked: dict[int, CheckInResult] = {}
        self.window: tuple[datetime, datetime] | None = None

    @initialize(
        seed=seeds,
        start=microseconds(-timedelta(minutes=30), timedelta(minutes=70)),
        signed_in=st.lists(PEOPLE, unique=True, max_size=6),
        opened=st.booleans(),
    )
    def start(self, seed: int, start: timedelta, signed_in: list[int], opened: bool) -> None:
        self.world.random = SeededRandomSource(seed)
        self.world.at(CLASS_START + start)
        for who in signed_in:
            self.student_signs_in(who, DEVICE_POOL[who])
        if opened:
            self.teacher_opens_attendance()

    @property
    def now(self) -> datetime:
        return self.world.clock.now()

    def _window_open(self) -> bool:
        return self.window is not None and self.window[0] <= self.now < self.window[1]

    @rule(seconds=st.integers(min_value=0, max_value=300), micros=st.integers(0, 999_999))
    def time_passes(self, seconds: int, micros: int) -> None:
        self.world.clock.advance(seconds=seconds, microseconds=micros)

    @rule()
    def teacher_opens_attendance(self) -> None:
        # a window still open is shown again even past the class end (it may outlast it)
        if not self._window_open() and not EARLIEST_OPEN <= self.now < CLASS_END:
            with pytest.raises(ConflictError):
                self.world.open()
            return
        opened = self.world.open()
        if not self._window_open():
            self.window = (self.now, self.now + WINDOW)
        assert self.window is not None
        assert (opened.window_opened_at, opened.window_closes_at) == self.window
        assert opened.code in self.world.valid_codes(self.now)

    @rule(who=PEOPLE, device=st.sampled_from(DEVICE_POOL))
    def student_signs_in(self, who: int, device: str) -> None:
        holder = next((i for i, d in self.bound.items() if d == device), None)
        if (who in self.bound and self.bound[who] != device) or holder not in (None, who):
            with pytest.raises(PermissionDeniedError):
                self.world.bind(self.people[who], device)
            return
        self.world.bind(self.people[who], device)
        self.bound[who] = device

    @rule(who=PEOPLE)
    def admin_resets_the_device(self, who: int) -> None:
        ResetDeviceBinding(self.world.uow, self.world.clock)(
            ResetDeviceBindingCommand(self.world.college.admin, self.people[who].id)
        )
        self.bound.pop(who, None)

    @rule(
        who=PEOPLE,
        own_device=st.booleans(),
        other_device=st.sampled_from(DEVICE_POOL),
        kind=st.sampled_from(["current", "current", "previous", "stale", "random", "malformed"]),
        random_code=six_digits,
    )
    def student_checks_in(
        self, who: int, own_device: bool, other_device: str, kind: str, random_code: str
    ) -> None:
        device = self.bound.get(who, other_device) if own_device else other_device
        code = self._code(kind, random_code)
        # Every rule the attempt breaks, in the order CheckIn documents it checks them.
        violated: list[CheckInRefusal] = []
        if who == 5:
            violated.append(CheckInRefusal.NOT_IN_SECTION)
        if who not in self.bound:
            violated.append(CheckInRefusal.DEVICE_NOT_BOUND)
        elif self.bound[who] != device:
            violated.append(CheckInRefusal.DEVICE_MISMATCH)
        if not violated and who in self.marked:
            repeat = self.world.check_in(self.people[who], code, device)
            first = self.marked[who]
            assert (repeat.status, repeat.marked_at, repeat.already_marked) == (
                first.status,
                first.marked_at,
                True,
            )
            event("check-in repeated")
            return
        if self.failures.get(who, 0) >= LOCK_AFTER:
            violated.append(CheckInRefusal.LOCKED)
        if self.window is None or self.now < self.window[0]:
            violated.append(CheckInRefusal.ATTENDANCE_NOT_OPEN)
        elif self.now >= self.window[1]:
            violated.append(CheckInRefusal.ATTENDANCE_CLOSED)
        elif kind == "malformed":
            violated.append(CheckInRefusal.MALFORMED_CODE)
        elif code not in self.world.valid_codes(self.now):
            violated.append(CheckInRefusal.WRONG_CODE)

        if not violated:
            result = self.world.check_in(self.people[who], code, device)
            status = AttendanceStatus.LATE if self.now > LATE_FROM else AttendanceStatus.PRESENT
            assert (result.status, result.marked_at, result.already_marked) == (
                status,
                self.now,
                False,
            )
            self.marked[who] = result
            event("check-in accepted")
            return
        refused = refusal(self.world, self.people[who], code, device)
        event(f"check-in refused: {refused.reason.value}")
        assert refused.reason is violated[0], (refused.reason, violated)
        if refused.reason is CheckInRefusal.WRONG_CODE:
            self.failures[who] = self.failures.get(who, 0) + 1

    @rule(who=st.integers(min_value=0, max_value=1), guess=six_digits)
    def student_guesses_codes(self, who: int, guess: str) -> None:
        """A student keeps guessing from their own phone (heads for the lock-out)."""
        self.student_checks_in(who, True, DEVICE_POOL[who], "random", guess)

    def _code(self, kind: str, random_code: str) -> str:
        if kind == "malformed":
            return random_code[:5]
        if self.window is None or kind == "random":
            return random_code
        back = {"current": 0, "previous": 1, "stale": 2}[kind]
        return self.world.window().code_at(self.now - back * ROTATION)

    @precondition(lambda self: self.window is not None)
    @invariant()
    def the_window_is_where_the_model_says(self) -> None:
        window = self.world.window()
        assert (window.opened_at, window.closes_at) == self.window

    @invariant()
    def marks_are_exactly_the_successful_check_ins(self) -> None:
        marks = {m.student_id: m for m in self.world.marks()}
        assert set(marks) == {self.people[i].id for i in self.marked}
        for who, result in self.marked.items():
            mark = marks[self.people[who].id]
            assert (mark.status, mark.marked_at, mark.source) == (
                result.status,
                result.marked_at,
                MarkSource.CHECK_IN,
            )


CheckInMachine.TestCase.settings = settings(stateful_step_count=50)
test_check_in_succeeds_only_when_every_rule_holds = CheckInMachine.TestCase
