"""The identity adapter: Google ID tokens, AMS access tokens and password hashes.

Needs the ``identity`` extra (google-auth, requests, PyJWT, argon2-cffi).
"""

from ams_adapters.identity.certs import CachingCertsRequest
from ams_adapters.identity.google import GoogleIdTokenVerifier
from ams_adapters.identity.passwords import Argon2PasswordHasher
from ams_adapters.identity.settings import IdentitySettings
from ams_adapters.identity.tokens import JwtAccessTokens

__all__ = [
    "Argon2PasswordHasher",
    "CachingCertsRequest",
    "GoogleIdTokenVerifier",
    "IdentitySettings",
    "JwtAccessTokens",
]
