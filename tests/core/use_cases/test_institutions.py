"""CreateInstitution: platform operators create tenants (PRODUCT.md §2.1)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import pytest

from ams_adapters.memory import InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    ConflictError,
    Institution,
    InstitutionId,
    InstitutionSettings,
    PermissionDeniedError,
    Principal,
    ValidationError,
)
from ams_core.testing.builders import OPERATOR, SmallCollege
from ams_core.use_cases import CreateInstitution, CreateInstitutionCommand


@pytest.fixture
def create(uow: InMemoryUnitOfWork, random_source: SeededRandomSource) -> CreateInstitution:
    return CreateInstitution(uow, random_source)


def stored(uow: InMemoryUnitOfWork) -> list[Institution]:
    with uow.for_platform() as tx:
        return list(tx.institutions.list())


def command(
    actor: Principal = OPERATOR,
    *,
    name: str = "Nuzvid Campus",
    timezone: str = "Asia/Kolkata",
    domains: Iterable[str] = ("rguktn.ac.in",),
    institution_id: str | None = None,
    settings: InstitutionSettings | None = None,
) -> CreateInstitutionCommand:
    return CreateInstitutionCommand(
        actor,
        name,
        timezone,
        domains,
        settings or InstitutionSettings(),
        InstitutionId(institution_id) if institution_id else None,
    )


def test_a_platform_operator_creates_an_institution(
    create: CreateInstitution, uow: InMemoryUnitOfWork
) -> None:
    settings = InstitutionSettings(attendance_threshold=Decimal(80))

    institution = create(
        command(
            name="  Nuzvid Campus ",
            domains=[" RGUKTN.ac.in ", "students.rguktn.ac.in", ""],
            settings=settings,
        )
    )

    assert institution.name == "Nuzvid Campus"
    assert institution.email_domains == frozenset({"rguktn.ac.in", "students.rguktn.ac.in"})
    assert institution.settings == settings
    assert institution.id
    assert stored(uow) == [institution]
    with uow.for_platform() as tx:
        assert tx.institutions.find_by_domain("students.rguktn.ac.in") == institution


def test_the_operator_may_choose_the_institutions_id(
    create: CreateInstitution, uow: InMemoryUnitOfWork
) -> None:
    institution = create(command(institution_id="rgukt-nuzvid"))

    assert institution.id == "rgukt-nuzvid"
    assert [i.id for i in stored(uow)] == ["rgukt-nuzvid"]


def test_only_a_platform_operator_may_create_an_institution(
    create: CreateInstitution, uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    for actor in (college.admin, college.as_alice(), college.as_student()):
        with pytest.raises(PermissionDeniedError):
            create(command(actor))

    assert stored(uow) == [college.institution]


def test_a_domain_that_belongs_to_another_institution_is_refused(
    create: CreateInstitution, uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    with pytest.raises(ConflictError) as error:
        create(command(domains=["new.edu", "A.EDU"]))

    assert error.value.code == "domain_taken"
    assert stored(uow) == [college.institution]
    with uow.for_platform() as tx:
        assert tx.institutions.find_by_domain("new.edu") is None


def test_an_id_that_is_taken_is_refused(
    create: CreateInstitution, uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    with pytest.raises(ConflictError):
        create(command(institution_id=college.id, domains=["new.edu"]))

    assert stored(uow) == [college.institution]


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "", "IST+5:30"])
def test_an_unknown_timezone_is_refused(
    create: CreateInstitution, uow: InMemoryUnitOfWork, timezone: str
) -> None:
    with pytest.raises(ValidationError) as error:
        create(command(timezone=timezone))

    assert [p.field for p in error.value.problems] == ["timezone"]
    assert stored(uow) == []


@pytest.mark.parametrize("domains", [(), ("",), ("  ", "")])
def test_an_institution_without_an_email_domain_is_refused(
    create: CreateInstitution, uow: InMemoryUnitOfWork, domains: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as error:
        create(command(domains=domains))

    assert [p.field for p in error.value.problems] == ["email_domains"]
    assert stored(uow) == []


@pytest.mark.parametrize("domain", ["localhost", "user@college.edu"])
def test_a_malformed_domain_is_refused(
    create: CreateInstitution, uow: InMemoryUnitOfWork, domain: str
) -> None:
    with pytest.raises(ValidationError) as error:
        create(command(domains=[domain]))

    assert [p.field for p in error.value.problems] == ["email_domains"]
    assert stored(uow) == []


def test_an_empty_name_is_refused(create: CreateInstitution, uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(ValidationError) as error:
        create(command(name="   "))

    assert [p.field for p in error.value.problems] == ["name"]
    assert stored(uow) == []
