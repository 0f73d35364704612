"""Platform-operator tokens: recorded when minted, refused once revoked (one, one operator's,
or all), in this process at once and in others after the revocation cache's refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    AuthenticationError,
    NotFoundError,
    OperatorSignIn,
    PermissionDeniedError,
    Principal,
    Role,
    SignInId,
    ValidationError,
)
from ams_core.testing.builders import OPERATOR, SmallCollege, admin_principal
from ams_core.use_cases import (
    Authenticate,
    IssueOperatorToken,
    IssueOperatorTokenCommand,
    ListOperatorTokens,
    ListOperatorTokensCommand,
    OperatorToken,
    RevocationCache,
    RevokeOperatorTokens,
    RevokeOperatorTokensCommand,
    SignOut,
    SignOutCommand,
)
from tests.core.use_cases.identity_fakes import PlainAccessTokens

LOOKBACK = timedelta(minutes=15)
REFRESH = timedelta(seconds=5)


class Process:
    """One AMS process: its own revocation cache over the shared store."""

    def __init__(self, uow: InMemoryUnitOfWork, clock: FixedClock, tokens: PlainAccessTokens):
        self.uow = InMemoryUnitOfWork(uow.store)
        self.clock = clock
        self.tokens = tokens
        self.revocations = RevocationCache(
            lambda: InMemoryUnitOfWork(uow.store), clock, lookback=LOOKBACK, refresh_every=REFRESH
        )
        self.authenticate = Authenticate(tokens, self.revocations)
        self.issue = IssueOperatorToken(self.uow, tokens, clock, SeededRandomSource(11))
        self.revoke = RevokeOperatorTokens(self.uow, clock, self.revocations)
        self.list = ListOperatorTokens(self.uow, clock)

    def mint(self, email: str) -> OperatorToken:
        return self.issue(IssueOperatorTokenCommand(email))

    def active(self) -> tuple[OperatorSignIn, ...]:
        return self.list(ListOperatorTokensCommand(OPERATOR))


@pytest.fixture
def tokens() -> PlainAccessTokens:
    return PlainAccessTokens()


@pytest.fixture
def here(uow: InMemoryUnitOfWork, clock: FixedClock, tokens: PlainAccessTokens) -> Process:
    return Process(uow, clock, tokens)


@pytest.fixture
def elsewhere(uow: InMemoryUnitOfWork, clock: FixedClock, tokens: PlainAccessTokens) -> Process:
    return Process(uow, clock, tokens)


def _refusal(process: Process, token: str) -> str:
    with pytest.raises(AuthenticationError) as refused:
        process.authenticate(token)
    return refused.value.code


def test_a_minted_operator_token_is_recorded_and_names_its_sign_in(
    here: Process, uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    minted = here.mint(" Ops@AMS.Example ")

    assert minted.principal.roles == frozenset({Role.PLATFORM_OPERATOR})
    assert minted.principal.institution_id is None
    assert minted.principal.sign_in_id == minted.sign_in.id
    assert minted.sign_in == OperatorSignIn(
        minted.sign_in.id, "ops@ams.example", clock.now(), clock.now() + timedelta(minutes=15)
    )
    with uow.for_platform():
        assert uow.operator_sign_ins.find(minted.sign_in.id) == minted.sign_in
    assert here.authenticate(minted.access_token) == minted.principal
    assert here.authenticate(minted.access_token).sign_in_id == minted.sign_in.id


def test_an_operator_token_needs_an_email(here: Process) -> None:
    with pytest.raises(ValidationError):
        here.mint("  ")

    assert here.active() == ()


def test_revoking_one_token_refuses_it_at_once_and_leaves_the_others(
    here: Process, clock: FixedClock
) -> None:
    ops, other = here.mint("ops@ams.example"), here.mint("other@ams.example")
    assert here.authenticate(ops.access_token) == ops.principal  # the cache is loaded

    ended = here.revoke(RevokeOperatorTokensCommand(OPERATOR, sign_in_id=ops.sign_in.id))

    assert ended.revoked == (ops.sign_in.revoked(clock.now()),)
    assert _refusal(here, ops.access_token) == "session_revoked"
    assert here.authenticate(other.access_token) == other.principal
    assert here.active() == (other.sign_in,)


def test_revoking_an_operators_tokens_ends_only_theirs_and_only_active_ones(
    here: Process, clock: FixedClock
) -> None:
    expired = here.mint("ops@ams.example")
    clock.advance(minutes=20)
    first, other = here.mint("ops@ams.example"), here.mint("other@ams.example")
    clock.advance(seconds=1)
    second = here.mint("OPS@ams.example")

    ended = here.revoke(RevokeOperatorTokensCommand(OPERATOR, email=" Ops@AMS.example"))

    assert [s.id for s in ended.revoked] == [first.sign_in.id, second.sign_in.id]
    assert here.active() == (other.sign_in,)
    assert _refusal(here, second.access_token) == "session_revoked"
    with here.uow.for_platform() as uow:
        assert uow.operator_sign_ins.find(expired.sign_in.id) == expired.sign_in
        assert uow.operator_sign_ins.revoked_since(clock.now()) == {
            first.sign_in.id,
            second.sign_in.id,
        }


def test_revoking_every_operator_token_ends_all_active_ones(
    here: Process, clock: FixedClock
) -> None:
    ops, other = here.mint("ops@ams.example"), here.mint("other@ams.example")

    ended = here.revoke(RevokeOperatorTokensCommand(OPERATOR, everyone=True))

    assert {s.id for s in ended.revoked} == {ops.sign_in.id, other.sign_in.id}
    assert all(s.revoked_at == clock.now() for s in ended.revoked)
    assert here.active() == ()
    assert _refusal(here, other.access_token) == "session_revoked"
    again = here.revoke(RevokeOperatorTokensCommand(OPERATOR, everyone=True))
    assert again.revoked == ()


def test_revoking_an_unknown_token_is_not_found_and_a_revoked_one_changes_nothing(
    here: Process,
) -> None:
    ops = here.mint("ops@ams.example")
    here.revoke(RevokeOperatorTokensCommand(OPERATOR, sign_in_id=ops.sign_in.id))

    again = here.revoke(RevokeOperatorTokensCommand(OPERATOR, sign_in_id=ops.sign_in.id))

    assert again.revoked == ()
    with pytest.raises(NotFoundError) as missing:
        here.revoke(RevokeOperatorTokensCommand(OPERATOR, sign_in_id=SignInId("nope")))
    assert missing.value.code == "operator_token_not_found"


@pytest.mark.parametrize(
    "command",
    [
        RevokeOperatorTokensCommand(OPERATOR),
        RevokeOperatorTokensCommand(OPERATOR, sign_in_id=SignInId("x"), everyone=True),
        RevokeOperatorTokensCommand(OPERATOR, email="ops@ams.example", everyone=True),
    ],
    ids=["nothing", "id and everyone", "email and everyone"],
)
def test_a_revocation_names_exactly_one_token_operator_or_everyone(
    here: Process, command: RevokeOperatorTokensCommand
) -> None:
    ops = here.mint("ops@ams.example")

    with pytest.raises(ValidationError):
        here.revoke(command)

    assert here.active() == (ops.sign_in,)


def test_only_a_platform_operator_lists_or_revokes_operator_tokens(
    here: Process, college: SmallCollege
) -> None:
    ops = here.mint("ops@ams.example")
    admin = admin_principal(college.id)

    with pytest.raises(PermissionDeniedError):
        here.list(ListOperatorTokensCommand(admin))
    with pytest.raises(PermissionDeniedError):
        here.revoke(RevokeOperatorTokensCommand(admin, everyone=True))

    assert here.active() == (ops.sign_in,)


def test_another_process_refuses_a_revoked_token_once_its_cache_refreshes(
    here: Process, elsewhere: Process, clock: FixedClock
) -> None:
    ops = here.mint("ops@ams.example")
    assert elsewhere.authenticate(ops.access_token) == ops.principal  # its list is loaded

    here.revoke(RevokeOperatorTokensCommand(OPERATOR, email="ops@ams.example"))

    assert _refusal(here, ops.access_token) == "session_revoked"
    assert elsewhere.authenticate(ops.access_token) == ops.principal  # not reloaded yet
    clock.advance(REFRESH)
    assert _refusal(elsewhere, ops.access_token) == "session_revoked"


def test_an_operator_token_naming_no_sign_in_is_refused(
    here: Process, tokens: PlainAccessTokens, clock: FixedClock
) -> None:
    """Tokens minted before operator tokens were recorded carry no ``sid``."""
    legacy = Principal("ops@ams.example", frozenset({Role.PLATFORM_OPERATOR}))
    token = tokens.issue(legacy, clock.now()).token

    assert _refusal(here, token) == "invalid_token"


def test_signing_out_ends_the_operators_own_token(here: Process) -> None:
    ops, other = here.mint("ops@ams.example"), here.mint("other@ams.example")
    actor = here.authenticate(ops.access_token)

    SignOut(here.uow, here.clock, here.revocations)(SignOutCommand(actor))
    SignOut(here.uow, here.clock, here.revocations)(SignOutCommand(actor))  # harmless twice

    assert _refusal(here, ops.access_token) == "session_revoked"
    assert here.active() == (other.sign_in,)


def test_active_operator_tokens_are_listed_oldest_first_until_they_expire(
    here: Process, clock: FixedClock
) -> None:
    first = here.mint("ops@ams.example")
    clock.advance(minutes=1)
    second = here.mint("other@ams.example")

    assert here.active() == (first.sign_in, second.sign_in)
    clock.advance(minutes=14)
    assert here.active() == (second.sign_in,)
