"""Text the API refuses at the edge: control characters and unpaired surrogates.

PostgreSQL cannot store a NUL in text and SQLite stores it silently; neither has any use
for a backspace in a name or a lone UTF-16 surrogate. Request bodies check their strings
when they are decoded (``CamelBody``), and query strings and paths are checked before a
handler runs (``TextGuardMiddleware``), so every such input is a 422 naming the field.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

#: C0 controls except tab, line feed and carriage return; DEL; unpaired surrogates
_NEVER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: the same plus tab, line feed and carriage return, for single-line text
_NOT_ON_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def refusal(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` is refused, or ``None`` when it is acceptable."""
    match = (_NEVER if multiline else _NOT_ON_ONE_LINE).search(text)
    if match is None:
        return None
    character = match.group()
    if "\ud800" <= character <= "\udfff":
        return "must be valid Unicode text (an unpaired surrogate was found)"
    if multiline:
        return f"must not contain the control character U+{ord(character):04X}"
    return f"must not contain control characters or line breaks (found U+{ord(character):04X})"


def check_value(field: str, value: Any, *, multiline: bool = False) -> None:
    """Raise ``ValueError`` naming ``field`` when a string in ``value`` is refused.

    Strings inside lists, tuples and the keys and values of dicts are checked too; nested
    request bodies check themselves.
    """
    if isinstance(value, str):
        reason = refusal(value, multiline=multiline)
        if reason is not None:
            raise ValueError(f"{field}: {reason}")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_value(field, item, multiline=multiline)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(field, key)
            check_value(f"{field}.{key}", item, multiline=multiline)


class TextGuardMiddleware(ASGIMiddleware):
    """Refuse a path or query string carrying refused characters, before any handler."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        problems = []
        if refusal(scope["path"]) is not None:
            problems.append({"key": "path", "message": "the path contains control characters"})
        raw_query = scope.get("query_string", b"")
        if raw_query:
            try:
                decoded = parse_qsl(raw_query.decode(), keep_blank_values=True, errors="strict")
            except UnicodeDecodeError:
                problems.append({"key": "query", "message": "the query string is not UTF-8"})
                decoded = []
            for name, value in decoded:
                reason = refusal(name) or refusal(value)
                if reason is not None:
                    problems.append({"key": name[:64], "message": reason})
        if problems:
            raise ValidationException("the request is not valid", extra=problems)
        await next_app(scope, receive, send)
