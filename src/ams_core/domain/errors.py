"""The error tree of the core.

Every error carries a stable machine-readable ``code`` (the HTTP edge turns it into the
``code`` member of an RFC 9457 problem) and a human message. Adapters translate their own
failures into these classes, so nothing above the ports ever sees a driver exception.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class AmsError(Exception):
    """Base class of every error the core and its ports raise on purpose."""

    code: str = "ams_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class NotFoundError(AmsError):
    """The object does not exist, or belongs to another institution (never tell which)."""

    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!s} was not found", code=f"{kind}_not_found")
        self.kind = kind
        self.key = key


class PermissionDeniedError(AmsError):
    """The actor is known and in the right institution but may not do this."""

    code = "forbidden"


class AuthenticationError(AmsError):
    """The credentials are missing, malformed, expired or not trusted."""

    code = "unauthenticated"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid input value: where it is and what is wrong with it."""

    field: str
    message: str


class ValidationError(AmsError):
    """The input is malformed or breaks a rule that needs no stored state to check."""

    code = "invalid_input"

    def __init__(self, problems: Iterable[FieldProblem] | str, *, code: str | None = None) -> None:
        if isinstance(problems, str):
            problems = (FieldProblem("", problems),)
        self.problems = tuple(problems)
        text = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in self.problems)
        super().__init__(text or "invalid input", code=code)


class ConflictError(AmsError):
    """The request is valid but clashes with the stored state (duplicate, wrong status)."""

    code = "conflict"


class ConcurrencyError(ConflictError):
    """Another writer changed the object since it was read; reload and try again."""

    code = "concurrent_update"


class TooManyAttemptsError(AmsError):
    """The actor tried too often; ``retry_after_seconds`` tells when to try again."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class UnavailableError(AmsError):
    """A backing service (database, broker, push provider) is unreachable right now."""

    code = "unavailable"


class FileRefusal(enum.Enum):
    """Why an uploaded file was refused before its rows were read; the value is the code."""

    TOO_LARGE = "file_too_large"
    NOT_XLSX = "not_xlsx"
    UNSAFE_ARCHIVE = "unsafe_archive"
    XML_ENTITIES = "xml_entities_refused"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_COLUMNS = "too_many_columns"
    UNREADABLE = "unreadable_workbook"


class UnacceptableFileError(AmsError):
    """An uploaded file is refused as a whole (size, type, an unsafe archive, limits)."""

    def __init__(self, reason: FileRefusal, message: str) -> None:
        super().__init__(message, code=reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong in an uploaded workbook, where a person can find it.

    ``row`` is the spreadsheet's own row number (1 is the first row); ``column`` is the
    header as written in the file (or the expected header when it is missing); both are
    ``None`` when the problem is about the whole sheet or file.
    """

    sheet: str
    row: int | None
    column: str | None
    message: str


class ImportRejectedError(ValidationError):
    """A workbook has errors, so nothing of it was written.

    ``problems`` lists the first of them (at most a cap); ``total`` counts them all.
    """

    code = "import_invalid"

    def __init__(self, problems: Iterable[ImportProblem], total: int) -> None:
        listed = tuple(problems)
        noun = "error" if total == 1 else "errors"
        AmsError.__init__(self, f"the workbook has {total} {noun}; nothing was imported")
        self.problems = ()
        self.import_problems = listed
        self.total = total


class CheckInRefusal(enum.Enum):
    """Why a student's check-in was refused; the value is the stable error code."""

    NOT_IN_SECTION = "not_in_section"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_COMPLETED = "session_completed"
    ATTENDANCE_NOT_OPEN = "attendance_not_open"
    ATTENDANCE_CLOSED = "attendance_closed"
    DEVICE_NOT_BOUND = "device_not_bound"
    DEVICE_MISMATCH = "device_mismatch"
    OFF_CAMPUS_NETWORK = "off_campus_network"
    LOCKED = "check_in_locked"
    MALFORMED_CODE = "malformed_code"
    WRONG_CODE = "wrong_code"


_REFUSAL_MESSAGES = {
    CheckInRefusal.NOT_IN_SECTION: "you are not a student of this class",
    CheckInRefusal.SESSION_CANCELLED: "this class was cancelled",
    CheckInRefusal.SESSION_COMPLETED: "attendance for this class is already closed and recorded",
    CheckInRefusal.ATTENDANCE_NOT_OPEN: "the teacher has not opened attendance for this class",
    CheckInRefusal.ATTENDANCE_CLOSED: "the check-in window for this class has closed",
    CheckInRefusal.DEVICE_NOT_BOUND: "no device is bound to your account; sign in from your phone",
    CheckInRefusal.DEVICE_MISMATCH: "check-in is only possible from the device bound to you",
    CheckInRefusal.OFF_CAMPUS_NETWORK: "check-in is only possible from the campus network",
    CheckInRefusal.LOCKED: "too many wrong codes: ask your teacher to mark you by hand",
    CheckInRefusal.MALFORMED_CODE: "the code must be exactly 6 digits",
    CheckInRefusal.WRONG_CODE: "the code is not valid",
}


class CheckInRefusedError(AmsError):
    """A check-in was refused; ``reason`` tells which rule refused it."""

    def __init__(self, reason: CheckInRefusal, *, attempts_left: int | None = None) -> None:
        super().__init__(_REFUSAL_MESSAGES[reason], code=reason.value)
        self.reason = reason
        self.attempts_left = attempts_left
