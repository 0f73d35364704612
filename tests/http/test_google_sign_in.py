"""``POST /api/v1/auth/google`` end to end through the real ``GoogleIdTokenVerifier``.

ID tokens are signed with a throwaway RSA key whose certificate a loopback server
publishes (the helpers of ``tests/identity/conftest.py``); nothing reaches Google.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from httpx import Response

from ams_adapters.identity import IdentitySettings
from ams_core.domain import StudentId
from tests.http.conftest import SECRET, World, later
from tests.identity.conftest import CertServer, SigningKey, _serve, claims

CLIENT_ID = "client-web"
DEVICE = "device-google-0001"
OTHER_DEVICE = "device-google-0002"
STUDENT = "n210001@a.edu"


@pytest.fixture(scope="module")
def google_key() -> SigningKey:
    return SigningKey.generate("g1")


@pytest.fixture(scope="module")
def forger_key() -> SigningKey:
    return SigningKey.generate("g1")  # the same kid, another key


@pytest.fixture
def google_certs(google_key: SigningKey) -> Iterator[CertServer]:
    state = CertServer()
    state.publish(google_key)
    yield from _serve(state)


@pytest.fixture
def identity_settings(google_certs: CertServer) -> IdentitySettings:
    """Overrides the fixture of ``tests/http/conftest.py``: Google sign-in is on."""
    return IdentitySettings(
        secret_key=SECRET, google_client_ids=(CLIENT_ID,), google_certs_url=google_certs.url
    )


def token(key: SigningKey, **overrides: Any) -> str:
    base: dict[str, Any] = {"aud": CLIENT_ID, "azp": CLIENT_ID, "email": STUDENT}
    return key.sign(claims(**{**base, **overrides}))


def sign_in(world: World, id_token: str, device_id: str | None = DEVICE) -> Response:
    body: dict[str, str] = {"idToken": id_token}
    if device_id is not None:
        body["deviceId"] = device_id
    return world.client.post("/api/v1/auth/google", json=body)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def problem_code(answer: Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return str(answer.json()["code"])


def test_a_student_signs_in_binds_the_device_and_uses_the_token(
    world: World, google_key: SigningKey
) -> None:
    answer = sign_in(world, token(google_key))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["tokenType"] == "Bearer"
    assert isinstance(body["accessToken"], str)
    assert body["accessToken"]
    assert isinstance(body["refreshToken"], str)
    assert body["refreshToken"]
    assert isinstance(body["expiresIn"], int)
    assert body["expiresIn"] > 0
    assert body["deviceNewlyBound"] is True
    user = body["user"]
    assert user["email"] == STUDENT
    assert user["roles"] == ["student"]
    assert user["institutionId"] == world.a.id
    assert user["studentId"] == world.a.students[0].id
    uow = world.uow()
    with uow.for_institution(world.a.id):
        binding = uow.devices.for_student(StudentId(world.a.students[0].id))
    assert binding is not None
    assert binding.device_id == DEVICE
    me = world.client.get("/api/v1/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == STUDENT


def test_the_same_device_signs_in_again(world: World, google_key: SigningKey) -> None:
    assert sign_in(world, token(google_key)).status_code == 200
    again = sign_in(world, token(google_key))
    assert again.status_code == 200, again.text
    assert again.json()["deviceNewlyBound"] is False


def _expired() -> dict[str, Any]:
    now = int(time.time())
    return {"iat": now - 7200, "exp": now - 3600}


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("wrong audience", {"aud": "someone-else", "azp": "someone-else"}),
        ("wrong issuer", {"iss": "https://accounts.example.com"}),
        ("expired", "expired"),
        ("issued in the future", {"iat": int(time.time()) + 3600}),
    ],
)
def test_invalid_id_tokens_are_401(
    world: World, google_key: SigningKey, case: str, overrides: dict[str, Any] | str
) -> None:
    extra = _expired() if overrides == "expired" else overrides
    assert isinstance(extra, dict)
    answer = sign_in(world, token(google_key, **extra))
    assert problem_code(answer, 401) == "invalid_id_token", case


def test_a_token_signed_by_another_key_is_401(world: World, forger_key: SigningKey) -> None:
    answer = sign_in(world, token(forger_key))
    assert problem_code(answer, 401) == "invalid_id_token"


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 4096])
def test_garbage_is_401_never_500(world: World, garbage: str) -> None:
    assert problem_code(sign_in(world, garbage), 401) == "invalid_id_token"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"email_verified": False}, "email_not_verified"),
        ({"hd": None}, "foreign_domain"),
        ({"hd": "b.edu"}, "foreign_domain"),
        ({"email": "someone@gmail.com", "hd": None}, "foreign_domain"),
        ({"email": "dean@unknown.edu", "hd": "unknown.edu"}, "unknown_institution"),
        ({"email": "nobody@a.edu"}, "unknown_person"),
    ],
)
def test_policy_refusals_are_403(
    world: World, google_key: SigningKey, overrides: dict[str, Any], code: str
) -> None:
    answer = sign_in(world, token(google_key, **overrides))
    assert problem_code(answer, 403) == code


def test_a_second_device_for_a_bound_student_is_refused(
    world: World, google_key: SigningKey
) -> None:
    assert sign_in(world, token(google_key)).status_code == 200
    answer = sign_in(world, token(google_key), device_id=OTHER_DEVICE)
    assert problem_code(answer, 403) == "device_mismatch"


def test_a_teacher_signs_in_without_a_device(world: World, google_key: SigningKey) -> None:
    answer = sign_in(world, token(google_key, email="alice@a.edu"), device_id=None)
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["facultyId"] == world.a.alice.id


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(
    world: World, google_key: SigningKey
) -> None:
    first = sign_in(world, token(google_key)).json()
    refreshed = world.client.post(
        "/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert world.client.get("/api/v1/me", headers=bearer(second["accessToken"])).status_code == 200
    # within the grace the app's own second refresh gets the same new token back …
    again = world.client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert again.status_code == 200, again.text
    assert again.json()["refreshToken"] == second["refreshToken"]
    assert again.headers["cache-control"] == "no-store"
    # … after it, the replaced token can only be a stolen copy: the session ends
    later(world, 1)
    reused = world.client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert problem_code(reused, 401) == "invalid_refresh_token"
    for access in (first["accessToken"], second["accessToken"]):
        me = world.client.get("/api/v1/me", headers=bearer(access))
        assert problem_code(me, 401) == "session_revoked"
    latest = world.client.post(
        "/api/v1/auth/refresh", json={"refreshToken": second["refreshToken"]}
    )
    assert problem_code(latest, 401) == "invalid_refresh_token"


def test_sign_out_ends_the_session_at_once(world: World, google_key: SigningKey) -> None:
    tokens = sign_in(world, token(google_key)).json()
    headers = bearer(tokens["accessToken"])
    assert world.client.get("/api/v1/me", headers=headers).status_code == 200
    assert world.client.post("/api/v1/auth/sign-out", headers=headers).status_code == 204
    assert problem_code(world.client.get("/api/v1/me", headers=headers), 401) == "session_revoked"
    refresh = world.client.post(
        "/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
    )
    assert problem_code(refresh, 401) == "invalid_refresh_token"


def test_a_device_reset_ends_the_students_sessions(world: World, google_key: SigningKey) -> None:
    tokens = sign_in(world, token(google_key)).json()
    headers = bearer(tokens["accessToken"])
    assert world.client.get("/api/v1/me", headers=headers).status_code == 200
    reset = world.client.post(
        f"/api/v1/students/{world.a.students[0].id}/device-reset", headers=world.headers("a.admin")
    )
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"studentId": world.a.students[0].id, "removed": True}
    # the reset revokes in the store; this process's revocation cache reloads every 5 s
    world.clock.set(world.clock.now() + timedelta(seconds=5))
    assert problem_code(world.client.get("/api/v1/me", headers=headers), 401) == "session_revoked"
    refresh = world.client.post(
        "/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
    )
    assert problem_code(refresh, 401) == "invalid_refresh_token"
    # the next sign-in binds the new phone
    rebound = sign_in(world, token(google_key), device_id=OTHER_DEVICE)
    assert rebound.status_code == 200, rebound.text
    assert rebound.json()["deviceNewlyBound"] is True
