"""Signing in and out: Google and password sign-in, token refresh, sign-out, passwords and
local tokens (revocation is in ``revocations``, operator tokens in ``operator_tokens``).
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ams_core.domain.accounts import (
    ExternalIdentity,
    PasswordCredential,
    PasswordPolicy,
    SignIn,
    SignInMethod,
    digest_token,
    principal_for,
)
from ams_core.domain.errors import (
    AuthenticationError,
    ConcurrencyError,
    NotFoundError,
    PermissionDeniedError,
)
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import InstitutionId, SignInId
from ams_core.domain.institution import Institution
from ams_core.domain.people import Faculty, Student, fold_email, validate_device_id
from ams_core.domain.security import SecurityEvent, SecurityEventKind
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.identity import (
    AccessTokens,
    ExternalIdentityVerifier,
    PasswordHasher,
)
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, tenant_of
from ams_core.use_cases.devices import BindDevice, BindDeviceCommand
from ams_core.use_cases.revocations import RevocationCache

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})


@dataclass(frozen=True, slots=True)
class SignInLifetimes:
    """How long a sign-in lasts before its refresh token stops working."""

    refresh: timedelta = timedelta(days=30)
    #: how long the refresh token just replaced still gets the same successor (an app that
    #: refreshes twice at once must not end its own sign-in)
    refresh_grace: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class SignInResult:
    """What a successful sign-in (or refresh) hands to the client."""

    access_token: str
    expires_in: int
    refresh_token: str
    principal: Principal
    device_newly_bound: bool = False


def _split_refresh_token(token: str) -> tuple[InstitutionId, SignInId]:
    parts = token.rsplit(".", 2)
    if len(parts) != 3 or not all(parts) or len(token) > 512:
        raise AuthenticationError("the refresh token is not valid", code="invalid_refresh_token")
    return InstitutionId(parts[0]), SignInId(parts[1])


class _SignInStarter:
    """Shared last step of every sign-in: bind the device, open a session, issue tokens."""

    def __init__(
        self,
        uow: UnitOfWork,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SignInLifetimes,
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock
        self._random = random
        self._lifetimes = lifetimes

    def institution_for(self, email: str) -> Institution:
        domain = email.rpartition("@")[2]
        with self._uow.for_platform() as uow:
            institution = uow.institutions.find_by_domain(domain)
        if institution is None:
            raise PermissionDeniedError(
                "no institution uses this email domain", code="unknown_institution"
            )
        return institution

    def principal(self, institution_id: InstitutionId, email: str) -> Principal:
        with self._uow.for_institution(institution_id) as uow:
            student = uow.students.find_by_email(email)
            faculty = uow.faculty.find_by_email(email)
        if student is None and faculty is None:
            raise PermissionDeniedError(
                "nobody with this email is registered at the institution",
                code="unknown_person",
            )
        person: Student | Faculty | None = student if student is not None else faculty
        if person is not None and not person.active:
            raise PermissionDeniedError(
                "this account is deactivated; ask the institution's admin", code="deactivated"
            )
        return principal_for(institution_id, email, student=student, faculty=faculty)

    def start(
        self,
        principal: Principal,
        method: SignInMethod,
        device_id: str | None,
        client_ip: str | None,
    ) -> SignInResult:
        newly_bound = False
        if device_id is not None and principal.is_student:
            bound = BindDevice(self._uow, self._clock)(
                BindDeviceCommand(principal, device_id, client_ip)
            )
            newly_bound = bound.newly_bound
        now = self._clock.now()
        institution_id = tenant_of(principal)
        sign_in_id = SignInId(self._random.new_id())
        refresh_token = self._refresh_token(institution_id, sign_in_id)
        sign_in = SignIn(
            id=sign_in_id,
            institution_id=institution_id,
            email=principal.email,
            method=method,
            refresh_digest=digest_token(refresh_token),
            created_at=now,
            expires_at=now + self._lifetimes.refresh,
            device_id=validate_device_id(device_id) if device_id is not None else None,
        )
        with self._uow.for_institution(institution_id) as uow:
            uow.sign_ins.add(sign_in)
            uow.commit()
        return self.tokens_for(
            replace(principal, sign_in_id=sign_in_id), refresh_token, newly_bound
        )

    def tokens_for(
        self, principal: Principal, refresh_token: str, newly_bound: bool = False
    ) -> SignInResult:
        issued = self._tokens.issue(principal, self._clock.now())
        return SignInResult(
            access_token=issued.token,
            expires_in=issued.expires_in,
            refresh_token=refresh_token,
            principal=principal,
            device_newly_bound=newly_bound,
        )

    def _refresh_token(self, institution_id: InstitutionId, sign_in_id: SignInId) -> str:
        secret = base64.urlsafe_b64encode(self._random.secret(32)).rstrip(b"=").decode()
        return f"{institution_id}.{sign_in_id}.{secret}"

    @staticmethod
    def successor(presented: str) -> str:
        """The refresh token that replaces ``presented``.

        Derived from the presented token (an HMAC keyed by it), so two simultaneous
        refreshes with one token both hand the app the same new token, and nobody without
        the presented token can compute it; the server keeps only digests.
        """
        institution_id, sign_in_id = _split_refresh_token(presented)
        derived = hmac.digest(presented.encode(), b"ams refresh token rotation", "sha256")
        secret = base64.urlsafe_b64encode(derived).rstrip(b"=").decode()
        return f"{institution_id}.{sign_in_id}.{secret}"

    def rotate(self, sign_in: SignIn, presented: str) -> tuple[SignIn, str]:
        refresh_token = self.successor(presented)
        now = self._clock.now()
        rotated = sign_in.rotated(digest_token(refresh_token), now + self._lifetimes.refresh, now)
        return rotated, refresh_token


@dataclass(frozen=True, slots=True)
class SignInWithGoogleCommand:
    """A Google ID token from the app, and the phone's device id on mobile."""

    id_token: str
    device_id: str | None = None
    client_ip: str | None = None


