"""Part of the persistence contract. Students and faculty, the other unique rules, and bulk upserts
of students.
"""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

import pytest

from ams_core.domain import (
    AssignmentId,
    ConflictError,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    Section,
    SectionId,
    SessionId,
    SessionStatus,
    SlotId,
    Student,
    StudentId,
    SubjectCode,
    TeachingAssignment,
    ValidationError,
)
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    EVERYTHING,
    T0,
    WEEK,
    _day,
    _notification,
    _session,
)


class PeopleContract(ContractHelpers):
    """Students and faculty, the other unique rules, and bulk upserts of students."""

    # -- students and faculty ---------------------------------------------------------------
    def test_a_deactivated_student_keeps_their_record_but_leaves_the_roster(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        leaver, teacher = college.students[2], college.bob
        with uow_factory().for_institution(college.id) as uow:
            uow.students.update(dataclasses.replace(leaver, active=False))
            uow.faculty.update(dataclasses.replace(teacher, active=False))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.get(leaver.id).active is False
            assert uow.faculty.get(teacher.id).active is False
            assert leaver.id not in uow.students.ids_in_section(college.section_a.id)
            assert len(uow.students.list(college.section_a.id)) == len(college.students)
            back = uow.students.upsert_many([leaver])
            uow.commit()
        assert back.updated == 1
        with uow_factory().for_institution(college.id) as uow:
            assert leaver.id in uow.students.ids_in_section(college.section_a.id)

    def test_student_lookups_follow_updates(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        mover = college.students[4]
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email(mover.email) == mover
            assert uow.students.find_by_email("nobody@a.edu") is None
            assert uow.students.ids_in_section(college.section_a.id) == frozenset(
                s.id for s in college.students
            )
            assert uow.students.ids_in_section(SectionId("NO-SECTION")) == frozenset()
            moved = uow.students.update(
                dataclasses.replace(mover, email="moved@a.edu", section_id=college.section_b.id)
            )
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email("moved@a.edu") == moved
            assert uow.students.find_by_email(mover.email) is None
            assert mover.id not in uow.students.ids_in_section(college.section_a.id)
            assert uow.students.ids_in_section(college.section_b.id) == {
                college.outsider.id,
                mover.id,
            }
            assert set(uow.students.list(college.section_b.id)) == {moved, college.outsider}
            # the freed address can be taken again
            uow.students.add(
                Student(StudentId("N219000"), college.id, "New", mover.email, college.section_a.id)
            )
            uow.commit()

    def test_student_emails_are_unique_within_an_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        taken = college.students[0].email
        clash = Student(StudentId("N219001"), college.id, "Clash", taken, college.section_a.id)
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.students.add(clash)
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.students.update(dataclasses.replace(college.students[1], email=taken))
        twins = [
            Student(StudentId("N219002"), college.id, "Twin 1", "twin@a.edu", college.section_a.id),
            Student(StudentId("N219003"), college.id, "Twin 2", "twin@a.edu", college.section_a.id),
        ]
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.students.add_many(twins)
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email(taken) == college.students[0]
            assert uow.students.find_by_email("twin@a.edu") is None
            assert uow.students.get(college.students[1].id) == college.students[1]

    def test_faculty_emails_are_unique_within_an_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        taken = college.alice.email
        clash = Faculty(FacultyId("F777"), college.id, "Clash", taken, "CSE")
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.faculty.add(clash)
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.faculty.update(dataclasses.replace(college.bob, email=taken))
        with uow_factory().for_institution(college.id) as uow:
            assert uow.faculty.find_by_email(taken) == college.alice
            assert uow.faculty.find_by_email(college.bob.email) == college.bob
            assert uow.faculty.find(clash.id) is None
            renamed = uow.faculty.update(dataclasses.replace(college.bob, email="robert@a.edu"))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.faculty.find_by_email("robert@a.edu") == renamed
            assert uow.faculty.find_by_email(college.bob.email) is None

    def test_the_same_email_may_be_used_in_another_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        other = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        student = Student(
            StudentId("N219500"), other.id, "Dual", college.students[0].email, other.section_a.id
        )
        teacher = Faculty(FacultyId("F500"), other.id, "Dual", college.alice.email, "CSE")
        with uow_factory().for_institution(other.id) as uow:
            uow.students.add(student)
            uow.faculty.add(teacher)
            uow.commit()
        with uow_factory().for_institution(other.id) as uow:
            assert uow.students.find_by_email(student.email) == student
            assert uow.faculty.find_by_email(teacher.email) == teacher
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email(student.email) == college.students[0]
            assert uow.faculty.find_by_email(teacher.email) == college.alice

    def test_find_many_leaves_unknown_keys_out(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        with uow_factory().for_institution(college.id) as uow:
            assert dict(uow.faculty.find_many([college.bob.id, FacultyId("F404")])) == {
                college.bob.id: college.bob
            }
            assert dict(uow.faculty.find_many([])) == {}
            assert dict(
                uow.subjects.find_many({college.cs101.code, college.ma101.code, SubjectCode("X")})
            ) == {college.cs101.code: college.cs101, college.ma101.code: college.ma101}
            assert dict(uow.subjects.find_many([SubjectCode("X")])) == {}

    def test_add_many_students_is_all_or_nothing(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        def new(n: int, email: str | None = None) -> Student:
            return Student(
                StudentId(f"N23{n:04d}"),
                college.id,
                f"New {n}",
                email or f"n23{n:04d}@a.edu",
                college.section_b.id,
            )

        seeded = {*college.students, college.outsider}
        batches = (
            [new(1), new(2), dataclasses.replace(college.students[0], name="Taken id")],
            [new(3), new(4, email=college.students[0].email)],
            [new(7), new(8), new(7)],
        )
        for n, batch in enumerate(batches):
            kept = SectionId(f"KEPT-{n}")
            with uow_factory().for_institution(college.id) as uow:
                uow.sections.add(Section(kept, college.id, 1, "CSE", "K"))
                with pytest.raises(ConflictError):
                    uow.students.add_many(batch)
                # the failed batch left nothing behind, and the transaction goes on
                assert set(uow.students.list()) == seeded
                assert uow.students.ids_in_section(college.section_b.id) == {college.outsider.id}
                for student in batch[:2]:
                    assert uow.students.find_by_email(student.email) in (None, college.students[0])
                uow.commit()
            with uow_factory().for_institution(college.id) as uow:
                assert uow.sections.find(kept) is not None
                assert set(uow.students.list()) == seeded
                assert uow.students.find_by_email(college.students[0].email) == college.students[0]
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.add_many([new(5), new(6)]) == 2
            assert uow.students.add_many([]) == 0
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.ids_in_section(college.section_b.id) == {
                college.outsider.id,
                StudentId("N230005"),
                StudentId("N230006"),
            }

    # -- other unique rules ---------------------------------------------------------------
    def test_an_assignment_is_unique_per_teacher_subject_and_section(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        twin = TeachingAssignment(
            AssignmentId("A-TWIN"), c.id, c.alice.id, c.cs101.code, c.section_a.id
        )
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.assignments.add(twin)
        onto_a1 = dataclasses.replace(c.bob_cs_b, faculty_id=c.alice.id, section_id=c.section_a.id)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.assignments.update(onto_a1)
        freed = TeachingAssignment(
            AssignmentId("A-FREED"), c.id, c.bob.id, c.cs101.code, c.section_b.id
        )
        with uow_factory().for_institution(c.id) as uow:
            moved = uow.assignments.update(
                dataclasses.replace(c.bob_cs_b, section_id=c.section_a.id)
            )
            uow.assignments.add(freed)  # the key (bob, CS101, B) was released by the move
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.assignments.list()) == [freed, c.alice_cs_a, c.bob_ma_a, moved]
            assert uow.assignments.find(twin.id) is None

    def test_one_generated_session_per_slot_and_date(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        first = _session(c, "S-1", c.alice_cs_a, MONDAY, slot="A1-1")
        next_week = _session(c, "S-3", c.alice_cs_a, _day(7), slot="A1-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add(first)
            uow.sessions.add(next_week)
            uow.commit()
        clash = _session(c, "S-2", c.alice_cs_a, MONDAY, time(11), slot="A1-1")
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.add(clash)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.add_many([clash])
        twins = [
            _session(c, "S-4", c.alice_cs_a, _day(14), slot="A1-1"),
            _session(c, "S-5", c.alice_cs_a, _day(14), time(12), slot="A1-1"),
        ]
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.add_many(twins)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.update(dataclasses.replace(next_week, date=MONDAY))
        ad_hoc = [
            _session(c, "S-6", c.alice_cs_a, MONDAY, time(13)),
            _session(c, "S-7", c.alice_cs_a, MONDAY, time(15)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sessions.add_many(ad_hoc) == 2  # sessions without a slot never clash
            moved = uow.sessions.update(dataclasses.replace(first, date=_day(21)))
            uow.sessions.add(clash)  # the move released (A1-1, MONDAY)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sessions.generated_keys(EVERYTHING) == {
                (SlotId("A1-1"), MONDAY),
                (SlotId("A1-1"), _day(7)),
                (SlotId("A1-1"), _day(21)),
            }
            assert uow.sessions.get(moved.id) == moved
            assert uow.sessions.find(SessionId("S-4")) is None

    def test_add_many_sessions_is_all_or_nothing(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        existing = _session(c, "S-1", c.alice_cs_a, MONDAY, slot="A1-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add(existing)
            uow.commit()
        batch = [
            _session(c, "S-10", c.alice_cs_a, _day(1), slot="A1-2"),
            _session(c, "S-11", c.bob_ma_a, _day(1), time(14), status=SessionStatus.OPEN),
            _session(c, "S-12", c.alice_cs_a, MONDAY, time(16), slot="A1-1"),
        ]
        with uow_factory().for_institution(c.id) as uow:
            with pytest.raises(ConflictError):
                uow.sessions.add_many(batch)
            assert uow.sessions.find(batch[0].id) is None
            assert uow.sessions.find(batch[1].id) is None
            assert uow.sessions.generated_keys(WEEK) == {(SlotId("A1-1"), MONDAY)}
            assert list(uow.sessions.list_for_section(c.section_a.id, WEEK)) == [existing]
            assert list(uow.sessions.list_open()) == []
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_for_section(c.section_a.id, WEEK)) == [existing]
            assert uow.sessions.generated_keys(WEEK) == {(SlotId("A1-1"), MONDAY)}
            assert uow.sessions.add_many(batch[:2]) == 2
            assert uow.sessions.add_many([]) == 0
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_for_section(c.section_a.id, WEEK)) == [
                existing,
                *batch[:2],
            ]

    def test_one_holiday_per_date_in_each_institution(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        taken = Holiday(a.id, _day(4), "Another name")
        with uow_factory().for_institution(a.id) as uow, pytest.raises(ConflictError):
            uow.holidays.add(taken)
        with uow_factory().for_institution(a.id) as uow:
            uow.holidays.add(Holiday(a.id, _day(3), "B's holiday date"))  # B has one that day
            uow.commit()
        with uow_factory().for_institution(a.id) as uow:
            assert [h.date for h in uow.holidays.list(WEEK)] == [_day(3), _day(4)]
        with uow_factory().for_institution(b.id) as uow:
            assert list(uow.holidays.list()) == [Holiday(b.id, _day(3), "Holiday B")]

    def test_a_device_binds_one_student_and_a_student_one_device(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        iid, st0, st1 = college.id, college.students[0].id, college.students[1].id
        phone, tablet = DeviceId("device-aaaa-0001"), DeviceId("device-bbbb-0002")
        binding = DeviceBinding(iid, st0, phone, T0)
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_student(st0) is None
            assert uow.devices.for_device(phone) is None
            uow.devices.add(binding)
            uow.commit()
        with uow_factory().for_institution(iid) as uow, pytest.raises(ConflictError):
            uow.devices.add(DeviceBinding(iid, st0, tablet, T0))  # the student has a device
        with uow_factory().for_institution(iid) as uow, pytest.raises(ConflictError):
            uow.devices.add(DeviceBinding(iid, st1, phone, T0))  # the device has a student
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_student(st0) == binding
            assert uow.devices.for_device(phone) == binding
            assert uow.devices.for_student(st1) is None
            assert uow.devices.for_device(tablet) is None
            assert uow.devices.remove(st1) is False
            assert uow.devices.remove(st0) is True
            assert uow.devices.remove(st0) is False
            assert uow.devices.for_device(phone) is None
            rebound = DeviceBinding(iid, st1, phone, T0 + timedelta(days=1))
            uow.devices.add(rebound)
            uow.devices.add(DeviceBinding(iid, st0, tablet, T0 + timedelta(days=1)))
            uow.commit()
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_device(phone) == rebound
            assert uow.devices.for_student(st1) == rebound
            assert uow.devices.for_student(st0) == DeviceBinding(
                iid, st0, tablet, T0 + timedelta(days=1)
            )
            uow.devices.remove(st1)
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_device(phone) == rebound  # the removal was not committed

    def test_an_email_domain_belongs_to_one_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        grabber = Institution(
            InstitutionId("inst-c"), "Grabber", "UTC", frozenset({"c.edu", "a.edu"})
        )
        with uow_factory().for_platform() as uow, pytest.raises(ConflictError):
            uow.institutions.add(grabber)
        other = Institution(InstitutionId("inst-b"), "Other", "UTC", frozenset({"b.edu"}))
        with uow_factory().for_platform() as uow:
            assert uow.institutions.find(grabber.id) is None
            uow.institutions.add(other)
            uow.commit()
        with uow_factory().for_platform() as uow, pytest.raises(ConflictError):
            uow.institutions.update(
                dataclasses.replace(other, email_domains=frozenset({"b.edu", "a.edu"}))
            )
        with uow_factory().for_platform() as uow:
            assert uow.institutions.find_by_domain("a.edu") == college.institution
            assert uow.institutions.find_by_domain("b.edu") == other
            assert uow.institutions.find_by_domain("c.edu") is None
            moved = uow.institutions.update(
                dataclasses.replace(college.institution, email_domains=frozenset({"a2.edu"}))
            )
            assert uow.institutions.find_by_domain("a.edu") is None
            taker = uow.institutions.update(
                dataclasses.replace(other, email_domains=frozenset({"b.edu", "a.edu"}))
            )
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.institutions.find_by_domain("a.edu") == taker
            assert uow.institutions.find_by_domain("a2.edu") == moved
            assert uow.institutions.find_by_domain("b.edu") == taker

    # -- bulk upsert --------------------------------------------------------------------------
    def test_upserting_students_creates_updates_and_leaves_identical_rows_alone(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        renamed = dataclasses.replace(c.students[0], name="Renamed", roll_number=41)
        moved = dataclasses.replace(c.students[1], section_id=c.section_b.id)
        fresh = [
            Student(StudentId(f"NEW{n}"), c.id, f"New {n}", f"new{n}@a.edu", c.section_a.id)
            for n in range(3)
        ]
        batch = [renamed, moved, c.students[2], *fresh]
        with uow_factory().for_institution(c.id) as uow:
            counts = uow.students.upsert_many(batch)
            uow.commit()
        assert (counts.created, counts.updated, counts.unchanged) == (3, 2, 1)
        with uow_factory().for_institution(c.id) as uow:
            stored = uow.students.get(renamed.id)
            assert (stored.name, stored.roll_number, stored.version) == ("Renamed", 41, 1)
            assert uow.students.get(moved.id).section_id == c.section_b.id
            assert uow.students.get(c.students[2].id).version == 0
            assert uow.students.get(StudentId("NEW2")).email == "new2@a.edu"
            again = uow.students.upsert_many(batch)
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(batch))

    def test_a_failed_upsert_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        fresh = Student(StudentId("NEW0"), c.id, "New", "new0@a.edu", c.section_a.id)
        stealing = dataclasses.replace(c.students[1], email=c.students[0].email)
        with uow_factory().for_institution(c.id) as uow:
            with pytest.raises(ConflictError) as error:
                uow.students.upsert_many([fresh, stealing])
            assert error.value.code == "email_taken"
            assert uow.students.find(fresh.id) is None
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.find(fresh.id) is None
            assert uow.students.get(c.students[1].id) == c.students[1]
            with pytest.raises(ValidationError):
                uow.students.upsert_many([fresh, fresh])

    def test_a_second_notification_with_a_taken_id_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first = _notification(college, "N-1", "key-1")
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.add(first)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.outbox.add(_notification(college, "N-1", "key-2"))
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [first]

    def test_emails_are_kept_in_one_spelling(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        shouting = Student(StudentId("NX1"), college.id, "X", " NX1@A.EDU ", college.section_a.id)
        with uow_factory().for_institution(college.id) as uow:
            uow.students.add(shouting)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.get(StudentId("NX1")).email == "nx1@a.edu"
            assert uow.students.find_by_email("Nx1@a.edu") == shouting
