"""Platform operators' access tokens: recorded when minted, so they can be listed and
revoked before they expire.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ams_core.domain.accounts import (
    OperatorSignIn,
)
from ams_core.domain.errors import (
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import SignInId
from ams_core.domain.people import fold_email
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.identity import (
    AccessTokens,
)
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases.revocations import RevocationCache


def _require_operator(actor: Principal) -> None:
    if not actor.has(Role.PLATFORM_OPERATOR):
        raise PermissionDeniedError("only a platform operator may manage operator tokens")


@dataclass(frozen=True, slots=True)
class OperatorToken:
    """An access token for a platform operator (no institution) and its recorded sign-in,
    whose id the token names (``principal.sign_in_id``).
    """

    access_token: str
    expires_in: int
    principal: Principal = field(compare=False)
    sign_in: OperatorSignIn = field(compare=False)


@dataclass(frozen=True, slots=True)
class IssueOperatorTokenCommand:
    """The operator the token is for (their email; not checked against any institution)."""

    email: str


class IssueOperatorToken:
    """Mint a platform-operator access token and record it, so it can be revoked.

    For the ``ams token --operator`` command; never exposed over HTTP (whoever runs the
    command holds the signing key anyway). The record expires with the token.
    """

    def __init__(
        self, uow: UnitOfWork, tokens: AccessTokens, clock: Clock, random: RandomSource
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock
        self._random = random

    def __call__(self, command: IssueOperatorTokenCommand) -> OperatorToken:
        """Issue the token and record its sign-in.

        Raises:
            ValidationError: the email is empty.
        """
        email = fold_email(command.email)
        if not email:
            raise ValidationError([FieldProblem("email", "give the operator's email")])
        now = self._clock.now()
        sign_in_id = SignInId(self._random.new_id())
        principal = Principal(
            email=email,
            roles=frozenset({Role.PLATFORM_OPERATOR}),
            sign_in_id=sign_in_id,
        )
        issued = self._tokens.issue(principal, now)
        sign_in = OperatorSignIn(sign_in_id, email, issued_at=now, expires_at=issued.expires_at)
        with self._uow.for_platform() as uow:
            uow.operator_sign_ins.add(sign_in)
            uow.commit()
        return OperatorToken(issued.token, issued.expires_in, principal, sign_in)


@dataclass(frozen=True, slots=True)
class RevokeOperatorTokensCommand:
    """Which platform-operator tokens to revoke: exactly one of ``sign_in_id`` (one
    token), ``email`` (every active token of one operator) or ``everyone`` (all of them).
    """

    actor: Principal
    sign_in_id: SignInId | None = None
    email: str | None = None
    everyone: bool = False


@dataclass(frozen=True, slots=True)
class RevokeOperatorTokensResult:
    """The tokens that were active and now are revoked (already revoked or expired ones
    are not counted).
    """

    revoked: tuple[OperatorSignIn, ...]


class RevokeOperatorTokens:
    """End platform-operator tokens: in this process at once, in others within the
    revocation cache's refresh (a few seconds).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: RevocationCache) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations

    def __call__(self, command: RevokeOperatorTokensCommand) -> RevokeOperatorTokensResult:
        """Revoke the tokens the command names.

        Raises:
            PermissionDeniedError: the actor is not a platform operator.
            ValidationError: not exactly one of ``sign_in_id``, ``email``, ``everyone``.
            NotFoundError: ``operator_token_not_found``: no token has that id.
        """
        _require_operator(command.actor)
        chosen = (command.sign_in_id is not None) + (command.email is not None) + command.everyone
        if chosen != 1:
            raise ValidationError(
                [FieldProblem("scope", "name one token, one operator's email, or everyone")]
            )
        now = self._clock.now()
        with self._uow.for_platform() as uow:
            repository = uow.operator_sign_ins
            if command.sign_in_id is not None:
                found = repository.find(command.sign_in_id)
                if found is None:
                    raise NotFoundError("operator_token", command.sign_in_id)
                ended = [found] if repository.revoke(found.id, now) else []
            elif command.email is not None:
                email = fold_email(command.email)
                mine = [s for s in repository.list_active(now) if s.email == email]
                ended = [s for s in mine if repository.revoke(s.id, now)]
            else:
                ended = list(repository.list_active(now))
                repository.revoke_all(now)
            uow.commit()
        for sign_in in ended:
            self._revocations.add(None, sign_in.id)
        return RevokeOperatorTokensResult(tuple(s.revoked(now) for s in ended))


@dataclass(frozen=True, slots=True)
class ListOperatorTokensCommand:
    """A platform operator asks which operator tokens still work."""

    actor: Principal


class ListOperatorTokens:
    """The platform-operator tokens neither revoked nor expired, oldest first."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: ListOperatorTokensCommand) -> tuple[OperatorSignIn, ...]:
        """List the active tokens' records (never the tokens themselves).

        Raises:
            PermissionDeniedError: the actor is not a platform operator.
        """
        _require_operator(command.actor)
        with self._uow.for_platform() as uow:
            return tuple(uow.operator_sign_ins.list_active(self._clock.now()))
