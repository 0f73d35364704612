"""Part of the persistence contract. Cover assignments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ams_core.domain import (
    ConflictError,
    CoverAssignment,
    CoverId,
    FacultyId,
    SessionId,
)
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    _FAR_FUTURE,
    _FAR_PAST,
    IST,
    T0,
    _cover,
)


class CoverContract(ContractHelpers):
    """Cover assignments."""

    # -- covers ------------------------------------------------------------------------------
    def test_covers_keep_every_field_and_are_found_by_session_and_substitute(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        nine = datetime(2026, 11, 16, 9, 0, tzinfo=IST)
        monday = CoverAssignment(
            id=CoverId("C-1"),
            institution_id=c.id,
            session_id=SessionId("S-1"),
            substitute_id=c.bob.id,
            starts_at=nine,
            ends_at=nine + timedelta(minutes=50),
            booked_at=datetime(2026, 11, 15, 18, 30, 12, 345678, tzinfo=UTC),
        )
        tuesday = _cover(c, "C-0", "S-3", c.bob.id, nine + timedelta(days=1))
        by_alice = _cover(c, "C-2", "S-2", c.alice.id, nine + timedelta(hours=1))
        with uow_factory().for_institution(c.id) as uow:
            for cover in (tuesday, monday, by_alice):
                uow.covers.add(cover)
            uow.commit()
        week_start = datetime(2026, 11, 16, tzinfo=UTC)
        with uow_factory().for_institution(c.id) as uow:
            covers = uow.covers
            assert covers.find(monday.id) == monday
            assert covers.find(CoverId("C-404")) is None
            assert covers.for_session(SessionId("S-1")) == monday
            assert covers.for_session(SessionId("S-4")) is None
            week = (week_start, week_start + timedelta(days=7))
            assert list(covers.list_for_substitute(c.bob.id, *week)) == [monday, tuesday]
            assert list(covers.list_for_substitute(c.alice.id, *week)) == [by_alice]
            assert list(covers.list_for_substitute(FacultyId("F404"), *week)) == []
            # [start, end) overlaps: touching ends do not count
            end = monday.ends_at
            assert list(covers.list_for_substitute(c.bob.id, end, end + timedelta(hours=2))) == []
            assert list(covers.list_for_substitute(c.bob.id, nine - timedelta(hours=1), nine)) == []
            minute = timedelta(minutes=1)
            assert list(covers.list_for_substitute(c.bob.id, end - minute, end)) == [monday]
            assert list(covers.list_for_substitute(c.bob.id, nine, nine + minute)) == [monday]
            stored = covers.find(monday.id)
            assert stored is not None
            assert stored.starts_at.utcoffset() is not None

    def test_a_cover_id_a_session_and_a_substitutes_time_are_taken_once(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        first = _cover(c, "C-1", "S-1", c.bob.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            uow.covers.add(first)
            uow.commit()
        same_id = _cover(c, "C-1", "S-3", c.alice.id, T0 + timedelta(days=1))
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.covers.add(same_id)
        covered = _cover(c, "C-2", "S-1", c.alice.id, T0)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.covers.add(covered)
        assert error.value.code == "session_already_covered"
        overlapping = _cover(c, "C-3", "S-2", c.bob.id, T0 + timedelta(minutes=59))
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.covers.add(overlapping)
        assert error.value.code == "substitute_double_booked"
        inside = _cover(c, "C-4", "S-4", c.bob.id, T0 + timedelta(minutes=10), minutes=20)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.covers.add(inside)
        assert error.value.code == "substitute_double_booked"
        touching = _cover(c, "C-5", "S-2", c.bob.id, T0 + timedelta(minutes=60))
        same_time_other_teacher = _cover(c, "C-6", "S-4", c.alice.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            uow.covers.add(touching)
            uow.covers.add(same_time_other_teacher)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            span = (T0 - timedelta(days=1), T0 + timedelta(days=1))
            assert list(uow.covers.list_for_substitute(c.bob.id, *span)) == [first, touching]
            assert uow.covers.find(CoverId("C-3")) is None
            assert uow.covers.for_session(SessionId("S-4")) == same_time_other_teacher

    def test_removing_a_cover_frees_the_session_and_the_substitute(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        first = _cover(c, "C-1", "S-1", c.bob.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            uow.covers.add(first)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.covers.remove(first.id) is True
        with uow_factory().for_institution(c.id) as uow:
            assert uow.covers.find(first.id) == first  # the removal was not committed
            assert uow.covers.remove(CoverId("C-404")) is False
            assert uow.covers.remove(first.id) is True
            assert uow.covers.remove(first.id) is False
            assert uow.covers.for_session(SessionId("S-1")) is None
            again = _cover(c, "C-2", "S-1", c.alice.id, T0)
            moved = _cover(c, "C-3", "S-2", c.bob.id, T0 + timedelta(minutes=30))
            uow.covers.add(again)
            uow.covers.add(moved)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.covers.find(first.id) is None
            assert uow.covers.for_session(SessionId("S-1")) == again
            span = (T0 - timedelta(days=1), T0 + timedelta(days=1))
            assert list(uow.covers.list_for_substitute(c.bob.id, *span)) == [moved]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_covers(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.covers.find(CoverId(f"C-{other}")) is None
            assert uow.covers.for_session(SessionId(f"S-{other}-NEXT")) is None
            shared = uow.covers.for_session(SessionId("S-SHARED"))
            assert shared == _cover(mine, "C-SHARED", "S-SHARED", mine.bob.id, T0)
            assert uow.covers.find(CoverId("C-SHARED")) == shared
            span = (_FAR_PAST, _FAR_FUTURE)
            assert list(uow.covers.list_for_substitute(mine.bob.id, *span)) == [shared]
            assert list(uow.covers.list_for_substitute(FacultyId(f"F{other}"), *span)) == []
            assert [c.id for c in uow.covers.list_for_substitute(FacultyId(f"F{me}"), *span)] == [
                f"C-{me}"
            ]
            # the other tenant's bookings never block this one's substitutes
            uow.covers.add(_cover(mine, "C-FREE", f"S-{me}-OPEN", FacultyId(f"F{me}"), T0))
            uow.commit()
