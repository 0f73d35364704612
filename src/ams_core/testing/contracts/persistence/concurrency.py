"""Part of the persistence contract. Racing units of work: atomic inserts and counters."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from ams_core.domain import (
    AttendanceMark,
    AttendanceStatus,
    ConflictError,
    CoverAssignment,
    PasswordCredential,
    PasswordPolicy,
    SessionId,
)
from ams_core.ports import FailureCounts, UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    _FAR_FUTURE,
    _FAR_PAST,
    T0,
    _cover,
    _mark,
    _password,
    _session,
)


class ConcurrencyContract(ContractHelpers):
    """Racing units of work: atomic inserts and counters."""

    # -- concurrency ------------------------------------------------------------------------------
    def test_racing_inserts_of_one_mark_have_exactly_one_winner(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0 = college, college.students[0]
        self._add_sessions(uow_factory, c, _session(c, "S-RACE", c.alice_cs_a, MONDAY))
        statuses = list(AttendanceStatus)
        barrier = threading.Barrier(len(statuses))

        def attempt(status: AttendanceStatus) -> tuple[AttendanceMark, bool]:
            uow = uow_factory()
            barrier.wait(timeout=30)
            with uow.for_institution(c.id):
                result = uow.marks.insert_if_absent(_mark(c, "S-RACE", st0, status))
                uow.commit()
            return result

        with ThreadPoolExecutor(max_workers=len(statuses)) as pool:
            results = list(pool.map(attempt, statuses))
        winners = [mark for mark, inserted in results if inserted]
        assert len(winners) == 1
        assert [mark for mark, _ in results] == [winners[0]] * len(statuses)
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(SessionId("S-RACE"))) == winners

    def test_concurrent_wrong_codes_are_all_counted(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0 = college, college.students[0].id
        sid = SessionId("S-RACE")
        self._add_sessions(uow_factory, c, _session(c, sid, c.alice_cs_a, MONDAY))
        workers, rounds = 4, 5
        barrier = threading.Barrier(workers)

        def hammer(_: int) -> list[FailureCounts]:
            uow = uow_factory()
            barrier.wait(timeout=30)
            seen = []
            for _round in range(rounds):
                with uow.for_institution(c.id):
                    seen.append(uow.code_failures.record_failure(sid, st0))
                    uow.commit()
            return seen

        with ThreadPoolExecutor(max_workers=workers) as pool:
            seen = [counts for batch in pool.map(hammer, range(workers)) for counts in batch]
        total = workers * rounds
        assert sorted(counts.student for counts in seen) == list(range(1, total + 1))
        with uow_factory().for_institution(c.id) as uow:
            assert uow.code_failures.failures(sid, st0) == total
            assert uow.code_failures.record_failure(sid, st0) == FailureCounts(total + 1, total + 1)

    _REHASHED = "$argon2id$rehashed"

    def test_racing_wrong_passwords_are_all_counted_and_the_last_one_locks(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, policy = college, PasswordPolicy(max_failures=5)
        with uow_factory().for_institution(c.id) as uow:
            uow.passwords.put(_password(c, "racer@a.edu"))
            uow.passwords.put(_password(c, "almost@a.edu"))
            uow.commit()

        def race(email: str, count: int) -> list[PasswordCredential | None]:
            barrier = threading.Barrier(count)

            def fail(_: int) -> PasswordCredential | None:
                uow = uow_factory()
                barrier.wait(timeout=30)
                with uow.for_institution(c.id):
                    counted = uow.passwords.record_failure(email, T0, policy)
                    uow.commit()
                return counted

            with ThreadPoolExecutor(max_workers=count) as pool:
                return list(pool.map(fail, range(count)))

        almost = race("almost@a.edu", policy.max_failures - 1)
        assert sorted(x.failed_attempts for x in almost if x) == [1, 2, 3, 4]
        racing = race("racer@a.edu", 4 * policy.max_failures)
        counted = [x for x in racing if x is not None]
        assert len(counted) == len(racing)
        unlocked = sorted(x.failed_attempts for x in counted if x.locked_until is None)
        assert unlocked == list(range(1, policy.max_failures))
        assert all(x.locked_until == T0 + policy.lockout for x in counted if x.locked_until)
        with uow_factory().for_institution(c.id) as uow:
            locked = uow.passwords.find("racer@a.edu")
            assert locked is not None
            assert (locked.failed_attempts, locked.locked_until) == (0, T0 + policy.lockout)
            # exactly max_failures counted: the rest met the lock and left it as it was
            assert locked.version == policy.max_failures
            assert not uow.passwords.record_success("racer@a.edu", T0 + timedelta(minutes=1))
            assert uow.passwords.find("racer@a.edu") == locked
            assert uow.passwords.record_failure("nobody@a.edu", T0, policy) is None
            assert not uow.passwords.record_success("nobody@a.edu", T0)
            still = uow.passwords.find("almost@a.edu")
            assert still is not None
            assert (still.failed_attempts, still.locked_until) == (4, None)
            assert uow.passwords.record_success("almost@a.edu", T0, self._REHASHED)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            cleared = uow.passwords.find("almost@a.edu")
            assert cleared == dataclasses.replace(
                still, failed_attempts=0, password_hash=self._REHASHED, version=5
            )
            after_lock = T0 + policy.lockout
            assert uow.passwords.record_success("racer@a.edu", after_lock)
            found = uow.passwords.find("racer@a.edu")
            assert found is not None
            assert (found.failed_attempts, found.locked_until) == (0, None)

    def test_racing_overlapping_covers_store_exactly_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        bookings = [
            _cover(c, f"C-{n}", f"S-{n + 1}", c.bob.id, T0 + timedelta(minutes=10 * n))
            for n in range(4)
        ]
        barrier = threading.Barrier(len(bookings))

        def book(cover: CoverAssignment) -> bool:
            uow = uow_factory()
            barrier.wait(timeout=30)
            try:
                with uow.for_institution(c.id):
                    uow.covers.add(cover)
                    uow.commit()
            except ConflictError as error:
                # a loser may instead be the victim of a deadlock the database broke
                # between racing bookings: ConcurrencyError, "try again"
                assert error.code in ("substitute_double_booked", "concurrent_update")
                return False
            return True

        with ThreadPoolExecutor(max_workers=len(bookings)) as pool:
            booked = list(pool.map(book, bookings))
        assert booked.count(True) == 1
        winner = bookings[booked.index(True)]
        with uow_factory().for_institution(c.id) as uow:
            span = (_FAR_PAST, _FAR_FUTURE)
            assert list(uow.covers.list_for_substitute(c.bob.id, *span)) == [winner]
