"""Rotating six-digit check-in codes (HMAC time-based, in the manner of RFC 6238)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

CODE_DIGITS = 6
_MODULUS = 10**CODE_DIGITS


def code_step(at: datetime, rotation_seconds: int) -> int:
    """Return the time step ``at`` falls in; a rotation of 0 means one static step."""
    if rotation_seconds <= 0:
        return 0
    return int(at.timestamp()) // rotation_seconds


def code_for_step(secret: bytes, step: int) -> str:
    """Return the zero-padded code of ``step`` for ``secret`` (HMAC-SHA256, dynamic truncation)."""
    digest = hmac.new(secret, step.to_bytes(8, "big", signed=False), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % _MODULUS:0{CODE_DIGITS}d}"


def current_code(secret: bytes, at: datetime, rotation_seconds: int) -> str:
    """Return the code a teacher's screen shows at ``at``."""
    return code_for_step(secret, code_step(at, rotation_seconds))


def is_well_formed(code: str) -> bool:
    """Return whether ``code`` is exactly six ASCII digits."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def code_matches(secret: bytes, code: str, at: datetime, rotation_seconds: int) -> bool:
    """Return whether ``code`` is the code of the current or the previous step.

    Both candidates are always compared, in constant time, so the answer time does not tell
    which step (if any) matched.
    """
    step = code_step(at, rotation_seconds)
    supplied = code.encode("ascii", "replace")
    current = hmac.compare_digest(supplied, code_for_step(secret, step).encode())
    previous = step > 0 and hmac.compare_digest(supplied, code_for_step(secret, step - 1).encode())
    return current or previous
