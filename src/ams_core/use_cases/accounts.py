"""Signing in and out: Google and password sign-in, token refresh, revocation, and the
platform operators' recorded (revocable) access tokens.
"""

from __future__ import annotations

import base64
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ams_core.domain.accounts import (
    ExternalIdentity,
    OperatorSignIn,
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
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import InstitutionId, SignInId
from ams_core.domain.institution import Institution
from ams_core.domain.people import fold_email, validate_device_id
from ams_core.domain.security import SecurityEvent, SecurityEventKind
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.identity import AccessTokens, ExternalIdentityVerifier, PasswordHasher
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, tenant_of
from ams_core.use_cases.devices import BindDevice, BindDeviceCommand

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})


@dataclass(frozen=True, slots=True)
class SessionLifetimes:
    """How long a signed-in session lasts before its refresh token stops working."""

    refresh: timedelta = timedelta(days=30)
    #: how long the refresh token just replaced still gets the same successor (an app that
    #: refreshes twice at once must not end its own session)
    refresh_grace: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class SignInResult:
    """What a successful sign-in (or refresh) hands to the client."""

    access_token: str
    expires_in: int
    refresh_token: str
    principal: Principal
    device_newly_bound: bool = False


class RevocationCache:
    """Which signed-in sessions were revoked, as seen by this process.

    Access tokens are checked on every request without a database round trip: revocations
    made in this process apply at once, and those made elsewhere are read from the store
    at most ``refresh_every`` apart per institution. Sessions revoked longer ago than
    ``lookback`` (the access-token lifetime) no longer matter: their tokens have expired.

    Platform operators' tokens belong to no institution: their revocations are kept under
    the institution ``None`` and reloaded the same way, from ``operator_sign_ins`` in the
    platform scope.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        lookback: timedelta,
        refresh_every: timedelta = timedelta(seconds=5),
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._lookback = lookback
        self._refresh_every = refresh_every
        self._lock = threading.Lock()
        self._revoked: dict[InstitutionId | None, frozenset[SignInId]] = {}
        self._loaded_at: dict[InstitutionId | None, datetime] = {}

    def is_revoked(
        self, institution_id: InstitutionId | None, sign_in_id: SignInId, *, reload: bool = True
    ) -> bool:
        """Whether the session was revoked (reloading the institution's list when stale,
        unless ``reload`` is false); ``institution_id`` ``None`` asks about a platform
        operator's token.
        """
        now = self._clock.now()
        if reload and self._is_stale(institution_id, now):
            self._reload(institution_id, now)
        return sign_in_id in self._revoked.get(institution_id, frozenset())

    def is_current(self, institution_id: InstitutionId | None) -> bool:
        """Whether :meth:`is_revoked` would answer for this institution without reading
        the store (an async caller runs it in a worker thread otherwise).
        """
        return not self._is_stale(institution_id, self._clock.now())

    def _is_stale(self, institution_id: InstitutionId | None, now: datetime) -> bool:
        loaded = self._loaded_at.get(institution_id)
        return loaded is None or now - loaded >= self._refresh_every

    def add(self, institution_id: InstitutionId | None, sign_in_id: SignInId) -> None:
        """Record a revocation made by this process (``None``: a platform operator's)."""
        with self._lock:
            known = self._revoked.get(institution_id, frozenset())
            self._revoked[institution_id] = known | {sign_in_id}

    def _reload(self, institution_id: InstitutionId | None, now: datetime) -> None:
        since = now - self._lookback
        if institution_id is None:
            with self._uow_factory().for_platform() as uow:
                stored = uow.operator_sign_ins.revoked_since(since)
        else:
            with self._uow_factory().for_institution(institution_id) as uow:
                stored = uow.sign_ins.revoked_since(since)
        with self._lock:
            self._revoked[institution_id] = stored | self._revoked.get(institution_id, frozenset())
            self._loaded_at[institution_id] = now


class Authenticate:
    """Turn a bearer access token into the principal, refusing revoked sessions.

    A token without an institution (a platform operator's) must name its recorded
    sign-in: one minted before operator tokens were recorded is refused.
    """

    def __init__(self, tokens: AccessTokens, revocations: RevocationCache) -> None:
        self._tokens = tokens
        self._revocations = revocations

    def __call__(self, token: str) -> Principal:
        """Return the principal.

        Raises:
            AuthenticationError: the token is invalid or expired (``invalid_token``,
                ``token_expired``; an operator token naming no sign-in is
                ``invalid_token`` too) or its session was revoked (``session_revoked``).
        """
        principal = self.verify(token)
        self.refuse_if_revoked(principal)
        return principal

    def verify(self, token: str) -> Principal:
        """The first half of :meth:`__call__`: signature, claims and expiry, no I/O.

        Raises:
            AuthenticationError: ``invalid_token`` or ``token_expired``, as for the call.
        """
        principal = self._tokens.verify(token)
        if principal.sign_in_id is None and principal.institution_id is None:
            raise AuthenticationError(
                "the access token is not valid: an operator token must name its "
                "recorded sign-in (mint a new one)",
                code="invalid_token",
            )
        return principal

    def revocations_are_current(self, principal: Principal) -> bool:
        """Whether :meth:`refuse_if_revoked` would answer without reading the store."""
        return principal.sign_in_id is None or self._revocations.is_current(
            principal.institution_id
        )

    def refuse_if_revoked(self, principal: Principal, *, reload: bool = True) -> None:
        """The second half of :meth:`__call__`; it reads the store when the process's
        revocation list is stale (see :meth:`revocations_are_current`), unless ``reload``
        is false (then the list as it is answers).

        Raises:
            AuthenticationError: ``session_revoked``.
        """
        sign_in_id = principal.sign_in_id
        if sign_in_id is not None and self._revocations.is_revoked(
            principal.institution_id, sign_in_id, reload=reload
        ):
            raise AuthenticationError("you have been signed out", code="session_revoked")


def _split_refresh_token(token: str) -> tuple[InstitutionId, SignInId]:
    parts = token.rsplit(".", 2)
    if len(parts) != 3 or not all(parts) or len(token) > 512:
        raise AuthenticationError("the refresh token is not valid", code="invalid_refresh_token")
    return InstitutionId(parts[0]), SignInId(parts[1])


class _SessionStarter:
    """Shared last step of every sign-in: bind the device, open a session, issue tokens."""

    def __init__(
        self,
        uow: UnitOfWork,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SessionLifetimes,
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
                "nobody with this email is registered at the institution", code="unknown_person"
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
        lifetimes: SessionLifetimes,
    ) -> None:
        self._verifier = verifier
        self._starter = _SessionStarter(uow, tokens, clock, random, lifetimes)

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
            "sign in with your institution's Google Workspace account", code="foreign_domain"
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
        lifetimes: SessionLifetimes,
        policy: PasswordPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._policy = policy or PasswordPolicy()
        self._starter = _SessionStarter(uow, tokens, clock, random, lifetimes)
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
    ``SessionLifetimes.refresh_grace`` of a refresh, the token it replaced gets the same
    new token again instead. Roles are read again, so a demoted admin loses the role here.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SessionLifetimes,
        revocations: RevocationCache,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations
        self._lifetimes = lifetimes
        self._starter = _SessionStarter(uow, tokens, clock, random, lifetimes)

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
        "the refresh token was already used; sign in again", code="invalid_refresh_token"
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
        lifetimes: SessionLifetimes,
    ) -> None:
        self._starter = _SessionStarter(uow, tokens, clock, random, lifetimes)

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


