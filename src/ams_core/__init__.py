"""AMS core: the attendance domain, its ports and use cases, with no third-party imports.

The stable surface for library users is re-exported here and from
:mod:`ams_core.domain`, :mod:`ams_core.ports` and :mod:`ams_core.use_cases`.
"""

from ams_core import domain, ports, use_cases
from ams_core.domain import (
    AmsError,
    CheckInRefusal,
    CheckInRefusedError,
    ConcurrencyError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Principal,
    Role,
    UnavailableError,
    ValidationError,
)
from ams_core.ports import Clock, Notifier, RandomSource, UnitOfWork

__version__ = "0.1.0"

__all__ = [
    "AmsError",
    "CheckInRefusal",
    "CheckInRefusedError",
    "Clock",
    "ConcurrencyError",
    "ConflictError",
    "NotFoundError",
    "Notifier",
    "PermissionDeniedError",
    "Principal",
    "RandomSource",
    "Role",
    "UnavailableError",
    "UnitOfWork",
    "ValidationError",
    "__version__",
    "domain",
    "ports",
    "use_cases",
]