class SignInWithGoogle:
    """Sign in with a Google ID token (PRODUCT.md §4 ``POST /auth/google``).

    The identity provider adapter checks the token itself; this use case checks the
    policy: the email is verified, belongs to the Google Workspace domain the token names
    (``hd``), that domain belongs to an institution and the person is registered there.
    A student's first mobile sign-in binds the device; another device is refused.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        verifier: ExternalIdentityVerifier,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SignInLifetimes,
    ) -> None:
        self._verifier = verifier
        self._starter = _SignInStarter(uow, tokens, clock, random, lifetimes)

    def __call__(self, command: SignInWithGoogleCommand) -> SignInResult:
        """Sign in.

        Raises:
            AuthenticationError: the ID token is not valid.
            PermissionDeniedError: ``email_not_verified``, ``foreign_domain``,
                ``unknown_institution``, ``unknown_person``, ``device_mismatch`` or
                ``device_in_use``.
            UnavailableError: Google's keys cannot be fetched right now.
        """
        identity = self._verifier.verify(command.id_token)
        email = _checked_email(identity)
        institution = self._starter.institution_for(email)
        principal = self._starter.principal(institution.id, email)
        return self._starter.start(
            principal, SignInMethod.GOOGLE, command.device_id, command.client_ip
        )


def _checked_email(identity: ExternalIdentity) -> str:
    if identity.issuer not in GOOGLE_ISSUERS:
        raise AuthenticationError("the ID token was not issued by Google", code="invalid_id_token")
    if not identity.email_verified:
        raise PermissionDeniedError(
            "Google has not verified this email address", code="email_not_verified"
        )
    email = fold_email(identity.email)
    domain = email.rpartition("@")[2]
    if identity.hosted_domain is None or identity.hosted_domain.lower() != domain:
        raise PermissionDeniedError(
            "sign in with your institution's Google Workspace account",
            code="foreign_domain",
        )
    return email


@dataclass(frozen=True, slots=True)
class SignInWithPasswordCommand:
    """Email and password given by an admin, for accounts without Google Workspace."""

    email: str
    password: str
    device_id: str | None = None
    client_ip: str | None = None


class SignInWithPassword:
    """Sign in with a password; repeated failures lock the account for a while.

    Unknown emails, wrong passwords and locked accounts all get the same answer, and the
    hasher runs once for each, so the response reveals neither who has an account nor who
    is locked. Every wrong password counts, exactly, however many arrive at once, and a
    right one that races with the failure that locks the account is refused.
    """

    _DUMMY_PASSWORD = "an unguessable dummy password for timing"  # noqa: S105

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SignInLifetimes,
        policy: PasswordPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._policy = policy or PasswordPolicy()
        self._starter = _SignInStarter(uow, tokens, clock, random, lifetimes)
        self._dummy_hash = ""

    def __call__(self, command: SignInWithPasswordCommand) -> SignInResult:
        """Sign in.

        Raises:
            AuthenticationError: ``invalid_credentials`` (unknown email, wrong password, or
                an account locked after ``policy.max_failures`` wrong passwords in a row).
            PermissionDeniedError: device binding refusals, as for Google sign-in.
        """
        email = fold_email(command.email)
        if len(command.password) > self._policy.max_length:
            raise _invalid_credentials()
        try:
            institution = self._starter.institution_for(email)
        except PermissionDeniedError:
            self._burn(command.password)
            raise _invalid_credentials() from None
        now = self._clock.now()
        with self._uow.for_institution(institution.id) as uow:
            credential = uow.passwords.find(email)
            if credential is None:
                self._burn(command.password)
                raise _invalid_credentials()
            right = self._hasher.verify(credential.password_hash, command.password)
            if credential.is_locked(now):
                raise _invalid_credentials()
            if not right:
                counted = uow.passwords.record_failure(email, now, self._policy)
                if counted is not None and counted.locked_until == now + self._policy.lockout:
                    uow.security_events.add(
                        SecurityEvent(
                            institution.id,
                            SecurityEventKind.ACCOUNT_LOCKED,
                            now,
                            actor=email,
                            client_ip=command.client_ip,
                            detail={"failures": str(self._policy.max_failures)},
                        )
                    )
                uow.commit()
                raise _invalid_credentials()
            rehashed = (
                self._hasher.hash(command.password)
                if self._hasher.needs_rehash(credential.password_hash)
                else None
            )
            # conditional on not being locked: a failure racing with this one may have
            # locked the account since it was read
            if not uow.passwords.record_success(email, now, rehashed):
                raise _invalid_credentials()
            uow.commit()
        principal = self._starter.principal(institution.id, email)
        return self._starter.start(
            principal, SignInMethod.PASSWORD, command.device_id, command.client_ip
        )

    def _burn(self, password: str) -> None:
        if not self._dummy_hash:
            self._dummy_hash = self._hasher.hash(self._DUMMY_PASSWORD)
        self._hasher.verify(self._dummy_hash, password)


def _invalid_credentials() -> AuthenticationError:
    return AuthenticationError(
        "wrong email or password (after repeated failures, sign-in pauses for a while)",
        code="invalid_credentials",
    )


@dataclass(frozen=True, slots=True)
class SetPasswordCommand:
    """An admin gives a person of their institution a password (or replaces it)."""

    actor: Principal
    email: str
    password: str


class SetPassword:
    """Give someone without Google Workspace a password; their other sessions end."""

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        clock: Clock,
        revocations: RevocationCache,
        policy: PasswordPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._revocations = revocations
        self._policy = policy or PasswordPolicy()

    def __call__(self, command: SetPasswordCommand) -> None:
        """Store the new password hash.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            NotFoundError: nobody with that email in the admin's institution.
            ValidationError: ``weak_password``.
        """
        require_admin(command.actor)
        self._policy.check(command.password)
        email = fold_email(command.email)
        password_hash = self._hasher.hash(command.password)
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            if (
                uow.students.find_by_email(email) is None
                and uow.faculty.find_by_email(email) is None
            ):
                raise NotFoundError("person", email)
            existing = uow.passwords.find(email)
            if existing is None:
                uow.passwords.put(
                    PasswordCredential(tenant_of(command.actor), email, password_hash)
                )
            else:
                uow.passwords.put(replace(existing, password_hash=password_hash).after_success())
            uow.sign_ins.revoke_all(email, self._clock.now())
            uow.commit()


@dataclass(frozen=True, slots=True)
class RefreshSignInCommand:
    """The refresh token from the last sign-in or refresh."""

    refresh_token: str


class RefreshSignIn:
    """Exchange a refresh token for new tokens; the old refresh token stops working.

    Presenting a refresh token that was already used means it was copied: the whole
    session is revoked. The exception is an app that refreshes twice at once: within
    ``SignInLifetimes.refresh_grace`` of a refresh, the token it replaced gets the same
    new token again instead. Roles are read again, so a demoted admin loses the role here.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SignInLifetimes,
        revocations: RevocationCache,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations
        self._lifetimes = lifetimes
        self._starter = _SignInStarter(uow, tokens, clock, random, lifetimes)

    def __call__(self, command: RefreshSignInCommand) -> SignInResult:
        """Refresh.

        Raises:
            AuthenticationError: ``invalid_refresh_token`` (unknown, expired, revoked or
                reused token) or ``unknown_person`` when the person was removed.
        """
        institution_id, sign_in_id = _split_refresh_token(command.refresh_token)
        presented = digest_token(command.refresh_token)
        now = self._clock.now()
        with self._uow.for_institution(institution_id) as uow:
            sign_in = uow.sign_ins.find(sign_in_id)
            if sign_in is None or not sign_in.is_active(now):
                raise AuthenticationError(
                    "the refresh token is not valid", code="invalid_refresh_token"
                )
            if hmac.compare_digest(sign_in.refresh_digest, presented):
                rotated, refresh_token = self._starter.rotate(sign_in, command.refresh_token)
                try:
                    uow.sign_ins.update(rotated)
                    uow.commit()
                except ConcurrencyError:
                    # a simultaneous refresh with the same token won; it stored the same
                    # successor, unless the session changed otherwise (revoked, say)
                    sign_in = uow.sign_ins.find(sign_in_id) or sign_in
                    if not self._is_current(sign_in, refresh_token, now):
                        raise _refresh_token_used() from None
            elif sign_in.just_replaced(presented, now, self._lifetimes.refresh_grace):
                refresh_token = self._starter.successor(command.refresh_token)
                if not self._is_current(sign_in, refresh_token, now):
                    raise _refresh_token_used()
            else:
                uow.sign_ins.update(sign_in.revoked(now))
                uow.commit()
                self._revocations.add(institution_id, sign_in_id)
                raise _refresh_token_used()
        try:
            principal = self._starter.principal(institution_id, sign_in.email)
        except PermissionDeniedError:
            raise AuthenticationError(
                "your account no longer exists", code="unknown_person"
            ) from None
        return self._starter.tokens_for(replace(principal, sign_in_id=sign_in_id), refresh_token)

    @staticmethod
    def _is_current(sign_in: SignIn, refresh_token: str, now: datetime) -> bool:
        return sign_in.is_active(now) and hmac.compare_digest(
            sign_in.refresh_digest, digest_token(refresh_token)
        )


