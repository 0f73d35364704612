"""Bearer-token authentication: every request outside the open paths carries a principal."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import anyio.to_thread
from dishka import Provider, Scope, from_context, provide
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from ams_core.domain import AuthenticationError, Principal
from ams_core.use_cases import Authenticate
from ams_http.settings import HttpSettings

if TYPE_CHECKING:
    from litestar.types import Scope as AsgiScope

OPEN_PATHS = (
    "^/api/v1/auth/google$",
    "^/api/v1/auth/password$",
    "^/api/v1/auth/refresh$",
    "^/health/",
    "^/schema",
    "^/metrics$",
)
MAX_TOKEN_LENGTH = 4096


class BearerAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Verify ``Authorization: Bearer <access token>``; tokens in the URL are never read."""

    _authenticate: Authenticate | None = None

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("sign in first: send Authorization: Bearer <token>")
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationError("the token is not valid", code="invalid_token")
        authenticate = self._authenticate
        if authenticate is None:  # an app-scoped object: resolve it once, not per request
            authenticate = await connection.app.state.dishka_container.get(Authenticate)
            self._authenticate = authenticate
        principal = authenticate.verify(token)  # signature and claims: cheap, on the loop
        if authenticate.revocations_are_current(principal):
            authenticate.refuse_if_revoked(principal, reload=False)
        elif authenticate.claim_revocation_reload(principal):
            # every few seconds one request reads the list again, off the loop; claimed
            # here, so the requests arriving meanwhile answer from the list loaded before
            # instead of each queueing for a worker thread behind a busy loop
            reload = authenticate.reload_and_refuse_if_revoked
            await anyio.to_thread.run_sync(reload, principal)
        else:  # no list loaded yet, and another request reads it: wait for that read
            await anyio.to_thread.run_sync(authenticate.refuse_if_revoked, principal)
        return AuthenticationResult(user=principal, auth=token)


@dataclass(frozen=True, slots=True)
class ClientAddress:
    """Where the request came from (``None``: the server could not tell)."""

    ip: str | None


class PrincipalProvider(Provider):
    """Who is asking, for the handlers: the authenticated principal
    (``actor: FromDishka[Principal]``, set by :class:`BearerAuthenticationMiddleware`) and the
    client's address (``FromDishka[ClientAddress]``)."""

    request = from_context(provides=Request, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def principal(self, request: Request) -> Principal:  # type: ignore[type-arg]
        return signed_in(request)

    @provide(scope=Scope.REQUEST)
    def client_address(
        self,
        request: Request,  # type: ignore[type-arg]
        settings: HttpSettings,
    ) -> ClientAddress:
        return ClientAddress(client_ip(request, settings.trusted_proxies))


def signed_in(request: Request[Any, Any, Any]) -> Principal:
    """Who is asking (set by the bearer middleware on every route outside the open paths)."""
    return cast(Principal, request.user)


@functools.cache
def _networks(
    trusted_proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(net, strict=False) for net in trusted_proxies)


def client_ip(request: Request[Any, Any, Any], trusted_proxies: tuple[str, ...]) -> str | None:
    """The client's address; ``X-Forwarded-For`` counts only from a trusted proxy."""
    return scope_client_ip(request.scope, trusted_proxies)


def scope_client_ip(scope: AsgiScope, trusted_proxies: tuple[str, ...]) -> str | None:
    """:func:`client_ip` of a request's ASGI scope (no request object built for it)."""
    client = scope.get("client")
    peer = client[0] if client else None
    if peer is None or not trusted_proxies:
        return peer
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if not any(address in network for network in _networks(trusted_proxies)):
        return peer
    header = Headers.from_scope(scope).get("x-forwarded-for", "")
    forwarded = [part.strip() for part in header.split(",")]
    return next((hop for hop in reversed(forwarded) if hop), peer)
