"""Repositories of the SQL adapter: explicit statements per aggregate, no ORM.

One module per area (the same areas as :mod:`ams_core.ports.persistence`); what they share
(prebuilt statements, the institution parameter, joined reads, the base classes) is in
:mod:`._base`. Every repository runs its statements through a
:class:`~ams_adapters.sql.transaction.SqlTransaction`.
"""

from ams_adapters.sql.repositories._base import (
    INSTITUTION_ID,
    JoinedEntity,
    KeyedTableRepository,
    SqlRepository,
    one_of,
    prebuilt,
)
from ams_adapters.sql.repositories.accounts import (
    SqlOperatorSignInRepository,
    SqlPasswordCredentialRepository,
    SqlSignInRepository,
)
from ams_adapters.sql.repositories.attendance import (
    SqlCheckInFailureRepository,
    SqlMarkRepository,
)
from ams_adapters.sql.repositories.cover_work import (
    SqlAbsenceRepository,
    SqlCoverNeedRepository,
    SqlCoverOfferRepository,
    SqlCoverPlanRepository,
    SqlSubstitutePreferenceRepository,
)
from ams_adapters.sql.repositories.covers import SqlCoverAssignmentRepository
from ams_adapters.sql.repositories.institutions import SqlInstitutionRepository
from ams_adapters.sql.repositories.messaging import (
    SqlAuditRepository,
    SqlOutboxRepository,
    SqlPushTokenRepository,
    SqlSecurityEventRepository,
)
from ams_adapters.sql.repositories.people import (
    SqlDeviceBindingRepository,
    SqlFacultyRepository,
    SqlSectionRepository,
    SqlStudentRepository,
)
from ams_adapters.sql.repositories.sessions import SqlSessionRepository
from ams_adapters.sql.repositories.teaching import (
    SqlAssignmentRepository,
    SqlHolidayRepository,
    SqlSlotRepository,
    SqlSubjectRepository,
    SqlTermRepository,
)

__all__ = [
    "INSTITUTION_ID",
    "JoinedEntity",
    "KeyedTableRepository",
    "SqlAbsenceRepository",
    "SqlAssignmentRepository",
    "SqlAuditRepository",
    "SqlCheckInFailureRepository",
    "SqlCoverAssignmentRepository",
    "SqlCoverNeedRepository",
    "SqlCoverOfferRepository",
    "SqlCoverPlanRepository",
    "SqlDeviceBindingRepository",
    "SqlFacultyRepository",
    "SqlHolidayRepository",
    "SqlInstitutionRepository",
    "SqlMarkRepository",
    "SqlOperatorSignInRepository",
    "SqlOutboxRepository",
    "SqlPasswordCredentialRepository",
    "SqlPushTokenRepository",
    "SqlRepository",
    "SqlSectionRepository",
    "SqlSecurityEventRepository",
    "SqlSessionRepository",
    "SqlSignInRepository",
    "SqlSlotRepository",
    "SqlStudentRepository",
    "SqlSubjectRepository",
    "SqlSubstitutePreferenceRepository",
    "SqlTermRepository",
    "one_of",
    "prebuilt",
]
