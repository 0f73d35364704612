"""Helpers of the edge tests: more apps over one world, a chosen client address, check-ins."""

from __future__ import annotations

from typing import Any

from dishka import Provider
from litestar import Litestar
from litestar.types import Receive, Scope, Send

from ams_adapters.composition import ExcelProvider, IdentityProvider, UseCaseProvider
from ams_adapters.identity import Argon2PasswordHasher, IdentitySettings
from ams_core.domain import DeviceBinding, DeviceId, SessionId
from ams_core.testing.builders import SmallCollege
from ams_http.app import create_app
from ams_http.settings import HttpSettings
from tests.http.conftest import SECRET, FixedSystemProvider, World

PEER_HEADER = "x-test-peer"


def make_app(world: World, settings: HttpSettings, *extra: Provider) -> Litestar:
    """Another API process over the world's data (same store, clock and token secret)."""
    app = create_app(
        FixedSystemProvider(world.clock),
        world.persistence(),
        IdentityProvider(
            IdentitySettings(secret_key=SECRET, google_client_ids=("client-web",)),
            Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        ),
        ExcelProvider(),
        UseCaseProvider(),
        *extra,
        settings=settings,
    )
    return with_peer_header(app)


def with_peer_header(app: Litestar) -> Litestar:
    """The test client always connects from "testclient": take the peer from a test header."""
    inner = app.asgi_handler

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()):
            if name == PEER_HEADER.encode():
                scope["client"] = (value.decode(), 40000)
        await inner(scope, receive, send)

    app.asgi_handler = handler
    return app


def from_ip(world: World, who: str, ip: str, **extra: str) -> dict[str, str]:
    """The headers of ``who`` connecting from ``ip``."""
    return {**world.headers(who), PEER_HEADER: ip, **extra}


def device(who: str) -> str:
    return f"device-{who.replace('.', '-')}-0001"


def bind_devices(world: World) -> None:
    """Bind ``device(who)`` for the student and the class representative of a and b."""
    for name, college in (("a", world.a), ("b", world.b)):
        _bind(world, college, name)


def _bind(world: World, college: SmallCollege, name: str) -> None:
    uow = world.uow()
    with uow.for_institution(college.id):
        for role, index in (("student", 0), ("cr", 1)):
            binding = DeviceBinding(
                college.id,
                college.students[index].id,
                DeviceId(device(f"{name}.{role}")),
                world.clock.now(),
            )
            uow.devices.add(binding)
        uow.commit()


def open_attendance(client: Any, world: World, institution: str = "a") -> str:
    """Alice opens her Monday session of ``institution``; the code shown in class."""
    session = world.session_a if institution == "a" else world.session_b
    answer = client.post(
        f"/api/v1/sessions/{session}/attendance-code",
        headers=world.headers(f"{institution}.faculty"),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["code"])


def check_in_path(session: SessionId) -> str:
    return f"/api/v1/sessions/{session}/check-in"
