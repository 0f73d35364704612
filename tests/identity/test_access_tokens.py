"""AMS access tokens: what ``issue`` signs, ``verify`` returns until the injected clock
says the token expired; anything altered, foreign or unsigned is an AuthenticationError.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from ams_adapters.identity import IdentitySettings, JwtAccessTokens
from ams_adapters.memory import FixedClock
from ams_core.domain.errors import AuthenticationError
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import FacultyId, InstitutionId, SignInId, StudentId

KEY = b"0123456789abcdef" * 4  # 64 bytes: no PyJWT key-length warning even for HS512
NOW = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)

ALICE = Principal(
    email="alice@a.edu",
    roles=frozenset({Role.FACULTY, Role.ADMIN}),
    institution_id=InstitutionId("inst-a"),
    faculty_id=FacultyId("F1"),
    display_name="Alice Rao",
    sign_in_id=SignInId("sign-in-1"),
)
SAM = Principal(
    email="s1@a.edu",
    roles=frozenset({Role.STUDENT, Role.CLASS_REPRESENTATIVE}),
    institution_id=InstitutionId("inst-a"),
    student_id=StudentId("S1"),
    sign_in_id=SignInId("sign-in-2"),
)
OPERATOR = Principal(email="ops@ams.example", roles=frozenset({Role.PLATFORM_OPERATOR}))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def tokens(clock: FixedClock) -> JwtAccessTokens:
    return JwtAccessTokens(KEY, clock=clock)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(claims: dict[str, Any], *, key: bytes = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def base_claims(**overrides: Any) -> dict[str, Any]:
    issued = int(NOW.timestamp())
    claims: dict[str, Any] = {
        "iss": "ams",
        "aud": "ams-api",
        "sub": "s1@a.edu",
        "iat": issued,
        "exp": issued + 900,
        "roles": ["student"],
        "inst": "inst-a",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def refused(tokens: JwtAccessTokens, token: str, code: str = "invalid_token") -> None:
    with pytest.raises(AuthenticationError) as caught:
        tokens.verify(token)
    assert caught.value.code == code


@pytest.mark.parametrize("principal", [ALICE, SAM, OPERATOR], ids=["faculty", "student", "ops"])
def test_a_issued_token_verifies_to_the_same_principal(
    tokens: JwtAccessTokens, principal: Principal
) -> None:
    verified = tokens.verify(tokens.issue(principal, NOW).token)

    assert verified == principal
    assert verified.sign_in_id == principal.sign_in_id
    assert verified.display_name == principal.display_name


def test_issue_uses_the_given_time_and_the_configured_lifetime(clock: FixedClock) -> None:
    tokens = JwtAccessTokens(KEY, clock=clock, lifetime=timedelta(minutes=10))
    issued = tokens.issue(ALICE, NOW)

    claims = jwt.decode(
        issued.token, KEY, algorithms=["HS256"], audience="ams-api", options={"verify_exp": False}
    )
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["exp"] == int(NOW.timestamp()) + 600
    assert claims["iss"] == "ams"
    assert claims["sub"] == "alice@a.edu"
    assert claims["sid"] == "sign-in-1"
    assert claims["roles"] == ["admin", "faculty"]
    assert issued.expires_at == NOW + timedelta(minutes=10)
    assert issued.expires_in == 600


def test_the_settings_lifetime_is_used(clock: FixedClock) -> None:
    settings = IdentitySettings(secret_key=KEY, access_token_minutes=5)

    issued = JwtAccessTokens.from_settings(settings, clock=clock).issue(SAM, NOW)

    assert issued.expires_in == 300


def test_a_token_is_valid_until_the_clock_reaches_its_expiry(
    tokens: JwtAccessTokens, clock: FixedClock
) -> None:
    token = tokens.issue(SAM, NOW).token

    clock.set(NOW + timedelta(minutes=15) - timedelta(seconds=1))
    assert tokens.verify(token) == SAM
    clock.set(NOW + timedelta(minutes=15))
    refused(tokens, token, "token_expired")


def test_expiry_follows_the_injected_clock_not_the_system_clock(
    tokens: JwtAccessTokens, clock: FixedClock
) -> None:
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    clock.set(long_ago)

    assert tokens.verify(tokens.issue(SAM, long_ago).token) == SAM


def test_a_token_issued_in_the_future_is_refused(
    tokens: JwtAccessTokens, clock: FixedClock
) -> None:
    token = tokens.issue(SAM, NOW + timedelta(minutes=5)).token

    refused(tokens, token)
    clock.set(NOW + timedelta(minutes=5) - timedelta(seconds=30))
    assert tokens.verify(token) == SAM


def test_a_token_with_an_altered_payload_is_refused(tokens: JwtAccessTokens) -> None:
    header, _, signature = tokens.issue(SAM, NOW).token.split(".")
    promoted = b64(json.dumps(base_claims(roles=["admin"])).encode())

    refused(tokens, f"{header}.{promoted}.{signature}")


def test_a_token_with_an_altered_signature_is_refused(tokens: JwtAccessTokens) -> None:
    token = tokens.issue(SAM, NOW).token
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    refused(tokens, tampered)


def test_a_token_signed_with_another_key_is_refused(
    tokens: JwtAccessTokens, clock: FixedClock
) -> None:
    other = JwtAccessTokens(b"another-key-another-key-another-key!", clock=clock)

    refused(tokens, other.issue(SAM, NOW).token)


def test_an_unsigned_alg_none_token_is_refused(tokens: JwtAccessTokens) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(base_claims()).encode())

    refused(tokens, f"{header}.{payload}.")


def test_a_token_with_another_hmac_algorithm_and_our_key_is_refused(
    tokens: JwtAccessTokens,
) -> None:
    refused(tokens, signed(base_claims(), algorithm="HS512"))


def test_a_well_signed_token_passes(tokens: JwtAccessTokens) -> None:
    assert tokens.verify(signed(base_claims())).email == "s1@a.edu"


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub"])
def test_a_token_missing_a_required_claim_is_refused(tokens: JwtAccessTokens, missing: str) -> None:
    refused(tokens, signed(base_claims(**{missing: None})))


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "someone-else"},
        {"aud": "other-api"},
        {"aud": ["ams-api", "other-api"]},
        {"sub": 7},
        {"sub": ""},
        {"exp": "tomorrow"},
        {"exp": True},
        {"iat": 1.5},
        {"roles": "admin"},
        {"roles": ["emperor"]},
        {"roles": [1]},
        {"inst": 7},
        {"sid": ""},
        {"name": ["x"]},
    ],
    ids=repr,
)
def test_a_token_with_a_malformed_claim_is_refused(
    tokens: JwtAccessTokens, overrides: dict[str, Any]
) -> None:
    refused(tokens, signed(base_claims(**overrides)))


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "x" * 5000, "é.é.é"], ids=lambda token: repr(token[:10])
)
def test_junk_is_refused(tokens: JwtAccessTokens, token: str) -> None:
    refused(tokens, token)


def test_a_short_key_is_refused(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        JwtAccessTokens(b"short", clock=clock)


def test_issue_refuses_a_naive_time(tokens: JwtAccessTokens) -> None:
    with pytest.raises(ValueError, match="aware"):
        tokens.issue(SAM, datetime(2026, 11, 16, 3, 30))  # noqa: DTZ001


def test_verification_is_remembered_but_expiry_is_checked_on_every_use(
    tokens: JwtAccessTokens, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ams_adapters.identity import tokens as module

    monkeypatch.setattr(module, "VERIFIED_CACHE_SIZE", 2)
    issued = [tokens.issue(p, NOW).token for p in (SAM, ALICE, OPERATOR)]

    assert [tokens.verify(t) for t in issued * 2] == [SAM, ALICE, OPERATOR] * 2
    clock.set(NOW + timedelta(minutes=15))
    for token in issued:
        refused(tokens, token, "token_expired")
    clock.set(NOW)
    tampered = issued[0][:-2] + ("AA" if not issued[0].endswith("AA") else "BB")
    refused(tokens, tampered, "invalid_token")
    assert tokens.verify(issued[0]) == SAM
