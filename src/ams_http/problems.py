"""One table from core errors to RFC 9457 problem responses with a stable ``code``."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)

from ams_core.domain import (
    AmsError,
    AuthenticationError,
    CheckInRefusal,
    CheckInRefusedError,
    ConflictError,
    FileRefusal,
    ImportRejectedError,
    NotFoundError,
    PermissionDeniedError,
    ScheduleConflictError,
    TooManyAttemptsError,
    UnacceptableFileError,
    UnavailableError,
    ValidationError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("ams.http")

_STATUS_BY_ERROR: tuple[tuple[type[AmsError], HTTPStatus], ...] = (
    (AuthenticationError, HTTPStatus.UNAUTHORIZED),
    (PermissionDeniedError, HTTPStatus.FORBIDDEN),
    (NotFoundError, HTTPStatus.NOT_FOUND),
    (ValidationError, HTTPStatus.UNPROCESSABLE_ENTITY),
    (ConflictError, HTTPStatus.CONFLICT),
    (TooManyAttemptsError, HTTPStatus.TOO_MANY_REQUESTS),
    (UnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
)

_STATUS_BY_REFUSAL = {
    CheckInRefusal.NOT_IN_SECTION: HTTPStatus.FORBIDDEN,
    CheckInRefusal.SESSION_CANCELLED: HTTPStatus.CONFLICT,
    CheckInRefusal.SESSION_COMPLETED: HTTPStatus.CONFLICT,
    CheckInRefusal.ATTENDANCE_NOT_OPEN: HTTPStatus.CONFLICT,
    CheckInRefusal.ATTENDANCE_CLOSED: HTTPStatus.CONFLICT,
    CheckInRefusal.DEVICE_NOT_BOUND: HTTPStatus.FORBIDDEN,
    CheckInRefusal.DEVICE_MISMATCH: HTTPStatus.FORBIDDEN,
    CheckInRefusal.OFF_CAMPUS_NETWORK: HTTPStatus.FORBIDDEN,
    CheckInRefusal.LOCKED: HTTPStatus.TOO_MANY_REQUESTS,
    CheckInRefusal.MALFORMED_CODE: HTTPStatus.UNPROCESSABLE_ENTITY,
    CheckInRefusal.WRONG_CODE: HTTPStatus.BAD_REQUEST,
}


_STATUS_BY_FILE_REFUSAL = {
    FileRefusal.TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    FileRefusal.NOT_XLSX: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
}

_CODE_BY_HTTP_STATUS = {
    HTTPStatus.BAD_REQUEST: "malformed_request",
    HTTPStatus.UNAUTHORIZED: "unauthenticated",
    HTTPStatus.FORBIDDEN: "forbidden",
    HTTPStatus.NOT_FOUND: "not_found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "request_too_large",
    HTTPStatus.TOO_MANY_REQUESTS: "rate_limited",
    HTTPStatus.NOT_ACCEPTABLE: "not_acceptable",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
}


def status_for(error: AmsError) -> HTTPStatus:
    """The HTTP status that answers a core error."""
    if isinstance(error, CheckInRefusedError):
        return _STATUS_BY_REFUSAL[error.reason]
    if isinstance(error, UnacceptableFileError):
        return _STATUS_BY_FILE_REFUSAL.get(error.reason, HTTPStatus.UNPROCESSABLE_ENTITY)
    for kind, status in _STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return HTTPStatus.BAD_REQUEST


def problem(
    request: Request[Any, Any, Any],
    status: HTTPStatus,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> Response[dict[str, object]]:
    """An ``application/problem+json`` response."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": status.phrase,
        "status": int(status),
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return Response(body, status_code=int(status), media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def ams_error_handler(
    request: Request[Any, Any, Any], error: AmsError
) -> Response[dict[str, object]]:
    status = status_for(error)
    headers: dict[str, str] = {}
    extra: dict[str, object] = {}
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="ams"'
    if isinstance(error, TooManyAttemptsError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, UnavailableError):
        headers["Retry-After"] = "5"
        log.warning("unavailable: %s (%s %s)", error, request.method, request.url.path)
    if isinstance(error, ImportRejectedError):
        extra["errors"] = [
            {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message}
            for p in error.import_problems
        ]
        extra["errorCount"] = error.total
    elif isinstance(error, ValidationError):
        extra["errors"] = [{"field": p.field, "message": p.message} for p in error.problems]
    if isinstance(error, CheckInRefusedError):
        extra["attemptsLeft"] = error.attempts_left
    if isinstance(error, ScheduleConflictError):
        extra["clashes"] = [{"kind": c.kind.value, "with": c.other} for c in error.clashes]
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS):
        user = request.scope.get("user")
        log.info(
            "refused %s %s: %s (%s) user=%s ip=%s",
            request.method,
            request.url.path,
            error.code,
            int(status),
            getattr(user, "email", None),
            request.client.host if request.client else None,
        )
    return problem(request, status, error.code, error.message, headers=headers or None, **extra)


