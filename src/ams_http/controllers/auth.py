"""Sign-in, refresh, sign-out and passwords."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get, post, put
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
from ams_http.auth import ClientAddress
from ams_http.controllers._params import acts
from ams_http.controllers._run import run_in_thread
from ams_http.edge.ratelimit import RATE_LIMIT, REFRESH, SIGN_IN
from ams_http.openapi import (
    SIGNED_IN,
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

TAGS = ["auth"]
#: tokens must never be kept by a browser or an intermediary cache (RFC 6749 §5.1)
NO_STORE = CacheControlHeader(no_store=True)


#: what every public token endpoint shares: tokens answered with 200, never cached
TOKEN_ENDPOINT: Mapping[str, Any] = {
    "status_code": 200,
    "operation_class": PublicOperation,
    "cache_control": NO_STORE,
    "responses": problems(400, 401, 403, 413, 422, 429, 503),
}
SIGN_IN_ENDPOINT: Mapping[str, Any] = {**TOKEN_ENDPOINT, "opt": {RATE_LIMIT: SIGN_IN}}


class AuthController(Controller):
    """Signing in and out."""

    path = "/api/v1/auth"
    tags = TAGS

    @post("/google", operation_id="signInWithGoogle", **SIGN_IN_ENDPOINT)
    @inject
    async def sign_in_with_google(
        self,
        data: JSONBody[GoogleSignInBody],
        use_case: FromDishka[SignInWithGoogle],
        client: FromDishka[ClientAddress],
    ) -> TokenOut:
        """Sign in with a Google ID token; a student's first mobile sign-in binds the device."""
        command = SignInWithGoogleCommand(data.id_token, data.device_id, client.ip)
        return TokenOut.of(await run_in_thread(use_case, command))

    @post("/password", operation_id="signInWithPassword", **SIGN_IN_ENDPOINT)
    @inject
    async def sign_in_with_password(
        self,
        data: JSONBody[PasswordSignInBody],
        use_case: FromDishka[SignInWithPassword],
        client: FromDishka[ClientAddress],
    ) -> TokenOut:
        """Sign in with a password an admin gave (accounts without Google Workspace)."""
        command = SignInWithPasswordCommand(data.email, data.password, data.device_id, client.ip)
        return TokenOut.of(await run_in_thread(use_case, command))

    @post("/refresh", operation_id="refreshTokens", opt={RATE_LIMIT: REFRESH}, **TOKEN_ENDPOINT)
    @inject
    async def refresh_tokens(
        self, data: JSONBody[RefreshBody], use_case: FromDishka[RefreshSignIn]
    ) -> TokenOut:
        """Exchange a refresh token for new tokens (the old refresh token stops working)."""
        return TokenOut.of(await run_in_thread(use_case, RefreshSignInCommand(data.refresh_token)))

    @post(
        "/sign-out",
        operation_id="signOut",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(*SIGNED_IN),
    )
    @inject
    async def sign_out(self, actor: FromDishka[Principal], use_case: FromDishka[SignOut]) -> None:
        """End this session: its access and refresh tokens stop working."""
        await run_in_thread(use_case, SignOutCommand(actor))


@get("/api/v1/me", tags=TAGS, operation_id="getMe", responses=problems(*SIGNED_IN))
@inject
async def get_me(actor: FromDishka[Principal]) -> UserOut:
    """Who the token belongs to and their roles."""
    return UserOut.of(actor)


@put(
    "/api/v1/people/{email:str}/password",
    tags=TAGS,
    operation_id="setPassword",
    **acts(HTTP_204_NO_CONTENT),
)
@inject
async def set_password(
    actor: FromDishka[Principal],
    email: Annotated[str, PathParameter(max_length=254)],
    data: JSONBody[SetPasswordBody],
    use_case: FromDishka[SetPassword],
) -> None:
    """Admin: give a person of the institution a password; their sessions end."""
    await run_in_thread(use_case, SetPasswordCommand(actor, email, data.password))


ROUTES = [AuthController, get_me, set_password]
