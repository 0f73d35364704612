"""The SQL adapter on PostgreSQL, as the row-level-security-bound app login, against the
unit-of-work contract."""

from __future__ import annotations

import pytest

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.testing.contracts import UnitOfWorkContract, UnitOfWorkFactory
from tests.sql.conftest import PostgresDatabase

pytestmark = pytest.mark.postgres


class TestPostgresUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow_factory(self, pg: PostgresDatabase) -> UnitOfWorkFactory:
        return lambda: SqlUnitOfWork(pg.app)
