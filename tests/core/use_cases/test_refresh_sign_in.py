"""Refreshing a session: the refresh token rotates, a reused one ends the session, and an
app that refreshes twice at once keeps its session (both answers carry the same token)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import AuthenticationError, SignInId
from ams_core.testing.builders import OPERATOR, SmallCollege
from ams_core.use_cases import (
    IssueLocalToken,
    IssueLocalTokenCommand,
    RefreshSignIn,
    RefreshSignInCommand,
    RevocationCache,
    SignInLifetimes,
)
from tests.core.use_cases.identity_fakes import PlainAccessTokens

LIFETIMES = SignInLifetimes(refresh_grace=timedelta(seconds=30))


@pytest.fixture
def revocations(uow: InMemoryUnitOfWork, clock: FixedClock) -> RevocationCache:
    return RevocationCache(
        lambda: InMemoryUnitOfWork(uow.store), clock, lookback=timedelta(minutes=15)
    )


@pytest.fixture
def refresh(
    uow: InMemoryUnitOfWork, clock: FixedClock, revocations: RevocationCache
) -> RefreshSignIn:
    return RefreshSignIn(
        uow, PlainAccessTokens(), clock, SeededRandomSource(9), LIFETIMES, revocations
    )


@pytest.fixture
def first_token(uow: InMemoryUnitOfWork, clock: FixedClock, college: SmallCollege) -> str:
    issue = IssueLocalToken(uow, PlainAccessTokens(), clock, SeededRandomSource(4), LIFETIMES)
    return issue(IssueLocalTokenCommand(OPERATOR, college.alice.email)).refresh_token


def _sign_in_id(token: str) -> SignInId:
    return SignInId(token.rsplit(".", 2)[1])


def _is_revoked(uow: InMemoryUnitOfWork, college: SmallCollege, token: str) -> bool:
    with uow.for_institution(college.id):
        sign_in = uow.sign_ins.find(_sign_in_id(token))
    assert sign_in is not None
    return sign_in.revoked_at is not None


def test_a_refresh_rotates_the_token_and_the_new_one_works(
    refresh: RefreshSignIn, first_token: str
) -> None:
    second = refresh(RefreshSignInCommand(first_token)).refresh_token

    assert second != first_token
    assert refresh(RefreshSignInCommand(second)).refresh_token not in (first_token, second)


def test_a_second_refresh_with_the_same_token_inside_the_grace_gets_the_same_new_token(
    refresh: RefreshSignIn,
    first_token: str,
    clock: FixedClock,
    uow: InMemoryUnitOfWork,
    college: SmallCollege,
) -> None:
    once = refresh(RefreshSignInCommand(first_token)).refresh_token
    clock.set(clock.now() + LIFETIMES.refresh_grace)

    again = refresh(RefreshSignInCommand(first_token)).refresh_token

    assert again == once
    assert not _is_revoked(uow, college, first_token)
    assert refresh(RefreshSignInCommand(once)).refresh_token  # the session goes on


def test_simultaneous_refreshes_with_one_token_all_succeed_with_one_new_token(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    revocations: RevocationCache,
    first_token: str,
    college: SmallCollege,
) -> None:
    barrier = threading.Barrier(8)

    def attempt(_: int) -> str:
        use_case = RefreshSignIn(
            InMemoryUnitOfWork(uow.store),
            PlainAccessTokens(),
            clock,
            SeededRandomSource(1),
            LIFETIMES,
            revocations,
        )
        barrier.wait(timeout=30)
        return use_case(RefreshSignInCommand(first_token)).refresh_token

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = set(pool.map(attempt, range(8)))

    assert len(tokens) == 1
    assert not _is_revoked(uow, college, first_token)


def test_the_replaced_token_after_the_grace_is_a_reuse_and_ends_the_session(
    refresh: RefreshSignIn,
    first_token: str,
    clock: FixedClock,
    uow: InMemoryUnitOfWork,
    college: SmallCollege,
) -> None:
    second = refresh(RefreshSignInCommand(first_token)).refresh_token
    clock.set(clock.now() + LIFETIMES.refresh_grace + timedelta(seconds=1))

    with pytest.raises(AuthenticationError) as refused:
        refresh(RefreshSignInCommand(first_token))

    assert refused.value.code == "invalid_refresh_token"
    assert _is_revoked(uow, college, first_token)
    with pytest.raises(AuthenticationError):
        refresh(RefreshSignInCommand(second))


def test_a_token_two_rotations_old_is_a_reuse_even_inside_the_grace(
    refresh: RefreshSignIn, first_token: str, uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    second = refresh(RefreshSignInCommand(first_token)).refresh_token
    refresh(RefreshSignInCommand(second))

    with pytest.raises(AuthenticationError):
        refresh(RefreshSignInCommand(first_token))

    assert _is_revoked(uow, college, first_token)
