"""Repositories of the memory adapter (stdlib only), one module per area.

Each repository takes the :class:`~ams_adapters.memory.transaction.MemoryTransaction` it
works in; ``_base`` holds what they share.
"""

from ams_adapters.memory.repositories.accounts import (
    InMemoryOperatorSignInRepository,
    InMemoryPasswordCredentialRepository,
    InMemorySignInRepository,
)
from ams_adapters.memory.repositories.attendance import (
    InMemoryCheckInFailureRepository,
    InMemoryDeviceBindingRepository,
    InMemoryMarkRepository,
)
from ams_adapters.memory.repositories.cover_work import (
    InMemoryAbsenceRepository,
    InMemoryCoverNeedRepository,
    InMemoryCoverOfferRepository,
    InMemoryCoverPlanRepository,
    InMemorySubstitutePreferenceRepository,
)
from ams_adapters.memory.repositories.covers import InMemoryCoverAssignmentRepository
from ams_adapters.memory.repositories.institutions import (
    InMemoryHolidayRepository,
    InMemoryInstitutionRepository,
)
from ams_adapters.memory.repositories.messaging import (
    InMemoryAuditRepository,
    InMemoryOutboxRepository,
    InMemoryPushTokenRepository,
    InMemorySecurityEventRepository,
)
from ams_adapters.memory.repositories.people import (
    InMemoryFacultyRepository,
    InMemorySectionRepository,
    InMemoryStudentRepository,
)
from ams_adapters.memory.repositories.sessions import InMemorySessionRepository
from ams_adapters.memory.repositories.teaching import (
    InMemoryAssignmentRepository,
    InMemorySlotRepository,
    InMemorySubjectRepository,
    InMemoryTermRepository,
)

__all__ = [
    "InMemoryAbsenceRepository",
    "InMemoryAssignmentRepository",
    "InMemoryAuditRepository",
    "InMemoryCheckInFailureRepository",
    "InMemoryCoverAssignmentRepository",
    "InMemoryCoverNeedRepository",
    "InMemoryCoverOfferRepository",
    "InMemoryCoverPlanRepository",
    "InMemoryDeviceBindingRepository",
    "InMemoryFacultyRepository",
    "InMemoryHolidayRepository",
    "InMemoryInstitutionRepository",
    "InMemoryMarkRepository",
    "InMemoryOperatorSignInRepository",
    "InMemoryOutboxRepository",
    "InMemoryPasswordCredentialRepository",
    "InMemoryPushTokenRepository",
    "InMemorySectionRepository",
    "InMemorySecurityEventRepository",
    "InMemorySessionRepository",
    "InMemorySignInRepository",
    "InMemorySlotRepository",
    "InMemoryStudentRepository",
    "InMemorySubjectRepository",
    "InMemorySubstitutePreferenceRepository",
    "InMemoryTermRepository",
]
