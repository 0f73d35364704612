"""Platform-operator tokens at the API: they work until revoked, then answer 401
``session_revoked`` (within the revocation cache's refresh when revoked by another process,
such as ``ams token revoke``); tokens naming no recorded sign-in are refused."""

from __future__ import annotations

from datetime import timedelta

from httpx import Response

from ams_adapters.identity import JwtAccessTokens
from ams_core.domain import Principal, Role
from ams_core.testing.builders import OPERATOR
from ams_core.use_cases import (
    ListOperatorTokens,
    ListOperatorTokensCommand,
    RevocationCache,
    RevokeOperatorTokens,
    RevokeOperatorTokensCommand,
)
from tests.http.conftest import SECRET, World

#: what the API's revocation cache waits before reading revocations made elsewhere again
REFRESH = timedelta(seconds=5)


def problem_code(answer: Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return str(answer.json()["code"])


def revoke_elsewhere(world: World, command: RevokeOperatorTokensCommand) -> int:
    """Revoke as another process does (the CLI): its own cache, the same store."""
    revocations = RevocationCache(world.uow, world.clock, lookback=timedelta(minutes=15))
    return len(RevokeOperatorTokens(world.uow(), world.clock, revocations)(command).revoked)


def test_a_revoked_operator_token_answers_401_within_the_cache_refresh(any_world: World) -> None:
    world = any_world
    headers = world.headers("operator")
    me = world.client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ops@ams.local"

    (recorded,) = ListOperatorTokens(world.uow(), world.clock)(ListOperatorTokensCommand(OPERATOR))
    assert recorded.email == "ops@ams.local"
    assert revoke_elsewhere(world, RevokeOperatorTokensCommand(OPERATOR, sign_in_id=recorded.id))

    # the API read the revoked list before the revocation, and reads it again 5 s later
    assert world.client.get("/api/v1/me", headers=headers).status_code == 200
    world.clock.set(world.clock.now() + REFRESH)
    refused = world.client.get("/api/v1/me", headers=headers)
    assert problem_code(refused, 401) == "session_revoked"
    assert world.client.get("/api/v1/me", headers=world.headers("a.admin")).status_code == 200


def test_an_operator_signing_out_ends_the_token_at_once(world: World) -> None:
    headers = world.headers("operator")
    assert world.client.get("/api/v1/me", headers=headers).status_code == 200

    assert world.client.post("/api/v1/auth/sign-out", headers=headers).status_code == 204

    assert problem_code(world.client.get("/api/v1/me", headers=headers), 401) == "session_revoked"
    active = ListOperatorTokens(world.uow(), world.clock)(ListOperatorTokensCommand(OPERATOR))
    assert active == ()


def test_an_operator_token_naming_no_recorded_sign_in_is_refused(world: World) -> None:
    """Tokens minted before operator tokens were recorded have no ``sid`` claim."""
    legacy = Principal("ops@ams.local", frozenset({Role.PLATFORM_OPERATOR}))
    token = JwtAccessTokens(SECRET, clock=world.clock).issue(legacy, world.clock.now()).token

    answer = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert problem_code(answer, 401) == "invalid_token"
