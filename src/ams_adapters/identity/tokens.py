"""AMS access tokens: short-lived HS256 JWTs (PyJWT)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.types import Options

from ams_adapters.identity.settings import MIN_SECRET_KEY_BYTES, IdentitySettings
from ams_core.domain.errors import AuthenticationError
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import FacultyId, InstitutionId, SignInId, StudentId
from ams_core.ports.clock import Clock
from ams_core.ports.identity import AccessTokens, IssuedAccessToken

ISSUER = "ams"
AUDIENCE = "ams-api"
ALGORITHM = "HS256"
INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code, not a secret
TOKEN_EXPIRED = "token_expired"  # noqa: S105 - an error code, not a secret
#: Ours are well under 1 KB; longer bearer tokens are refused unparsed.
MAX_TOKEN_LENGTH = 4096
#: verified tokens remembered per process (about 1 KB each); the cache restarts when full
VERIFIED_CACHE_SIZE = 20_000
#: Tolerated ``iat`` in the future (clocks of several AMS processes differ slightly).
ISSUED_AT_LEEWAY_SECONDS = 30

_ROLES = {role.value: role for role in Role}
_DECODE_OPTIONS: Options = {
    "require": ["exp", "iat", "iss", "aud", "sub"],
    "verify_signature": True,
    "verify_aud": True,
    "verify_iss": True,
    "verify_sub": True,
    "strict_aud": True,
    # expiry is checked against the injected clock below, not the system clock
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "enforce_minimum_key_length": True,
}


def _invalid(reason: str) -> AuthenticationError:
    return AuthenticationError(f"the access token is not valid: {reason}", code=INVALID_TOKEN)


def _seconds(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid("iat and exp must be integers")
    return value


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _invalid(f"malformed {name}")
    return value


class JwtAccessTokens(AccessTokens):
    """Issues and verifies AMS access tokens: HS256 JWTs with ``iss`` "ams", ``aud``
    "ams-api", ``sub`` the email, ``iat``/``exp`` and the principal (``inst``, ``roles``,
    ``stu``, ``fac``, ``sid``, ``name``).

    Args:
        secret_key: the HMAC key (at least 32 bytes).
        clock: the clock ``verify`` checks expiry against.
        lifetime: how long an issued token lives.
    """

    def __init__(
        self,
        secret_key: bytes,
        *,
        clock: Clock,
        lifetime: timedelta = timedelta(minutes=15),
    ) -> None:
        if len(secret_key) < MIN_SECRET_KEY_BYTES:
            raise ValueError(f"the token key must be at least {MIN_SECRET_KEY_BYTES} bytes long")
        if lifetime < timedelta(seconds=1):
            raise ValueError("the token lifetime must be at least one second")
        self._key = secret_key
        self._clock = clock
        self._lifetime = int(lifetime.total_seconds())
        # token → (principal, iat, exp): a token whose signature and claims checked out once
        # always will under the same key, so repeat requests skip the HMAC and JSON work
        self._verified: dict[str, tuple[Principal, int, int]] = {}
        self._verified_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: IdentitySettings, *, clock: Clock) -> JwtAccessTokens:
        """Build the token service from the secret key and access-token lifetime."""
        return cls(
            settings.secret_key,
            clock=clock,
            lifetime=timedelta(minutes=settings.access_token_minutes),
        )

    def issue(self, principal: Principal, now: datetime) -> IssuedAccessToken:
        if now.tzinfo is None:
            raise ValueError("issue needs an aware datetime")
        issued_at = int(now.timestamp())
        expires = issued_at + self._lifetime
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal.email,
            "iat": issued_at,
            "exp": expires,
            "roles": sorted(role.value for role in principal.roles),
        }
        optional = {
            "inst": principal.institution_id,
            "stu": principal.student_id,
            "fac": principal.faculty_id,
            "sid": principal.sign_in_id,
            "name": principal.display_name or None,
        }
        claims.update({name: value for name, value in optional.items() if value is not None})
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return IssuedAccessToken(
            token=token,
            expires_at=datetime.fromtimestamp(expires, UTC),
            expires_in=self._lifetime,
        )

    def verify(self, token: str) -> Principal:
        verified = self._verified.get(token)
        if verified is None:
            verified = self._decode(token)
            with self._verified_lock:
                if len(self._verified) >= VERIFIED_CACHE_SIZE:
                    self._verified.clear()
                self._verified[token] = verified
        principal, issued_at, expires = verified
        now = self._clock.now().timestamp()
        if expires <= now:
            raise AuthenticationError("the access token has expired", code=TOKEN_EXPIRED)
        if issued_at > now + ISSUED_AT_LEEWAY_SECONDS:
            raise _invalid("issued in the future")
        return principal

    def _decode(self, token: str) -> tuple[Principal, int, int]:
        """Check the signature and claims; the times are checked on every use."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise _invalid("malformed")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options=_DECODE_OPTIONS,
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise _invalid(type(error).__name__) from None
        return self._principal(claims), _seconds(claims["iat"]), _seconds(claims["exp"])

    @staticmethod
    def _principal(claims: Mapping[str, Any]) -> Principal:
        email = claims["sub"]
        if not isinstance(email, str) or not email:
            raise _invalid("malformed sub")
        raw_roles = claims.get("roles", [])
        if not isinstance(raw_roles, list) or not all(
            isinstance(role, str) and role in _ROLES for role in raw_roles
        ):
            raise _invalid("malformed roles")
        institution_id = _optional_str(claims, "inst")
        student_id = _optional_str(claims, "stu")
        faculty_id = _optional_str(claims, "fac")
        sign_in_id = _optional_str(claims, "sid")
        return Principal(
            email=email,
            roles=frozenset(_ROLES[role] for role in raw_roles),
            institution_id=InstitutionId(institution_id) if institution_id else None,
            student_id=StudentId(student_id) if student_id else None,
            faculty_id=FacultyId(faculty_id) if faculty_id else None,
            display_name=_optional_str(claims, "name") or "",
            sign_in_id=SignInId(sign_in_id) if sign_in_id else None,
        )
