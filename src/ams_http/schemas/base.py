"""The base of every request and response body."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from ams_http.text_guard import check_value


class CamelStruct(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """camelCase on the wire; unknown fields in a request are refused (no mass assignment)."""


class CamelBody(CamelStruct):
    """A request body: its strings carry no control characters or unpaired surrogates.

    Fields named in ``multiline`` may hold tabs and line breaks (a message, a reason).
    """

    multiline: ClassVar[frozenset[str]] = frozenset({"body", "reason", "topic", "note"})

    def __post_init__(self) -> None:
        encode_names = self.__struct_encode_fields__
        for index, name in enumerate(self.__struct_fields__):
            check_value(encode_names[index], getattr(self, name), multiline=name in self.multiline)


Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
DeviceIdText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
