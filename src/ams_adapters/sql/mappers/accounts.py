"""Rows of sign-ins, operator sign-ins and password credentials."""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    DeviceId,
    InstitutionId,
    OperatorSignIn,
    PasswordCredential,
    SignIn,
    SignInId,
    SignInMethod,
)
from ams_core.domain.people import fold_email


def sign_in_row(s: SignIn) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "email": fold_email(s.email),
        "method": s.method.value,
        "refresh_digest": s.refresh_digest,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "device_id": s.device_id,
        "revoked_at": s.revoked_at,
        "version": s.version,
        "previous_digest": s.previous_digest,
        "rotated_at": s.rotated_at,
    }


def sign_in_from(row: Row) -> SignIn:
    return SignIn(
        id=SignInId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        email=row["email"],
        method=SignInMethod(row["method"]),
        refresh_digest=row["refresh_digest"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        device_id=DeviceId(row["device_id"]) if row["device_id"] is not None else None,
        revoked_at=row["revoked_at"],
        version=row["version"],
        previous_digest=row["previous_digest"],
        rotated_at=row["rotated_at"],
    )


def operator_sign_in_row(s: OperatorSignIn) -> dict[str, Any]:
    return {
        "id": s.id,
        "email": fold_email(s.email),
        "issued_at": s.issued_at,
        "expires_at": s.expires_at,
        "revoked_at": s.revoked_at,
    }


def operator_sign_in_from(row: Row) -> OperatorSignIn:
    return OperatorSignIn(
        id=SignInId(row["id"]),
        email=row["email"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def password_row(c: PasswordCredential) -> dict[str, Any]:
    return {
        "institution_id": c.institution_id,
        "email": fold_email(c.email),
        "password_hash": c.password_hash,
        "failed_attempts": c.failed_attempts,
        "locked_until": c.locked_until,
        "version": c.version,
    }


def password_from(row: Row) -> PasswordCredential:
    return PasswordCredential(
        institution_id=InstitutionId(row["institution_id"]),
        email=row["email"],
        password_hash=row["password_hash"],
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
        version=row["version"],
    )
