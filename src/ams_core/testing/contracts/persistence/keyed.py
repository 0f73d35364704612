"""Part of the persistence contract. Round trips, errors and list order of keyed repositories."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from ams_core.domain import (
    AssignmentId,
    AttendanceStatus,
    ClassSession,
    ConcurrencyError,
    ConflictError,
    DateRange,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    MarkSource,
    NotFoundError,
    Recipient,
    RecipientKind,
    Section,
    SectionId,
    SecurityEvent,
    SecurityEventKind,
    SlotId,
    StatusTally,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    IST,
    T0,
    WEEK,
    _audit,
    _day,
    _event,
    _mark,
    _notification,
    _session,
)
from ams_core.testing.contracts.persistence._cases import (
    _KEYED_CASES,
    _full_institution,
    _full_session,
    _KeyedCase,
)


class KeyedContract(ContractHelpers):
    """Round trips, errors and list order of the keyed repositories."""

    # -- round trips ----------------------------------------------------------------------
    def test_the_seeded_college_reads_back_unchanged(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        with uow_factory().for_institution(college.id) as uow:
            assert uow.institutions.get(college.id) == college.institution
            assert list(uow.sections.list()) == [college.section_a, college.section_b]
            assert set(uow.students.list()) == {*college.students, college.outsider}
            assert list(uow.students.list(college.section_a.id)) == list(college.students)
            assert list(uow.students.list(college.section_b.id)) == [college.outsider]
            assert uow.students.get(college.outsider.id) == college.outsider
            assert list(uow.faculty.list()) == [college.alice, college.bob]
            assert list(uow.subjects.list()) == [college.cs101, college.ma101]
            assert list(uow.assignments.list()) == [
                college.alice_cs_a,
                college.bob_ma_a,
                college.bob_cs_b,
            ]
            assert list(uow.slots.list()) == sorted(college.slots, key=lambda s: s.id)
            assert list(uow.terms.list()) == [college.term]
            for slot in college.slots:
                assert uow.slots.get(slot.id) == slot

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_add_then_get_keeps_every_field(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            assert case.repo(uow).get(case.key(entity)) == entity
            uow.commit()
        with case.open(uow_factory, college) as uow:
            stored = case.repo(uow).get(case.key(entity))
            assert stored == entity
            assert case.repo(uow).find(case.key(entity)) == entity
            assert entity in list(case.listing(case.repo(uow)))
            for name in ("email_domains", "qualified_subjects"):
                if hasattr(entity, name):
                    assert isinstance(getattr(stored, name), frozenset)
            if isinstance(stored, Institution):
                assert isinstance(stored.settings.campus_networks, tuple)
                assert stored.settings.attendance_threshold == Decimal("72.5")
            if isinstance(stored, ClassSession):
                assert stored.window is not None
                assert stored.window.secret == bytes(range(0, 256, 8))
                assert isinstance(stored.window.secret, bytes)
                assert stored.completed_at is not None
                assert stored.completed_at.utcoffset() is not None

    def test_a_session_without_optional_values_keeps_its_nones(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        bare = _session(college, "S-BARE", college.bob_cs_b, _day(2), time(11))
        with uow_factory().for_institution(college.id) as uow:
            uow.sessions.add(bare)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            stored = uow.sessions.get(bare.id)
        assert stored == bare
        assert (stored.slot_id, stored.topic, stored.window, stored.completed_at) == (None,) * 4
        assert stored.tally == StatusTally()

    def test_marks_audit_bindings_events_and_notifications_keep_every_field(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        session = _full_session(college)
        st0, st1 = college.students[0], college.students[1]
        checked_in = _mark(
            college, session.id, st0, AttendanceStatus.LATE, device="device-0001-abcd", at=T0
        )
        manual = dataclasses.replace(
            _mark(college, session.id, st1, AttendanceStatus.EXCUSED, source=MarkSource.MANUAL),
            marked_at=datetime(2026, 11, 16, 9, 40, 1, 5, tzinfo=IST),
        )
        entries = [
            _audit(college, session.id, st0, actor="n210001@a.edu", new=AttendanceStatus.LATE),
            _audit(
                college,
                session.id,
                st1,
                actor="alice@a.edu",
                at=datetime(2026, 11, 16, 9, 41, tzinfo=IST),
                old=AttendanceStatus.ABSENT,
                new=AttendanceStatus.EXCUSED,
                reason="medical leave — certificate seen",
            ),
        ]
        binding = DeviceBinding(college.id, st0.id, DeviceId("device-0001-abcd"), T0)
        event = SecurityEvent(
            institution_id=college.id,
            kind=SecurityEventKind.DEVICE_SHARED,
            at=datetime(2026, 11, 16, 9, 5, tzinfo=IST),
            actor=st1.email,
            student_id=st1.id,
            session_id=session.id,
            device_id=DeviceId("device-0001-abcd"),
            client_ip="2001:db8::7",
            detail={"bound_to": st0.id, "note": "ünïcode"},
        )
        bare_event = _event(college, T0, kind=SecurityEventKind.SECRET_ROTATED)
        notification = dataclasses.replace(
            _notification(
                college,
                "N-FULL",
                "key-full",
                datetime(2026, 11, 16, 9, 0, tzinfo=IST),
                recipients=(
                    Recipient(RecipientKind.STUDENT, st0.id),
                    Recipient(RecipientKind.FACULTY, college.alice.id),
                    Recipient(RecipientKind.SECTION, college.section_a.id),
                ),
            ),
            data={"session_id": session.id, "url": "/sessions/S-FULL"},
        )
        with uow_factory().for_institution(college.id) as uow:
            uow.sessions.add(session)
            assert uow.marks.insert_if_absent(checked_in) == (checked_in, True)
            uow.marks.put_many([manual])
            uow.audit.add_many(entries)
            uow.devices.add(binding)
            uow.security_events.add(event)
            uow.security_events.add(bare_event)
            uow.outbox.add(notification)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.marks.find(session.id, st0.id) == checked_in
            assert uow.marks.find(session.id, st1.id) == manual
            assert list(uow.marks.list_for_session(session.id)) == [checked_in, manual]
            assert list(uow.audit.list_for_session(session.id)) == entries
            assert uow.devices.for_student(st0.id) == binding
            assert uow.devices.for_device(binding.device_id) == binding
            assert list(uow.security_events.list()) == [event, bare_event]  # 03:35 UTC, 03:30 UTC
            assert list(uow.outbox.pending()) == [notification]
        with uow_factory().for_platform() as uow:
            stored = list(uow.outbox.pending())
        assert stored == [notification]
        assert isinstance(stored[0].recipients, tuple)
        assert dict(stored[0].data) == dict(notification.data)

    def test_holidays_keep_their_fields_and_come_ordered_by_date(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        holidays = [
            Holiday(college.id, date(2026, 11, 20), "Founders' Day"),
            Holiday(college.id, date(2026, 11, 14), ""),
            Holiday(college.id, date(2026, 11, 16), "Diwali — observed"),
            Holiday(college.id, date(2026, 11, 22), "Sunday"),
        ]
        with uow_factory().for_institution(college.id) as uow:
            for holiday in holidays:
                uow.holidays.add(holiday)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.holidays.list()) == sorted(holidays, key=lambda h: h.date)
            assert list(uow.holidays.list(WEEK)) == [holidays[2], holidays[0], holidays[3]]
            assert list(uow.holidays.list(DateRange(_day(1), _day(3)))) == []
            assert uow.holidays.remove(date(2026, 11, 20)) is True
            assert uow.holidays.remove(date(2026, 11, 20)) is False
            assert uow.holidays.remove(date(2026, 11, 21)) is False
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert [h.date for h in uow.holidays.list(WEEK)] == [MONDAY, date(2026, 11, 22)]

    # -- errors of keyed repositories -----------------------------------------------------
    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_adding_an_existing_key_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow, pytest.raises(ConflictError):
            case.repo(uow).add(entity)
        with case.open(uow_factory, college) as uow, pytest.raises(ConflictError):
            case.repo(uow).add(case.change(entity))
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == entity

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_adding_a_key_twice_in_one_transaction_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            with pytest.raises(ConflictError):
                case.repo(uow).add(entity)

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_get_of_a_missing_key_is_not_found(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(case.missing) is None
            with pytest.raises(NotFoundError):
                case.repo(uow).get(case.missing)

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_update_stores_the_entity_with_its_version_plus_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        changed = case.change(entity)
        with case.open(uow_factory, college) as uow:
            first = case.repo(uow).update(changed)
            assert first == dataclasses.replace(changed, version=entity.version + 1)
            assert case.repo(uow).get(case.key(entity)) == first
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == first
            second = case.repo(uow).update(dataclasses.replace(first, version=first.version))
            assert second.version == entity.version + 2
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)).version == entity.version + 2

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_update_of_a_stale_version_is_a_concurrency_error(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            read_by_first = case.repo(uow).get(case.key(entity))
        with case.open(uow_factory, college) as uow:
            winner = case.repo(uow).update(case.change(read_by_first))
            uow.commit()
        with case.open(uow_factory, college) as uow, pytest.raises(ConcurrencyError):
            case.repo(uow).update(read_by_first)
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == winner
            assert winner.version == entity.version + 1
            with pytest.raises(ConcurrencyError):
                case.repo(uow).update(dataclasses.replace(winner, version=winner.version + 5))

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_an_uncommitted_add_or_update_is_rolled_back(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(case.key(entity)) is None
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            case.repo(uow).update(case.change(entity))
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == entity

    # -- ordering of lists ----------------------------------------------------------------
    def test_lists_are_ordered_as_documented(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        iid = college.id
        section_0 = Section(SectionId("A0-FIRST"), iid, 1, "CSE", "0")
        faculty_0 = Faculty(FacultyId("F000"), iid, "Zed", "zed@a.edu", "CSE")
        subject_0 = Subject(SubjectCode("AA100"), iid, "AA", "Aardvarks")
        assignment_0 = TeachingAssignment(
            AssignmentId("A0"), iid, college.alice.id, college.ma101.code, college.section_b.id
        )
        slot_0 = WeeklySlot(SlotId("A0-1"), iid, assignment_0.id, 1, time(15), time(16))
        late_term = Term(TermId("T0"), iid, "Spring 2027", date(2027, 1, 4), date(2027, 5, 1))
        early_term = Term(TermId("T9"), iid, "Summer 2026", date(2026, 5, 4), date(2026, 7, 1))
        tie = Student(StudentId("N21A003"), iid, "Tie", "n21a003@a.edu", college.section_a.id, 3)
        first = Student(StudentId("Z9"), iid, "First", "z9@a.edu", college.section_a.id, 0)
        with uow_factory().for_institution(iid) as uow:
            uow.sections.add(section_0)
            uow.faculty.add(faculty_0)
            uow.subjects.add(subject_0)
            uow.assignments.add(assignment_0)
            uow.slots.add(slot_0)
            uow.terms.add(late_term)
            uow.terms.add(early_term)
            uow.students.add_many([tie, first])
            uow.commit()
        with uow_factory().for_institution(iid) as uow:
            assert [s.id for s in uow.sections.list()] == ["A0-FIRST", "E2-CSE-A", "E2-CSE-B"]
            assert [f.id for f in uow.faculty.list()] == ["F000", "F001", "F002"]
            assert [s.code for s in uow.subjects.list()] == ["AA100", "CS101", "MA101"]
            assert [a.id for a in uow.assignments.list()] == ["A0", "A1", "A2", "A3"]
            assert [s.id for s in uow.slots.list()] == sorted(
                [slot_0.id, *(s.id for s in college.slots)]
            )
            assert [t.id for t in uow.terms.list()] == ["T9", "T1", "T0"]
            assert [s.id for s in uow.students.list(college.section_a.id)] == [
                "Z9",
                "N210001",
                "N210002",
                "N210003",
                "N21A003",
                "N210004",
                "N210005",
            ]
            ranked = [s for s in uow.students.list() if s.roll_number is not None]
            assert [s.id for s in ranked][:5] == ["Z9", "N210001", "N210002", "N210003", "N21A003"]
            assert [a.id for a in uow.assignments.list(faculty_id=college.bob.id)] == ["A2", "A3"]
            assert [a.id for a in uow.assignments.list(section_id=college.section_b.id)] == [
                "A0",
                "A3",
            ]
            assert [
                a.id
                for a in uow.assignments.list(
                    faculty_id=college.alice.id, section_id=college.section_a.id
                )
            ] == ["A1"]
            assert list(uow.assignments.list(faculty_id=FacultyId("F404"))) == []

    def test_institutions_are_listed_by_id_in_the_platform_scope(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        zeta = _full_institution(college)
        early = Institution(InstitutionId("inst-0"), "Zero", "UTC", frozenset({"zero.edu"}))
        with uow_factory().for_platform() as uow:
            uow.institutions.add(zeta)
            uow.institutions.add(early)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.institutions.list()) == [early, college.institution, zeta]
