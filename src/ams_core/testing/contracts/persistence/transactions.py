"""Part of the persistence contract. Commit, rollback and what other units of work see before a
commit.
"""

from __future__ import annotations

from datetime import date

import pytest

from ams_core.domain import (
    AttendanceStatus,
    Holiday,
    Section,
    SectionId,
    SessionId,
)
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    _mark,
)
from ams_core.testing.contracts.persistence._tenants import (
    _tenant_view,
    _write_everything,
)


class TransactionContract(ContractHelpers):
    """Commit, rollback and what other units of work see before a commit."""

    # -- transactions -----------------------------------------------------------------------
    def test_commit_makes_every_write_visible_to_other_units_of_work(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        with uow_factory().for_institution(b.id) as uow:
            b_before = _tenant_view(uow, b)
        with uow_factory().for_institution(a.id) as uow:
            before = _tenant_view(uow, a)
            _write_everything(uow, a)
            inside = _tenant_view(uow, a)  # a transaction sees its own writes
            uow.commit()
        assert [name for name in before if before[name] == inside[name]] == []
        with uow_factory().for_institution(a.id) as uow:
            after = _tenant_view(uow, a)
        assert after == inside
        with uow_factory().for_institution(b.id) as uow:
            assert _tenant_view(uow, b) == b_before

    def test_leaving_the_block_without_commit_rolls_back_every_write(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        before = self._views(uow_factory, tenants)
        with uow_factory().for_institution(a.id) as uow:
            _write_everything(uow, a)
        assert self._views(uow_factory, tenants) == before

    def test_an_exception_in_the_block_rolls_back_every_write(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        before = self._views(uow_factory, tenants)

        class BoomError(Exception):
            pass

        with pytest.raises(BoomError), uow_factory().for_institution(a.id) as uow:
            _write_everything(uow, a)
            raise BoomError
        assert self._views(uow_factory, tenants) == before

    def test_rollback_discards_the_writes_so_far_and_the_transaction_goes_on(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        with uow_factory().for_institution(a.id) as uow:
            before = _tenant_view(uow, a)
            _write_everything(uow, a)
            uow.rollback()
            assert _tenant_view(uow, a) == before
            uow.sections.add(Section(SectionId("AFTER"), a.id, 1, "CSE", "Z"))
            uow.commit()
        with uow_factory().for_institution(a.id) as uow:
            after = _tenant_view(uow, a)
            assert uow.sections.find(SectionId("AFTER")) is not None
        changed = sorted(name for name in before if before[name] != after[name])
        assert changed == ["ids in section", "sections", "students by section"]

    def test_only_what_was_committed_survives_the_block(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        for fail in (False, True):
            with uow_factory().for_institution(a.id) as uow:
                uow.holidays.add(Holiday(a.id, date(2027, 1, 26 if fail else 1), "kept"))
                uow.commit()
                committed = _tenant_view(uow, a)
                uow.sections.add(Section(SectionId("LATE"), a.id, 1, "CSE", "L"))
                uow.marks.put_many([_mark(a, "S-SHARED", a.students[0], AttendanceStatus.EXCUSED)])
                uow.code_failures.record_failure(SessionId("S-SHARED"), a.students[0].id)
                if fail:
                    with pytest.raises(ZeroDivisionError):
                        _ = 1 / 0
            with uow_factory().for_institution(a.id) as uow:
                assert _tenant_view(uow, a) == committed
                assert uow.sections.find(SectionId("LATE")) is None

    def test_a_unit_of_work_can_run_one_transaction_after_another(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        uow = uow_factory()
        with uow.for_institution(a.id):
            uow.sections.add(Section(SectionId("FIRST"), a.id, 1, "CSE", "F"))
            uow.commit()
        with uow.for_institution(b.id):
            assert uow.sections.find(SectionId("FIRST")) is None
            uow.sections.add(Section(SectionId("SECOND"), b.id, 1, "CSE", "S"))
        with uow.for_platform():
            assert [i.id for i in uow.institutions.list()] == [a.id, b.id]
        with uow.for_institution(b.id):
            assert uow.sections.find(SectionId("SECOND")) is None
        with uow.for_institution(a.id):
            assert uow.sections.find(SectionId("FIRST")) is not None
