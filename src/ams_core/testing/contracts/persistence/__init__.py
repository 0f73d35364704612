"""The contract of :class:`~ams_core.ports.UnitOfWork` and all of its repositories.

Every persistence adapter (memory, SQLAlchemy on SQLite and PostgreSQL, an institution's own)
subclasses :class:`UnitOfWorkContract` and provides one fixture, ``uow_factory``. The tests
speak only through the port, so they check exactly the semantics the port docstrings promise.

The tests are grouped in one mixin per area (``keyed``, ``removal``, ``people``,
``transactions``, ``tenancy``, ``sessions``, ``attendance``, ``outbox``, ``accounts``,
``covers``, ``cover_work``, ``concurrency``); their data builders and case tables are in
``_builders``, ``_cases``, ``_tenants`` and ``_foreign``. Subclass
:class:`UnitOfWorkContract`, which combines them all.
"""

from __future__ import annotations

import pytest

from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.testing.contracts.persistence._builders import (
    EVERYTHING,
    IST,
    T0,
    WEEK,
)
from ams_core.testing.contracts.persistence._tenants import _populate
from ams_core.testing.contracts.persistence.accounts import AccountContract
from ams_core.testing.contracts.persistence.attendance import AttendanceContract
from ams_core.testing.contracts.persistence.concurrency import ConcurrencyContract
from ams_core.testing.contracts.persistence.cover_work import CoverWorkContract
from ams_core.testing.contracts.persistence.covers import CoverContract
from ams_core.testing.contracts.persistence.keyed import KeyedContract
from ams_core.testing.contracts.persistence.outbox import OutboxContract
from ams_core.testing.contracts.persistence.parts import OutboxPartsContract
from ams_core.testing.contracts.persistence.people import PeopleContract
from ams_core.testing.contracts.persistence.relay import OutboxRelayContract
from ams_core.testing.contracts.persistence.removal import RemovalContract
from ams_core.testing.contracts.persistence.sessions import SessionContract
from ams_core.testing.contracts.persistence.tenancy import TenancyContract
from ams_core.testing.contracts.persistence.transactions import TransactionContract

__all__ = [
    "EVERYTHING",
    "IST",
    "T0",
    "WEEK",
    "AccountContract",
    "AttendanceContract",
    "ConcurrencyContract",
    "CoverContract",
    "CoverWorkContract",
    "KeyedContract",
    "OutboxContract",
    "OutboxPartsContract",
    "OutboxRelayContract",
    "PeopleContract",
    "RemovalContract",
    "SessionContract",
    "TenancyContract",
    "TransactionContract",
    "UnitOfWorkContract",
    "UnitOfWorkFactory",
]


class UnitOfWorkContract(
    KeyedContract,
    RemovalContract,
    PeopleContract,
    TransactionContract,
    TenancyContract,
    SessionContract,
    AttendanceContract,
    OutboxContract,
    OutboxRelayContract,
    OutboxPartsContract,
    AccountContract,
    CoverContract,
    CoverWorkContract,
    ConcurrencyContract,
):
    """What every :class:`~ams_core.ports.UnitOfWork` adapter must do.

    Subclass it in a test module whose name pytest collects, with a ``Test`` prefix, and
    override the ``uow_factory`` fixture. The factory is called with no arguments and must
    return a *fresh* unit of work each time; all units of work from one factory share one
    backing store, which must be empty at the start of each test::

        class TestSqliteUnitOfWork(UnitOfWorkContract):
            @pytest.fixture
            def uow_factory(self, tmp_path: Path) -> UnitOfWorkFactory:
                engine = make_engine(f"sqlite:///{tmp_path}/ams.db")
                return lambda: SqlUnitOfWork(engine)

    The class name has no ``Test`` prefix, so pytest collects only subclasses. The tests use
    only the port: seeding through :func:`~ams_core.testing.builders.seed_small_college`,
    then reading back in other units of work. Two tests start threads, each with its own
    unit of work, to check that ``insert_if_absent`` and ``record_failure`` are atomic.
    """

    # -- fixtures -------------------------------------------------------------------------
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        """Override: return a callable making fresh units of work over one empty store."""
        raise NotImplementedError("subclasses of UnitOfWorkContract must define uow_factory")

    @pytest.fixture
    def college(self, uow_factory: UnitOfWorkFactory) -> SmallCollege:
        """Institution ``inst-a`` (domain ``a.edu``), seeded and committed."""
        return seed_small_college(uow_factory())

    @pytest.fixture
    def tenants(self, uow_factory: UnitOfWorkFactory) -> dict[str, SmallCollege]:
        """Institutions ``A`` and ``B``: the same seed ids, plus rows of their own."""
        a = seed_small_college(uow_factory())
        b = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        _populate(uow_factory, a)
        _populate(uow_factory, b)
        return {"A": a, "B": b}
