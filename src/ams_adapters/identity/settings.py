"""Settings of the identity adapters, read from the environment (``AMS_*``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
MIN_SECRET_KEY_BYTES = 32
MAX_CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """Keys and lifetimes of sign-in.

    Attributes:
        secret_key: HMAC key of AMS access tokens (at least 32 bytes; never logged).
        google_client_ids: OAuth client ids (web, Android, iOS) Google ID tokens must be
            issued to; empty disables Google sign-in.
        google_certs_url: Google's PEM certificate endpoint (``{kid: pem}``, not JWKS).
        google_clock_skew_seconds: allowance on ``iat``/``exp`` of Google ID tokens.
        access_token_minutes: lifetime of an AMS access token.
        refresh_token_days: lifetime of a signed-in session's refresh token.
        ephemeral_secret: the key was generated at start-up (dev only: tokens die with
            the process and are not shared between processes).
    """

    secret_key: bytes = field(repr=False)
    google_client_ids: tuple[str, ...] = ()
    google_certs_url: str = GOOGLE_CERTS_URL
    google_clock_skew_seconds: int = 30
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    ephemeral_secret: bool = False

    def __post_init__(self) -> None:
        if len(self.secret_key) < MIN_SECRET_KEY_BYTES:
            raise ValueError(f"AMS_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes long")
        if any(
            not client_id or client_id != client_id.strip() for client_id in self.google_client_ids
        ):
            raise ValueError("AMS_GOOGLE_CLIENT_IDS holds an empty or padded client id")
        if not self.google_certs_url.startswith(("https://", "http://")):
            raise ValueError("AMS_GOOGLE_CERTS_URL must be an http(s) URL")
        if not 0 <= self.google_clock_skew_seconds <= MAX_CLOCK_SKEW_SECONDS:
            raise ValueError(
                f"AMS_GOOGLE_CLOCK_SKEW_SECONDS must be between 0 and {MAX_CLOCK_SKEW_SECONDS}"
            )
        if self.access_token_minutes < 1:
            raise ValueError("AMS_ACCESS_TOKEN_MINUTES must be at least 1")
        if self.refresh_token_days < 1:
            raise ValueError("AMS_REFRESH_TOKEN_DAYS must be at least 1")

    @property
    def google_sign_in_enabled(self) -> bool:
        """Whether any Google client id is configured."""
        return bool(self.google_client_ids)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        allow_ephemeral_secret: bool = False,
    ) -> IdentitySettings:
        """Read ``AMS_SECRET_KEY``, ``AMS_GOOGLE_CLIENT_IDS`` (comma separated),
        ``AMS_GOOGLE_CERTS_URL``, ``AMS_GOOGLE_CLOCK_SKEW_SECONDS``,
        ``AMS_ACCESS_TOKEN_MINUTES`` and ``AMS_REFRESH_TOKEN_DAYS``.

        Without ``AMS_SECRET_KEY`` a random key is generated only when
        ``allow_ephemeral_secret`` is true (development); otherwise this raises
        ``ValueError``.
        """
        env = os.environ if environ is None else environ
        defaults = cls(secret_key=b"\0" * MIN_SECRET_KEY_BYTES)
        raw_key = env.get("AMS_SECRET_KEY", "")
        ephemeral = not raw_key
        if ephemeral and not allow_ephemeral_secret:
            raise ValueError(
                "AMS_SECRET_KEY is not set: set it to a random string of at least "
                f"{MIN_SECRET_KEY_BYTES} bytes (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        secret_key = secrets.token_urlsafe(48).encode() if ephemeral else raw_key.encode()
        client_ids = tuple(
            part.strip() for part in env.get("AMS_GOOGLE_CLIENT_IDS", "").split(",") if part.strip()
        )
        try:
            return cls(
                secret_key=secret_key,
                google_client_ids=client_ids,
                google_certs_url=env.get("AMS_GOOGLE_CERTS_URL", "").strip()
                or defaults.google_certs_url,
                google_clock_skew_seconds=int(
                    env.get("AMS_GOOGLE_CLOCK_SKEW_SECONDS", defaults.google_clock_skew_seconds)
                ),
                access_token_minutes=int(
                    env.get("AMS_ACCESS_TOKEN_MINUTES", defaults.access_token_minutes)
                ),
                refresh_token_days=int(
                    env.get("AMS_REFRESH_TOKEN_DAYS", defaults.refresh_token_days)
                ),
                ephemeral_secret=ephemeral,
            )
        except ValueError as error:
            raise ValueError(f"invalid identity setting: {error}") from None
