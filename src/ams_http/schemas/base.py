"""The base of every request and response body."""

from __future__ import annotations

from typing import Annotated

import msgspec


class CamelStruct(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """camelCase on the wire; unknown fields in a request are refused (no mass assignment)."""


Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
DeviceIdText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
