"""Accounts: signed-in sessions, operators' tokens, password credentials and push tokens.

AMS never stores a bearer secret: a refresh token is kept as its SHA-256 digest and a
password as an argon2id hash made by the :class:`~ams_core.ports.PasswordHasher` adapter.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import DeviceId, FacultyId, InstitutionId, SignInId, StudentId
from ams_core.domain.people import Faculty, Student, fold_email


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """What an identity provider vouches for after checking signature, issuer, audience
    and expiry of its token. Policy checks (verified email, hosted domain) are the core's.
    """

    issuer: str
    subject: str
    email: str
    email_verified: bool
    hosted_domain: str | None


class SignInMethod(enum.Enum):
    """How a person proved who they are."""

    GOOGLE = "google"
    PASSWORD = "password"  # noqa: S105 - a method name, not a secret
    LOCAL = "local"  # minted by ``ams token`` for local use and the demo


def digest_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a bearer token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignIn:
    """One signed-in session of one person on one device.

    Access tokens name it, so revoking it ends them; its refresh token rotates on every
    use and presenting an already used one revokes the session (token theft).
    """

    id: SignInId
    institution_id: InstitutionId
    email: str
    method: SignInMethod
    refresh_digest: str
    created_at: datetime
    expires_at: datetime
    device_id: DeviceId | None = None
    revoked_at: datetime | None = None
    version: int = 0
    #: digest of the refresh token the last refresh replaced, and when it did
    previous_digest: str | None = None
    rotated_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        """Whether the session may still be used or refreshed."""
        return self.revoked_at is None and now < self.expires_at

    def rotated(self, refresh_digest: str, expires_at: datetime, now: datetime) -> SignIn:
        """Return the session after a refresh at ``now``: a new refresh token and expiry;
        the replaced token's digest is kept for :meth:`just_replaced`.
        """
        return replace(
            self,
            refresh_digest=refresh_digest,
            expires_at=expires_at,
            previous_digest=self.refresh_digest,
            rotated_at=now,
        )

    def just_replaced(self, digest: str, now: datetime, grace: timedelta) -> bool:
        """Whether ``digest`` is of the refresh token the last refresh replaced, less than
        ``grace`` ago (a second, simultaneous refresh by the same app, not a stolen copy).
        """
        return (
            self.previous_digest is not None
            and self.rotated_at is not None
            and now - self.rotated_at <= grace
            and hmac.compare_digest(self.previous_digest, digest)
        )

    def revoked(self, now: datetime) -> SignIn:
        """Return the session ended at ``now`` (unchanged if it already was)."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)


@dataclass(frozen=True, slots=True)
class OperatorSignIn:
    """One access token minted for a platform operator (``ams token --operator``).

    Operators act on the deployment, not inside an institution, so the record lives in the
    platform scope. The token names it (``sid``), so revoking it ends the token; there is
    no refresh token: once expired, the operator mints another. The email is kept folded.
    """

    id: SignInId
    email: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", fold_email(self.email))

    def is_active(self, now: datetime) -> bool:
        """Whether the token may still be used: neither revoked nor expired at ``now``."""
        return self.revoked_at is None and now < self.expires_at

    def revoked(self, now: datetime) -> OperatorSignIn:
        """Return the sign-in ended at ``now`` (unchanged if it already was)."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """How strong a password must be and how failed attempts are throttled."""

    min_length: int = 12
    max_length: int = 256
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)

    def check(self, password: str) -> None:
        """Refuse a password that is too short or too long.

        Raises:
            ValidationError: ``weak_password``.
        """
        if not self.min_length <= len(password) <= self.max_length:
            raise ValidationError(
                (
                    FieldProblem(
                        "password",
                        f"must be {self.min_length} to {self.max_length} characters long",
                    ),
                ),
                code="weak_password",
            )


@dataclass(frozen=True, slots=True)
class PasswordCredential:
    """An admin-given password for someone without Google Workspace."""

    institution_id: InstitutionId
    email: str
    password_hash: str
    failed_attempts: int = 0
    locked_until: datetime | None = None
    version: int = 0

    def is_locked(self, now: datetime) -> bool:
        """Whether sign-in is refused until the lockout expires."""
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime, policy: PasswordPolicy) -> PasswordCredential:
        """Count a wrong password; the ``max_failures``-th in a row locks the account for
        ``policy.lockout``. While locked, nothing is counted (the attempt was refused).
        """
        if self.is_locked(now):
            return self
        failures = self.failed_attempts + 1
        if failures >= policy.max_failures:
            return replace(self, failed_attempts=0, locked_until=now + policy.lockout)
        return replace(self, failed_attempts=failures)

    def after_success(self, password_hash: str | None = None) -> PasswordCredential:
        """Clear the failure count; store a re-hashed password when one is given."""
        return replace(
            self,
            failed_attempts=0,
            locked_until=None,
            password_hash=password_hash or self.password_hash,
        )


class PushPlatform(enum.Enum):
    """Where a push token comes from."""

    ANDROID = "android"
    IOS = "ios"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class PushToken:
    """A device's push registration (FCM token), owned by the person who registered it."""

    institution_id: InstitutionId
    token: str
    platform: PushPlatform
    owner_email: str
    registered_at: datetime
    student_id: StudentId | None = None
    faculty_id: FacultyId | None = None


def principal_for(
    institution_id: InstitutionId,
    email: str,
    *,
    student: Student | None,
    faculty: Faculty | None,
    sign_in_id: SignInId | None = None,
) -> Principal:
    """Build the principal of a person from their student and/or faculty records."""
    roles: set[Role] = set()
    if student is not None:
        roles.add(Role.STUDENT)
        if student.is_class_representative:
            roles.add(Role.CLASS_REPRESENTATIVE)
    if faculty is not None:
        roles.add(Role.FACULTY)
        if faculty.is_admin:
            roles.add(Role.ADMIN)
    name = faculty.name if faculty is not None else student.name if student is not None else ""
    return Principal(
        email=email,
        roles=frozenset(roles),
        institution_id=institution_id,
        student_id=student.id if student is not None else None,
        faculty_id=faculty.id if faculty is not None else None,
        display_name=name,
        sign_in_id=sign_in_id,
    )
