"""Database errors become core errors; no driver exception crosses the port."""

from __future__ import annotations

import logging
import re

from sqlalchemy import UniqueConstraint
from sqlalchemy import exc as sa_exc

from ams_adapters.sql.tables import metadata
from ams_core.domain import (
    AmsError,
    ConcurrencyError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)

logger = logging.getLogger("ams.sql")

#: Unique constraints whose violation has a meaning of its own.
CONFLICT_CODES = {
    "uq_students_institution_id_email": ("email_taken", "the email is already used"),
    "uq_faculty_institution_id_email": ("email_taken", "the email is already used"),
    "uq_assignments_natural_key": (
        "assignment_exists",
        "this teacher already teaches this subject to this section",
    ),
    "uq_class_sessions_institution_id_slot_id_day": (
        "session_exists",
        "the slot already has a session on that date",
    ),
    "pk_holidays": ("holiday_exists", "that date is already a holiday"),
    "pk_device_bindings": ("device_mismatch", "the student already has a device"),
    "uq_device_bindings_institution_id_device_id": (
        "device_in_use",
        "the device is bound to another student",
    ),
    "pk_institution_domains": ("domain_taken", "the domain belongs to another institution"),
    "uq_cover_assignments_institution_id_session_id": (
        "session_already_covered",
        "the session is already covered",
    ),
    "ex_cover_assignments_substitute_overlap": (
        "substitute_double_booked",
        "the substitute already covers a class at that time",
    ),
    "uq_cover_needs_active_session": (
        "session_already_needs_cover",
        "the session already needs cover",
    ),
    "uq_cover_offers_open_need": (
        "need_already_offered",
        "the cover need already has an open offer",
    ),
    **{
        f"uq_substitute_preferences_{scope}": (
            "preference_exists",
            "the substitute already has that preference",
        )
        for scope in ("faculty_id", "section_id", "subject_code")
    },
}

_PG_SQLSTATE_UNAVAILABLE = ("08", "53", "57P")


def _sqlite_constraint(message: str) -> str | None:
    match = re.search(r"UNIQUE constraint failed: ([\w., ]+)", message)
    if match is None:
        return None
    parts = [p.strip().split(".") for p in match.group(1).split(",")]
    table_name = parts[0][0]
    columns = {p[1] for p in parts}
    table = metadata.tables.get(table_name)
    if table is None:
        return None
    if {c.name for c in table.primary_key.columns} == columns:
        return str(table.primary_key.name)
    for constraint in table.constraints:
        if not isinstance(constraint, UniqueConstraint):
            continue
        names = {c.name for c in constraint.columns}
        if names == columns and constraint.name:
            return str(constraint.name)
    for column in table.columns:
        if column.unique and {column.name} == columns:
            return f"uq_{table_name}_{column.name}"
    # unique indexes (partial ones included): SQLite names their columns too
    for index in table.indexes:
        if index.unique and index.name and {c.name for c in index.columns} == columns:
            return str(index.name)
    return None


def _sqlstate(error: sa_exc.DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", "") or "")


def _constraint(error: sa_exc.DBAPIError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    return _sqlite_constraint(str(error.orig))


def _is_delete(error: sa_exc.DBAPIError) -> bool:
    """Whether the failed statement was a DELETE (a foreign key then refused to orphan rows
    that still refer to the deleted one, rather than finding a parent missing)."""
    return str(error.statement or "").lstrip().upper().startswith("DELETE")


def _referrer(error: sa_exc.DBAPIError) -> str:
    """What still refers to a row whose DELETE was refused: PostgreSQL names the referring
    table; SQLite does not."""
    table = getattr(getattr(error.orig, "diag", None), "table_name", None)
    return str(table).replace("_", " ") if table else "other records"


def translate_driver_error(error: Exception, statement: str, kind: str = "row") -> AmsError:
    """The core error for a failure raised by psycopg itself, on statements the adapter
    sends on the driver connection (COPY, direct reads): wrapped as SQLAlchemy would."""
    wrapped = sa_exc.DBAPIError.instance(
        statement, None, error, Exception, connection_invalidated=False
    )
    return translate(wrapped, kind)


def translate(error: sa_exc.SQLAlchemyError, kind: str = "row") -> AmsError:
    """The core error that stands for a database failure."""
    if isinstance(error, sa_exc.TimeoutError):
        return UnavailableError("no database connection is free; try again shortly")
    if not isinstance(error, sa_exc.DBAPIError):
        return UnavailableError("the database failed")
    state = _sqlstate(error)
    if isinstance(error, sa_exc.IntegrityError) or state == "23P01":
        name = _constraint(error)
        if state == "23503" or "FOREIGN KEY" in str(error.orig):
            if _is_delete(error):
                return ConflictError(
                    f"the {kind} is still referred to by {_referrer(error)}", code="in_use"
                )
            referred = (name or "").rsplit("_", 1)[-1] or "reference"
            return NotFoundError(referred.rstrip("s") or "reference", "referenced")
        if state == "23514" or "CHECK constraint" in str(error.orig):
            return ValidationError(f"the {kind} breaks a rule of the database ({name})")
        if name in CONFLICT_CODES:
            code, message = CONFLICT_CODES[name]
            return ConflictError(message, code=code)
        if name is not None and name.startswith("pk_"):
            return ConflictError(f"the {kind} already exists", code=f"{kind}_exists")
        return ConflictError(f"the {kind} clashes with stored data")
    if state.startswith("22") or isinstance(error, sa_exc.DataError):
        # a data exception: the value itself is unacceptable (NUL in text, out of range…);
        # the edge refuses such input first, this keeps it a client error if one slips by
        logger.info("value refused by the database (%s): %s", state, error.orig)
        return ValidationError(f"a value of the {kind} cannot be stored", code="invalid_value")
    if state == "42501":
        return PermissionDeniedError(
            "the row belongs to another institution", code="tenant_mismatch"
        )
    if state in ("40001", "40P01"):
        return ConcurrencyError("a concurrent transaction got in the way; try again")
    if state == "57014":
        return UnavailableError("the database took too long to answer")
    if error.connection_invalidated or state.startswith(_PG_SQLSTATE_UNAVAILABLE):
        return UnavailableError("the database is unavailable")
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        logger.warning("database unavailable: %s", error.orig)
        return UnavailableError("the database is unavailable")
    # not a state of the world but most likely a bug: keep the details for the operator
    logger.error("unexpected database error (%s): %s", state or type(error.orig).__name__, error)
    return UnavailableError("the database failed")