def _refresh_token_used() -> AuthenticationError:
    return AuthenticationError(
        "the refresh token was already used; sign in again",
        code="invalid_refresh_token",
    )


@dataclass(frozen=True, slots=True)
class SignOutCommand:
    """The signed-in actor ends their session."""

    actor: Principal


class SignOut:
    """End the actor's session: its access and refresh tokens stop working."""

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: RevocationCache) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations

    def __call__(self, command: SignOutCommand) -> None:
        """Revoke the session (signing out twice is harmless); a platform operator's token
        is revoked in the platform scope.
        """
        sign_in_id = command.actor.sign_in_id
        if sign_in_id is None:
            return
        institution_id = command.actor.institution_id
        if institution_id is None:
            with self._uow.for_platform() as uow:
                uow.operator_sign_ins.revoke(sign_in_id, self._clock.now())
                uow.commit()
        else:
            with self._uow.for_institution(institution_id) as uow:
                sign_in = uow.sign_ins.find(sign_in_id)
                if sign_in is not None and sign_in.revoked_at is None:
                    uow.sign_ins.update(sign_in.revoked(self._clock.now()))
                    uow.commit()
        self._revocations.add(institution_id, sign_in_id)


@dataclass(frozen=True, slots=True)
class IssueLocalTokenCommand:
    """An operator mints tokens for a registered person (local use and the demo only)."""

    actor: Principal
    email: str


class IssueLocalToken:
    """Sign someone in without an identity provider (``ams token``); operators only."""

    def __init__(
        self,
        uow: UnitOfWork,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SignInLifetimes,
    ) -> None:
        self._starter = _SignInStarter(uow, tokens, clock, random, lifetimes)

    def __call__(self, command: IssueLocalTokenCommand) -> SignInResult:
        """Issue tokens for the person with that email.

        Raises:
            PermissionDeniedError: the actor is not a platform operator, or nobody is
                registered with that email.
        """
        if not command.actor.has(Role.PLATFORM_OPERATOR):
            raise PermissionDeniedError("only a platform operator may mint tokens")
        email = fold_email(command.email)
        institution = self._starter.institution_for(email)
        principal = self._starter.principal(institution.id, email)
        return self._starter.start(principal, SignInMethod.LOCAL, None, None)