#: a body's own check names its field first ("email: must not …"), at the body's path
_NAMED = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]]*): (?P<message>.+)$", re.DOTALL)


def _field_error(key: str, message: str) -> dict[str, str]:
    named = _NAMED.match(message)
    if named is None:
        return {"field": key, "message": message}
    at = "" if key in ("", "data", "body") else f"{key}."
    return {"field": at + named["field"], "message": named["message"]}


def validation_handler(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[dict[str, object]]:
    errors = [
        _field_error(str(item.get("key") or item.get("source") or ""), str(item["message"]))
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict) and "message" in item
    ]
    return problem(
        request,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid_input",
        "the request is not valid",
        errors=errors or [{"field": "", "message": str(error.detail)}],
    )


def http_error_handler(
    request: Request[Any, Any, Any], error: HTTPException
) -> Response[dict[str, object]]:
    status = HTTPStatus(error.status_code)
    code = _CODE_BY_HTTP_STATUS.get(status, "http_error")
    headers = dict(error.headers or {})
    if isinstance(error, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="ams"')
    detail = error.detail if status < HTTPStatus.INTERNAL_SERVER_ERROR else status.phrase
    return problem(request, status, code, detail or status.phrase, headers=headers or None)


def nesting_handler(
    request: Request[Any, Any, Any], error: RecursionError
) -> Response[dict[str, object]]:
    # msgspec gives up on deeply nested JSON with a RecursionError, before any handler runs
    return problem(
        request,
        HTTPStatus.BAD_REQUEST,
        "malformed_body",
        "the request body is nested too deeply",
    )


def overflow_handler(
    request: Request[Any, Any, Any], error: OverflowError
) -> Response[dict[str, object]]:
    # a date or number so large that arithmetic on it leaves the representable range
    log.info("out of range input on %s %s: %s", request.method, request.url.path, error)
    return problem(
        request,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "out_of_range",
        "a date or number in the request is out of the supported range",
        errors=[{"field": "", "message": str(error)}],
    )


def internal_error_handler(
    request: Request[Any, Any, Any], error: Exception
) -> Response[dict[str, object]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(
        request,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "internal_error",
        "something went wrong on our side; it has been logged",
    )


def answered_status(error: BaseException) -> int:
    """The status :data:`EXCEPTION_HANDLERS` answer ``error`` with (for the request
    metrics, which see the error before it becomes a problem)."""
    if isinstance(error, AmsError):
        return int(status_for(error))
    if isinstance(error, ValidationException | OverflowError):
        return int(HTTPStatus.UNPROCESSABLE_ENTITY)
    if isinstance(error, HTTPException):
        return error.status_code
    if isinstance(error, RecursionError):
        return int(HTTPStatus.BAD_REQUEST)
    return int(HTTPStatus.INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS: Any = {
    AmsError: ams_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    RecursionError: nesting_handler,
    OverflowError: overflow_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_MEDIA_TYPE", "answered_status", "problem", "status_for"]
