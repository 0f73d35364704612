"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

import argon2
from argon2 import exceptions as argon2_exceptions

from ams_core.ports.identity import PasswordHasher


class Argon2PasswordHasher(PasswordHasher):
    """Hashes passwords with argon2id; the defaults are argon2-cffi's (RFC 9106 low-memory
    profile: 3 passes, 64 MiB, 4 lanes). Tests pass cheaper parameters.

    ``verify`` returns ``False`` for a wrong password or a malformed hash, never raises;
    ``needs_rehash`` is true for hashes made with other parameters (or unreadable ones).
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
        hash_len: int = argon2.DEFAULT_HASH_LENGTH,
        salt_len: int = argon2.DEFAULT_RANDOM_SALT_LENGTH,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (argon2_exceptions.Argon2Error, ValueError, TypeError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (argon2_exceptions.Argon2Error, ValueError, TypeError):
            return True
