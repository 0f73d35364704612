"""A token table standing in for real token verification (tests and library users)."""

from __future__ import annotations

from collections.abc import Mapping

from ams_core.domain import AuthenticationError, Principal
from ams_core.ports import IdentityVerifier


class StaticIdentityVerifier(IdentityVerifier):
    """Maps known tokens to principals; any other token is refused."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self._tokens = dict(tokens)

    def verify(self, token: str) -> Principal:
        principal = self._tokens.get(token)
        if principal is None:
            raise AuthenticationError("the token is not valid")
        return principal
