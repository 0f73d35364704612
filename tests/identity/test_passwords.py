"""Passwords are stored as argon2id hashes; checking never raises."""

from __future__ import annotations

import pytest

from ams_adapters.identity import Argon2PasswordHasher

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_a_hashed_password_verifies(hasher: Argon2PasswordHasher) -> None:
    password_hash = hasher.hash(PASSWORD)

    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert hasher.verify(password_hash, PASSWORD)


def test_hashes_of_the_same_password_are_salted(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash(PASSWORD) != hasher.hash(PASSWORD)


@pytest.mark.parametrize("attempt", ["correct horse battery stapl", "", PASSWORD.upper()])
def test_a_wrong_password_does_not_verify(hasher: Argon2PasswordHasher, attempt: str) -> None:
    assert hasher.verify(hasher.hash(PASSWORD), attempt) is False


@pytest.mark.parametrize(
    "password_hash",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=8,t=1,p=1$garbage",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
        "$2b$12$KIXQJ6rG5o1f0D1lJ5F8UuY8mSg7Z1aF1wqkzJ6mCq0y1m7Yb1wXa",
        "$argon2id$é",
    ],
    ids=repr,
)
def test_a_malformed_hash_never_verifies_and_needs_rehash(
    hasher: Argon2PasswordHasher, password_hash: str
) -> None:
    assert hasher.verify(password_hash, PASSWORD) is False
    assert hasher.needs_rehash(password_hash) is True


def test_a_hash_made_with_other_parameters_needs_rehash(hasher: Argon2PasswordHasher) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    old_hash = hasher.hash(PASSWORD)

    assert stronger.verify(old_hash, PASSWORD)
    assert stronger.needs_rehash(old_hash)
    assert not hasher.needs_rehash(old_hash)


def test_the_defaults_are_argon2id_with_the_rfc_9106_low_memory_profile() -> None:
    password_hash = Argon2PasswordHasher().hash(PASSWORD)

    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
