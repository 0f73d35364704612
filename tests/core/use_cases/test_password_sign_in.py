"""Password sign-in: every wrong password counts, exactly, whatever the concurrency; the
answer never tells an unknown account, a wrong password and a locked account apart."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    AmsError,
    AuthenticationError,
    PasswordCredential,
    PasswordPolicy,
    SecurityEventKind,
)
from ams_core.testing.builders import SmallCollege
from ams_core.use_cases import (
    SignInLifetimes,
    SignInWithPassword,
    SignInWithPasswordCommand,
)
from tests.core.use_cases.identity_fakes import PlainAccessTokens, Sha256Hasher

RIGHT = "correct horse battery staple"
POLICY = PasswordPolicy(max_failures=5, lockout=timedelta(minutes=15))


@pytest.fixture
def sign_in(uow: InMemoryUnitOfWork, clock: FixedClock) -> SignInWithPassword:
    return SignInWithPassword(
        uow,
        Sha256Hasher(),
        PlainAccessTokens(),
        clock,
        SeededRandomSource(5),
        SignInLifetimes(),
        POLICY,
    )


@pytest.fixture
def email(uow: InMemoryUnitOfWork, college: SmallCollege) -> str:
    person = college.alice.email
    with uow.for_institution(college.id):
        uow.passwords.put(PasswordCredential(college.id, person, Sha256Hasher().hash(RIGHT)))
        uow.commit()
    return person


def _refusal(sign_in: SignInWithPassword, email: str, password: str) -> tuple[str, str]:
    with pytest.raises(AmsError) as refused:
        sign_in(SignInWithPasswordCommand(email, password))
    assert isinstance(refused.value, AuthenticationError)
    return refused.value.code, refused.value.message


def _parallel_wrong(sign_in: SignInWithPassword, email: str, count: int) -> list[tuple[str, str]]:
    barrier = threading.Barrier(count)

    def attempt(n: int) -> tuple[str, str]:
        barrier.wait(timeout=30)
        return _refusal(sign_in, email, f"wrong guess {n}")

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def test_one_failure_short_of_the_limit_then_the_right_password_signs_in(
    sign_in: SignInWithPassword, email: str, uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    _parallel_wrong(sign_in, email, POLICY.max_failures - 1)

    assert sign_in(SignInWithPasswordCommand(email, RIGHT)).access_token == email
    with uow.for_institution(college.id):
        credential = uow.passwords.find(email)
    assert credential is not None
    assert (credential.failed_attempts, credential.locked_until) == (0, None)


def test_twenty_parallel_wrong_passwords_lock_after_exactly_the_limit_and_answer_alike(
    sign_in: SignInWithPassword,
    email: str,
    uow: InMemoryUnitOfWork,
    college: SmallCollege,
    clock: FixedClock,
) -> None:
    answers = _parallel_wrong(sign_in, email, 20)

    assert set(answers) == {_refusal(sign_in, "nobody@a.edu", "whatever it is")}
    assert _refusal(sign_in, email, RIGHT) == answers[0]  # locked: even the right one
    with uow.for_institution(college.id):
        credential = uow.passwords.find(email)
        events = [e for e in uow.security_events.list() if e.actor == email]
    assert credential is not None
    assert credential.locked_until == clock.now() + POLICY.lockout
    # exactly max_failures writes: the rest met the lock and changed nothing
    assert credential.version == POLICY.max_failures
    assert [e.kind for e in events] == [SecurityEventKind.ACCOUNT_LOCKED]


def test_the_lock_ends_after_the_lockout_and_the_right_password_signs_in_again(
    sign_in: SignInWithPassword, email: str, clock: FixedClock
) -> None:
    for n in range(POLICY.max_failures):
        _refusal(sign_in, email, f"wrong {n}")
    clock.set(clock.now() + POLICY.lockout - timedelta(seconds=1))
    _refusal(sign_in, email, RIGHT)

    clock.set(clock.now() + timedelta(seconds=1))

    assert sign_in(SignInWithPasswordCommand(email, RIGHT)).access_token == email


def test_unknown_people_unknown_domains_and_wrong_passwords_get_one_answer(
    sign_in: SignInWithPassword, email: str, college: SmallCollege
) -> None:
    wrong = _refusal(sign_in, email, "not the password")
    assert wrong[0] == "invalid_credentials"
    assert _refusal(sign_in, "nobody@a.edu", "not the password") == wrong
    assert _refusal(sign_in, college.bob.email, "not the password") == wrong  # no password
    assert _refusal(sign_in, "someone@elsewhere.org", "not the password") == wrong