def _require_operator(actor: Principal) -> None:
    if not actor.has(Role.PLATFORM_OPERATOR):
        raise PermissionDeniedError("only a platform operator may manage operator tokens")


@dataclass(frozen=True, slots=True)
class OperatorToken:
    """An access token for a platform operator (no institution) and its recorded sign-in,
    whose id the token names (``principal.sign_in_id``).
    """

    access_token: str
    expires_in: int
    principal: Principal = field(compare=False)
    sign_in: OperatorSignIn = field(compare=False)


@dataclass(frozen=True, slots=True)
class IssueOperatorTokenCommand:
    """The operator the token is for (their email; not checked against any institution)."""

    email: str


class IssueOperatorToken:
    """Mint a platform-operator access token and record it, so it can be revoked.

    For the ``ams token --operator`` command; never exposed over HTTP (whoever runs the
    command holds the signing key anyway). The record expires with the token.
    """

    def __init__(
        self, uow: UnitOfWork, tokens: AccessTokens, clock: Clock, random: RandomSource
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock
        self._random = random

    def __call__(self, command: IssueOperatorTokenCommand) -> OperatorToken:
        """Issue the token and record its sign-in.

        Raises:
            ValidationError: the email is empty.
        """
        email = fold_email(command.email)
        if not email:
            raise ValidationError([FieldProblem("email", "give the operator's email")])
        now = self._clock.now()
        sign_in_id = SignInId(self._random.new_id())
        principal = Principal(
            email=email, roles=frozenset({Role.PLATFORM_OPERATOR}), sign_in_id=sign_in_id
        )
        issued = self._tokens.issue(principal, now)
        sign_in = OperatorSignIn(sign_in_id, email, issued_at=now, expires_at=issued.expires_at)
        with self._uow.for_platform() as uow:
            uow.operator_sign_ins.add(sign_in)
            uow.commit()
        return OperatorToken(issued.token, issued.expires_in, principal, sign_in)


@dataclass(frozen=True, slots=True)
class RevokeOperatorTokensCommand:
    """Which platform-operator tokens to revoke: exactly one of ``sign_in_id`` (one
    token), ``email`` (every active token of one operator) or ``everyone`` (all of them).
    """

    actor: Principal
    sign_in_id: SignInId | None = None
    email: str | None = None
    everyone: bool = False


@dataclass(frozen=True, slots=True)
class RevokeOperatorTokensResult:
    """The tokens that were active and now are revoked (already revoked or expired ones
    are not counted).
    """

    revoked: tuple[OperatorSignIn, ...]


class RevokeOperatorTokens:
    """End platform-operator tokens: in this process at once, in others within the
    revocation cache's refresh (a few seconds).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: RevocationCache) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations

    def __call__(self, command: RevokeOperatorTokensCommand) -> RevokeOperatorTokensResult:
        """Revoke the tokens the command names.

        Raises:
            PermissionDeniedError: the actor is not a platform operator.
            ValidationError: not exactly one of ``sign_in_id``, ``email``, ``everyone``.
            NotFoundError: ``operator_token_not_found``: no token has that id.
        """
        _require_operator(command.actor)
        chosen = (command.sign_in_id is not None) + (command.email is not None) + command.everyone
        if chosen != 1:
            raise ValidationError(
                [FieldProblem("scope", "name one token, one operator's email, or everyone")]
            )
        now = self._clock.now()
        with self._uow.for_platform() as uow:
            repository = uow.operator_sign_ins
            if command.sign_in_id is not None:
                found = repository.find(command.sign_in_id)
                if found is None:
                    raise NotFoundError("operator_token", command.sign_in_id)
                ended = [found] if repository.revoke(found.id, now) else []
            elif command.email is not None:
                email = fold_email(command.email)
                mine = [s for s in repository.list_active(now) if s.email == email]
                ended = [s for s in mine if repository.revoke(s.id, now)]
            else:
                ended = list(repository.list_active(now))
                repository.revoke_all(now)
            uow.commit()
        for sign_in in ended:
            self._revocations.add(None, sign_in.id)
        return RevokeOperatorTokensResult(tuple(s.revoked(now) for s in ended))


@dataclass(frozen=True, slots=True)
class ListOperatorTokensCommand:
    """A platform operator asks which operator tokens still work."""

    actor: Principal


class ListOperatorTokens:
    """The platform-operator tokens neither revoked nor expired, oldest first."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: ListOperatorTokensCommand) -> tuple[OperatorSignIn, ...]:
        """List the active tokens' records (never the tokens themselves).

        Raises:
            PermissionDeniedError: the actor is not a platform operator.
        """
        _require_operator(command.actor)
        with self._uow.for_platform() as uow:
            return tuple(uow.operator_sign_ins.list_active(self._clock.now()))
