"""Google ID-token verification (sign-in with Google) over google-auth."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

from google.auth import transport as google_transport
from google.auth.transport.requests import Request as RequestsTransport
from google.oauth2 import id_token as google_id_token

from ams_adapters.identity.certs import CachingCertsRequest
from ams_adapters.identity.settings import GOOGLE_CERTS_URL, IdentitySettings
from ams_core.domain.accounts import ExternalIdentity
from ams_core.domain.errors import AuthenticationError, UnavailableError
from ams_core.ports.identity import ExternalIdentityVerifier

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
INVALID_ID_TOKEN = "invalid_id_token"  # noqa: S105 - an error code, not a secret
#: Google ID tokens are about 1.2 KB; anything much longer is refused unparsed.
MAX_TOKEN_LENGTH = 4096

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_MAX_KID_LENGTH = 128


def _invalid(reason: str) -> AuthenticationError:
    return AuthenticationError(f"the Google ID token is not valid: {reason}", code=INVALID_ID_TOKEN)


def _key_id(token: object, max_length: int) -> str:
    """Check the token's shape and header cheaply; return its key id."""
    if not isinstance(token, str):
        raise _invalid("not a string")
    if len(token) > max_length:
        raise _invalid("too long")
    if not _TOKEN_SHAPE.fullmatch(token):
        raise _invalid("not a signed JWT")
    encoded_header = token.split(".", 1)[0]
    try:
        header = json.loads(
            base64.urlsafe_b64decode(encoded_header + "=" * (-len(encoded_header) % 4))
        )
    except (binascii.Error, ValueError):
        raise _invalid("unreadable header") from None
    if not isinstance(header, dict):
        raise _invalid("unreadable header")
    if header.get("alg") != "RS256":
        raise _invalid("unsupported signature algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > _MAX_KID_LENGTH:
        raise _invalid("missing key id")
    return kid


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _identity(claims: Mapping[str, Any]) -> ExternalIdentity:
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in GOOGLE_ISSUERS:
        raise _invalid("wrong issuer")
    if not (_is_time(claims.get("iat")) and _is_time(claims.get("exp"))):
        raise _invalid("malformed iat or exp")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise _invalid("missing subject")
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise _invalid("missing email")
    hosted_domain = claims.get("hd")
    if hosted_domain is not None and (not isinstance(hosted_domain, str) or not hosted_domain):
        raise _invalid("malformed hosted domain")
    return ExternalIdentity(
        issuer=issuer,
        subject=subject,
        email=email,
        email_verified=claims.get("email_verified") is True,
        hosted_domain=hosted_domain.lower() if hosted_domain is not None else None,
    )


class GoogleIdTokenVerifier(ExternalIdentityVerifier):
    """Verifies Google ID tokens: signature (Google's rotating keys), ``aud`` in our client
    ids, ``iss``, ``iat``/``exp`` with a clock skew. Policy (verified email, hosted domain)
    is the core's.

    Safe to share between threads. Google's certificates are cached in memory per
    ``Cache-Control`` (see :class:`~ams_adapters.identity.certs.CachingCertsRequest`).

    Args:
        client_ids: the OAuth client ids tokens must be issued to; must not be empty
            (google-auth would silently skip the audience check).
        transport: the HTTP transport for the certificate endpoint; by default a
            ``google.auth.transport.requests.Request`` owned (and closed) by the verifier.
        certs_url: Google's PEM certificate endpoint (``{kid: pem}``, not JWKS).
        clock_skew_seconds: allowance on ``iat`` and ``exp``.
        fetch_timeout: seconds a certificate fetch may take.
        unknown_kid_interval: minimum seconds between refetches caused by unknown key ids.
        max_token_length: longer tokens are refused without being parsed.
        monotonic: the clock of the certificate cache (tests move it).
    """

    def __init__(
        self,
        client_ids: Sequence[str],
        *,
        transport: google_transport.Request | None = None,
        certs_url: str = GOOGLE_CERTS_URL,
        clock_skew_seconds: int = 30,
        fetch_timeout: float = 2.0,
        unknown_kid_interval: float = 60.0,
        max_token_length: int = MAX_TOKEN_LENGTH,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(client_ids, str):
            raise TypeError("client_ids must be a sequence of client ids, not one string")
        audience = [client_id.strip() for client_id in client_ids]
        if not audience or not all(audience):
            raise ValueError(
                "Google sign-in needs at least one OAuth client id (AMS_GOOGLE_CLIENT_IDS); "
                "without one the audience of tokens would not be checked"
            )
        if clock_skew_seconds < 0:
            raise ValueError("clock_skew_seconds must not be negative")
        self._audience = audience
        self._skew = clock_skew_seconds
        self._max_length = max_token_length
        self._owned_transport: RequestsTransport | None = None
        if transport is None:
            transport = self._owned_transport = RequestsTransport()
        self._certs = CachingCertsRequest(
            transport,
            certs_url,
            timeout=fetch_timeout,
            unknown_kid_interval=unknown_kid_interval,
            monotonic=monotonic,
        )

    @classmethod
    def from_settings(
        cls, settings: IdentitySettings, *, transport: google_transport.Request | None = None
    ) -> GoogleIdTokenVerifier:
        """Build the verifier Google sign-in is configured for.

        Raises:
            ValueError: Google sign-in is disabled (no client ids).
        """
        return cls(
            settings.google_client_ids,
            transport=transport,
            certs_url=settings.google_certs_url,
            clock_skew_seconds=settings.google_clock_skew_seconds,
        )

    @property
    def client_ids(self) -> tuple[str, ...]:
        """The accepted audiences."""
        return tuple(self._audience)

    def verify(self, id_token: str) -> ExternalIdentity:
        kid = _key_id(id_token, self._max_length)
        self._certs.ensure_key(kid)
        try:
            claims = google_id_token.verify_token(
                id_token,
                self._certs,
                audience=self._audience,
                certs_url=self._certs.certs_url,
                clock_skew_in_seconds=self._skew,
            )
        except UnavailableError:
            raise
        # google-auth raises ValueError, GoogleAuthError, TypeError, RecursionError (deeply
        # nested JSON)…; its messages may quote the token, so the cause is not chained.
        except Exception as error:  # noqa: BLE001
            raise _invalid(type(error).__name__) from None
        if not isinstance(claims, Mapping):
            raise _invalid("malformed claims")
        return _identity(claims)

    def close(self) -> None:
        """Close the HTTP session the verifier created (not an injected transport)."""
        if self._owned_transport is not None:
            self._owned_transport.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
