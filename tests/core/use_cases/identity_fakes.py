"""Working identity fakes for use-case tests (the core tests install no argon2 or JWT)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from ams_core.domain import AuthenticationError, Principal
from ams_core.ports import AccessTokens, IssuedAccessToken, PasswordHasher


class Sha256Hasher(PasswordHasher):
    """A working stdlib hasher (the core tests install no argon2)."""

    def hash(self, password: str) -> str:
        return "sha256$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password_hash: str, password: str) -> bool:
        return hmac.compare_digest(password_hash, self.hash(password))

    def needs_rehash(self, password_hash: str) -> bool:
        return False


class PlainAccessTokens(AccessTokens):
    """Tokens that are the principal's email: enough to see who was signed in.

    ``verify`` returns the principal last issued under that token (so one email, one
    principal at a time); an unknown token is ``invalid_token``. Expiry is not checked.
    """

    def __init__(self) -> None:
        self.issued: dict[str, Principal] = {}

    def issue(self, principal: Principal, now: datetime) -> IssuedAccessToken:
        self.issued[principal.email] = principal
        return IssuedAccessToken(principal.email, now + timedelta(minutes=15), 900)

    def verify(self, token: str) -> Principal:
        principal = self.issued.get(token)
        if principal is None:
            raise AuthenticationError("the access token is not valid", code="invalid_token")
        return principal
