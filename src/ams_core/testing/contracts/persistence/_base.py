"""The base of the persistence contract mixins: the helpers several of them use."""

from __future__ import annotations

from datetime import time

from ams_core.domain import ClassSession
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._builders import (
    _day,
    _session,
)
from ams_core.testing.contracts.persistence._tenants import (
    _platform_view,
    _tenant_view,
)


class ContractHelpers:
    """Helpers the contract mixins share: adding sessions, and what every scope sees."""

    def _views(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> dict[str, dict[str, object]]:
        views: dict[str, dict[str, object]] = {}
        for tag, college in tenants.items():
            with uow_factory().for_institution(college.id) as uow:
                views[tag] = _tenant_view(uow, college)
        with uow_factory().for_platform() as uow:
            views["platform"] = _platform_view(uow)
        return views

    def _add_sessions(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, *sessions: ClassSession
    ) -> None:
        with uow_factory().for_institution(college.id) as uow:
            uow.sessions.add_many(list(sessions))
            uow.commit()

    def _cover_sessions(self, uow_factory: UnitOfWorkFactory, college: SmallCollege) -> None:
        c = college
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-1", c.alice_cs_a, MONDAY),
            _session(c, "S-2", c.bob_ma_a, MONDAY, time(10)),
            _session(c, "S-3", c.alice_cs_a, _day(1)),
            _session(c, "S-4", c.bob_cs_b, MONDAY),
        )
