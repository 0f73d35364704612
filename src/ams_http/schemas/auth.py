"""Sign-in bodies and the token answer."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ams_core.domain import Principal
from ams_core.use_cases import SignInResult
from ams_http.schemas.base import CamelBody, CamelStruct, DeviceIdText

IdTokenText = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
EmailText = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
PasswordText = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
RefreshTokenText = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class GoogleSignInBody(CamelBody):
    id_token: IdTokenText
    device_id: DeviceIdText | None = None


class PasswordSignInBody(CamelBody):
    email: EmailText
    password: PasswordText
    device_id: DeviceIdText | None = None


class RefreshBody(CamelBody):
    refresh_token: RefreshTokenText


class SetPasswordBody(CamelBody):
    password: PasswordText


class UserOut(CamelStruct):
    email: str
    name: str
    roles: list[str]
    institution_id: str | None
    student_id: str | None = None
    faculty_id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> UserOut:
        return cls(
            email=principal.email,
            name=principal.display_name,
            roles=sorted(role.value for role in principal.roles),
            institution_id=principal.institution_id,
            student_id=principal.student_id,
            faculty_id=principal.faculty_id,
        )


class TokenOut(CamelStruct):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: str
    user: UserOut
    device_newly_bound: bool

    @classmethod
    def of(cls, result: SignInResult) -> TokenOut:
        return cls(
            access_token=result.access_token,
            token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
            expires_in=result.expires_in,
            refresh_token=result.refresh_token,
            user=UserOut.of(result.principal),
            device_newly_bound=result.device_newly_bound,
        )
