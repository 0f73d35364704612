"""Contract tests every adapter of a port must pass (see :mod:`ams_core.testing`).

Subclass a contract in your test suite with a ``Test`` prefix and override its fixtures;
each class docstring says which.
"""

import pytest

# Detailed assertion messages for the contract tests, as for tests in your own suite. The
# submodules must be registered before they are imported.
pytest.register_assert_rewrite(
    "ams_core.testing.contracts.clock",
    "ams_core.testing.contracts.jobs",
    "ams_core.testing.contracts.notifier",
    "ams_core.testing.contracts.persistence",
)

from ams_core.testing.contracts.clock import ClockContract, RandomSourceContract  # noqa: E402
from ams_core.testing.contracts.jobs import JobQueueContract, RanJobs  # noqa: E402
from ams_core.testing.contracts.notifier import DeliveredIds, NotifierContract  # noqa: E402
from ams_core.testing.contracts.persistence import UnitOfWorkContract, UnitOfWorkFactory  # noqa: E402
from ams_core.testing.contracts.solver import CoverSolverContract  # noqa: E402

__all__ = [
    "ClockContract",
    "CoverSolverContract",
    "DeliveredIds",
    "JobQueueContract",
    "NotifierContract",
    "RanJobs",
    "RandomSourceContract",
    "UnitOfWorkContract",
    "UnitOfWorkFactory",
]
