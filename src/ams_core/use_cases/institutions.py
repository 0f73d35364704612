"""Creating institutions (platform operators)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ams_core.domain.errors import FieldProblem, PermissionDeniedError, ValidationError
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import InstitutionId
from ams_core.domain.institution import Institution, InstitutionSettings
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


class CreateInstitution:
    """Create an institution; an email domain can belong to only one institution."""

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
        with self._uow.for_platform() as uow:
            uow.institutions.add(institution)
            uow.commit()
        return institution
