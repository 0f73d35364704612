"""The SQL adapter on SQLite (the embedded default) against the unit-of-work contract."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.testing.contracts import UnitOfWorkContract, UnitOfWorkFactory


class TestSqliteUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow_factory(self, sqlite_engine: Engine) -> UnitOfWorkFactory:
        return lambda: SqlUnitOfWork(sqlite_engine)
