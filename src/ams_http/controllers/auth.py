"""Sign-in, refresh, sign-out and passwords."""

from __future__ import annotations

from typing import Annotated, Any

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, get, post, put
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from ams_core.domain import Principal
from ams_core.use_cases import (
    RefreshSignIn,
    RefreshSignInCommand,
    SetPassword,
    SetPasswordCommand,
    SignInWithGoogle,
    SignInWithGoogleCommand,
    SignInWithPassword,
    SignInWithPasswordCommand,
    SignOut,
    SignOutCommand,
)
from ams_http.auth import client_ip
from ams_http.controllers._run import run
from ams_http.edge.ratelimit import RATE_LIMIT, REFRESH, SIGN_IN
from ams_http.openapi import (
    IDEMPOTENT,
    SIGNED_IN,
    IdempotentOperation,
    PublicOperation,
    problems,
)
from ams_http.schemas.auth import (
    GoogleSignInBody,
    PasswordSignInBody,
    RefreshBody,
    SetPasswordBody,
    TokenOut,
    UserOut,
)
from ams_http.settings import HttpSettings

TAGS = ["auth"]
#: tokens must never be kept by a browser or an intermediary cache (RFC 6749 §5.1)
NO_STORE = CacheControlHeader(no_store=True)


@post(
    "/api/v1/auth/google",
    tags=TAGS,
    operation_id="signInWithGoogle",
    status_code=200,
    operation_class=PublicOperation,
    cache_control=NO_STORE,
    opt={RATE_LIMIT: SIGN_IN},
    responses=problems(400, 401, 403, 413, 422, 429, 503),
)
@inject
async def sign_in_with_google(
    request: Request[Any, Any, Any],
    data: JSONBody[GoogleSignInBody],
    use_case: FromDishka[SignInWithGoogle],
    settings: FromDishka[HttpSettings],
) -> TokenOut:
    """Sign in with a Google ID token; a student's first mobile sign-in binds the device."""
    command = SignInWithGoogleCommand(
        data.id_token, data.device_id, client_ip(request, settings.trusted_proxies)
    )
    return TokenOut.of(await run(use_case, command))


@post(
    "/api/v1/auth/password",
    tags=TAGS,
    operation_id="signInWithPassword",
    status_code=200,
    operation_class=PublicOperation,
    cache_control=NO_STORE,
    opt={RATE_LIMIT: SIGN_IN},
    responses=problems(400, 401, 403, 413, 422, 429, 503),
)
@inject
async def sign_in_with_password(
    request: Request[Any, Any, Any],
    data: JSONBody[PasswordSignInBody],
    use_case: FromDishka[SignInWithPassword],
    settings: FromDishka[HttpSettings],
) -> TokenOut:
    """Sign in with a password an admin gave (accounts without Google Workspace)."""
    command = SignInWithPasswordCommand(
        data.email, data.password, data.device_id, client_ip(request, settings.trusted_proxies)
    )
    return TokenOut.of(await run(use_case, command))


@post(
    "/api/v1/auth/refresh",
    tags=TAGS,
    operation_id="refreshTokens",
    status_code=200,
    operation_class=PublicOperation,
    cache_control=NO_STORE,
    opt={RATE_LIMIT: REFRESH},
    responses=problems(400, 401, 403, 413, 422, 429, 503),
)
@inject
async def refresh_tokens(
    data: JSONBody[RefreshBody], use_case: FromDishka[RefreshSignIn]
) -> TokenOut:
    """Exchange a refresh token for new tokens (the old refresh token stops working)."""
    return TokenOut.of(await run(use_case, RefreshSignInCommand(data.refresh_token)))


@post(
    "/api/v1/auth/sign-out",
    tags=TAGS,
    operation_id="signOut",
    status_code=HTTP_204_NO_CONTENT,
    responses=problems(*SIGNED_IN),
)
@inject
async def sign_out(actor: FromDishka[Principal], use_case: FromDishka[SignOut]) -> None:
    """End this session: its access and refresh tokens stop working."""
    await run(use_case, SignOutCommand(actor))


@get("/api/v1/me", tags=TAGS, operation_id="getMe", responses=problems(*SIGNED_IN))
@inject
async def get_me(actor: FromDishka[Principal]) -> UserOut:
    """Who the token belongs to and their roles."""
    return UserOut.of(actor)


@put(
    "/api/v1/people/{email:str}/password",
    tags=TAGS,
    operation_id="setPassword",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=problems(*SIGNED_IN, *IDEMPOTENT, 403, 404, 413),
)
@inject
async def set_password(
    actor: FromDishka[Principal],
    email: Annotated[str, PathParameter(max_length=254)],
    data: JSONBody[SetPasswordBody],
    use_case: FromDishka[SetPassword],
) -> None:
    """Admin: give a person of the institution a password; their sessions end."""
    await run(use_case, SetPasswordCommand(actor, email, data.password))


ROUTES = [
    sign_in_with_google,
    sign_in_with_password,
    refresh_tokens,
    sign_out,
    get_me,
    set_password,
]
