"""Creating institutions (platform operators)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ams_core.domain.errors import FieldProblem, PermissionDeniedError, ValidationError
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import FacultyId, InstitutionId
from ams_core.domain.institution import Institution, InstitutionSettings
from ams_core.domain.people import Faculty, normalise_email
from ams_core.ports.clock import RandomSource
from ams_core.ports.persistence import UnitOfWork


@dataclass(frozen=True, slots=True)
class CreateInstitutionCommand:
    """Create a tenant with its timezone and Google email domains."""

    actor: Principal
    name: str
    timezone: str
    email_domains: Iterable[str]
    settings: InstitutionSettings = field(default_factory=InstitutionSettings)
    institution_id: InstitutionId | None = None
    admin_email: str | None = None
    admin_name: str = "Administrator"


class CreateInstitution:
    """Create an institution; an email domain can belong to only one institution.

    With ``admin_email`` the first administrator is registered too (as a faculty member
    with the admin role and no teaching), so they can sign in straight away.
    """

    def __init__(self, uow: UnitOfWork, random: RandomSource) -> None:
        self._uow = uow
        self._random = random

    def __call__(self, command: CreateInstitutionCommand) -> Institution:
        """Validate and store the institution, returning it.

        Raises:
            PermissionDeniedError: the actor is not a platform operator.
            ValidationError: empty name, unknown timezone, malformed or no domain.
            ConflictError: the id or a domain is taken.
        """
        if not command.actor.has(Role.PLATFORM_OPERATOR):
            raise PermissionDeniedError("only a platform operator may create institutions")
        domains = frozenset(d.strip().lower() for d in command.email_domains if d.strip())
        if not domains:
            raise ValidationError([FieldProblem("email_domains", "give at least one domain")])
        institution = Institution(
            id=command.institution_id or InstitutionId(self._random.new_id()),
            name=command.name.strip(),
            timezone=command.timezone,
            email_domains=domains,
            settings=command.settings,
        )
        admin = None
        if command.admin_email is not None:
            email = normalise_email(command.admin_email)
            if email.rpartition("@")[2] not in domains:
                raise ValidationError(
                    [FieldProblem("admin_email", "must be in one of the institution's domains")]
                )
            admin = Faculty(
                FacultyId("ADMIN-" + self._random.new_id()[:8]),
                institution.id,
                command.admin_name,
                email,
                "ADMINISTRATION",
                is_admin=True,
            )
        with self._uow.for_platform() as uow:
            uow.institutions.add(institution)
            uow.commit()
        if admin is not None:
            with self._uow.for_institution(institution.id) as uow:
                uow.faculty.add(admin)
                uow.commit()
        return institution
