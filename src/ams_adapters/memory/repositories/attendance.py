"""Attendance marks, device bindings and check-in failures."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from ams_adapters.memory.repositories._base import MemoryRepository
from ams_core.domain import (
    AttendanceMark,
    AttendanceStatus,
    ConflictError,
    DateRange,
    DeviceBinding,
    DeviceId,
    MarkSource,
    NotFoundError,
    SectionId,
    SessionId,
    SessionStatus,
    StatusTally,
    StudentId,
    SubjectCode,
)
from ams_core.ports import (
    CheckInContext,
    CheckInFailureRepository,
    DeviceBindingRepository,
    FailureCounts,
    MarkRepository,
    UnmarkedFilled,
)

_STATUS_INDEX = {"present": 0, "late": 1, "absent": 2, "excused": 3}


class InMemoryMarkRepository(MemoryRepository, MarkRepository):
    def check_in_context(self, session_id: SessionId, student_id: StudentId) -> CheckInContext:
        data = self._data
        return CheckInContext(
            session=data.sessions.get(session_id),
            student=data.students.get(student_id),
            binding=data.bindings.get(student_id),
            mark=data.marks.get((session_id, student_id)),
            failures=data.attempts.get((session_id, student_id), 0),
        )

    def find(self, session_id: SessionId, student_id: StudentId) -> AttendanceMark | None:
        return self._data.marks.get((session_id, student_id))

    def list_for_session(self, session_id: SessionId) -> Sequence[AttendanceMark]:
        data = self._data
        return [
            data.marks[(session_id, s)] for s in sorted(data.marks_by_session.get(session_id, ()))
        ]

    def list_for_sessions(self, session_ids: Iterable[SessionId]) -> Sequence[AttendanceMark]:
        return [m for sid in sorted(set(session_ids)) for m in self.list_for_session(sid)]

    def _write(self, mark: AttendanceMark) -> None:
        data, log = self._data, self._log
        if mark.session_id not in data.sessions:
            raise NotFoundError("session", mark.session_id)
        if mark.student_id not in data.students:
            raise NotFoundError("student", mark.student_id)
        log.set(data.marks, (mark.session_id, mark.student_id), mark)
        log.add(data.marks_by_session.setdefault(mark.session_id, set()), mark.student_id)
        log.add(data.marks_by_student.setdefault(mark.student_id, set()), mark.session_id)

    def insert_if_absent(self, mark: AttendanceMark) -> tuple[AttendanceMark, bool]:
        self._own(mark)
        existing = self.find(mark.session_id, mark.student_id)
        if existing is not None:
            return existing, False
        stored = dataclasses.replace(mark, version=0)
        self._write(stored)
        return stored, True

    def add_missing(self, marks: Sequence[AttendanceMark]) -> Sequence[AttendanceMark]:
        inserted = []
        for mark in marks:
            stored, was_inserted = self.insert_if_absent(mark)
            if was_inserted:
                inserted.append(stored)
        return inserted

    def add_for_unmarked(
        self,
        session_id: SessionId,
        status: AttendanceStatus,
        *,
        marked_at: datetime,
        marked_by: str,
        source: MarkSource,
    ) -> UnmarkedFilled:
        data = self._data
        session = data.sessions.get(session_id)
        if session is None:
            raise NotFoundError("session", session_id)
        students = data.students
        added = 0
        for student_id in sorted(data.students_by_section.get(session.section_id, ())):
            if students[student_id].active and (session_id, student_id) not in data.marks:
                mark = AttendanceMark(
                    institution_id=session.institution_id,
                    session_id=session_id,
                    student_id=student_id,
                    status=status,
                    marked_at=marked_at,
                    marked_by=marked_by,
                    source=source,
                )
                self._own(mark)
                self._write(mark)
                added += 1
        return UnmarkedFilled(added, self.tally(session_id))

    def put_many(self, marks: Sequence[AttendanceMark]) -> None:
        for mark in marks:
            self._own(mark)
            existing = self.find(mark.session_id, mark.student_id)
            version = 0 if existing is None else existing.version + 1
            self._write(dataclasses.replace(mark, version=version))

    def tally(self, session_id: SessionId) -> StatusTally:
        return StatusTally.of(m.status for m in self.list_for_session(session_id))

    def for_student(
        self, student_id: StudentId, session_ids: Iterable[SessionId]
    ) -> Mapping[SessionId, AttendanceMark]:
        marks = self._data.marks
        return {sid: marks[(sid, student_id)] for sid in session_ids if (sid, student_id) in marks}

    def tallies(
        self,
        dates: DateRange,
        *,
        student_id: StudentId | None = None,
        section_id: SectionId | None = None,
    ) -> Mapping[tuple[StudentId, SubjectCode], StatusTally]:
        data = self._data
        pairs: Iterable[tuple[SessionId, StudentId]]
        if student_id is not None:
            pairs = ((sid, student_id) for sid in data.marks_by_student.get(student_id, ()))
        elif section_id is not None:
            pairs = (
                (sid, stid)
                for sid in data.sessions_by_section.get(section_id, ())
                for stid in data.marks_by_session.get(sid, ())
            )
        else:
            pairs = data.marks.keys()
        counts: dict[tuple[StudentId, SubjectCode], list[int]] = {}
        for session_id, stid in pairs:
            session = data.sessions[session_id]
            if session.status is not SessionStatus.COMPLETED or session.date not in dates:
                continue
            status = data.marks[(session_id, stid)].status
            row = counts.setdefault((stid, session.subject_code), [0, 0, 0, 0])
            row[_STATUS_INDEX[status.value]] += 1
        return {key: StatusTally(*row) for key, row in counts.items()}


class InMemoryDeviceBindingRepository(MemoryRepository, DeviceBindingRepository):
    def for_student(self, student_id: StudentId) -> DeviceBinding | None:
        return self._data.bindings.get(student_id)

    def for_device(self, device_id: DeviceId) -> DeviceBinding | None:
        student_id = self._data.devices.get(device_id)
        return None if student_id is None else self._data.bindings.get(student_id)

    def add(self, binding: DeviceBinding) -> None:
        self._own(binding)
        data = self._data
        self._require(data.students, binding.student_id, "student")
        if binding.student_id in data.bindings:
            raise ConflictError("the student already has a device", code="device_mismatch")
        if binding.device_id in data.devices:
            raise ConflictError("the device is bound to another student", code="device_in_use")
        self._log.set(data.bindings, binding.student_id, binding)
        self._log.set(data.devices, binding.device_id, binding.student_id)

    def remove(self, student_id: StudentId) -> bool:
        data = self._data
        binding = data.bindings.get(student_id)
        if binding is None:
            return False
        self._log.delete(data.bindings, student_id)
        self._log.delete(data.devices, binding.device_id)
        return True


class InMemoryCheckInFailureRepository(MemoryRepository, CheckInFailureRepository):
    def failures(self, session_id: SessionId, student_id: StudentId) -> int:
        return self._data.attempts.get((session_id, student_id), 0)

    def record_failure(self, session_id: SessionId, student_id: StudentId) -> FailureCounts:
        data = self._data
        student = data.attempts.get((session_id, student_id), 0) + 1
        session = data.session_attempts.get(session_id, 0) + 1
        self._log.set(data.attempts, (session_id, student_id), student)
        self._log.set(data.session_attempts, session_id, session)
        return FailureCounts(student=student, session=session)

    def reset_session(self, session_id: SessionId) -> None:
        self._log.delete(self._data.session_attempts, session_id)
