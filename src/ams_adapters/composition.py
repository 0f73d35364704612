"""dishka providers: the adapters chosen for a deployment, and the use cases over them.

``build_providers(...)`` is shared by the HTTP edge and the CLI; tests swap providers
(memory store, fixed clock, test keys) instead of patching.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dishka import Provider, Scope, provide, provide_all
from sqlalchemy.engine import Engine

from ams_adapters.excel import CalamineWorkbookReader, OpenpyxlWorkbookWriter
from ams_adapters.identity import (
    Argon2PasswordHasher,
    GoogleIdTokenVerifier,
    IdentitySettings,
    JwtAccessTokens,
)
from ams_adapters.memory import InMemoryUnitOfWork, MemoryStore, SystemClock, SystemRandomSource
from ams_adapters.memory.notifier import LoggingNotifier
from ams_adapters.settings import BackgroundSettings, SqlSettings, workbook_limits_from_env
from ams_core.domain import AuthenticationError, ExternalIdentity, PasswordPolicy
from ams_core.domain.cover_solving import AutoCoverSolver, ExactCoverSolver
from ams_core.ports import (
    AccessTokens,
    Clock,
    CoverSolver,
    ExternalIdentityVerifier,
    HealthChecks,
    Notifier,
    PasswordHasher,
    RandomSource,
    UnitOfWork,
    UnitOfWorkFactory,
)
from ams_core.ports.workbooks import WorkbookLimits, WorkbookReader, WorkbookWriter
from ams_core.use_cases import (
    AcceptCoverOffer,
    ApproveAbsence,
    AssignmentCatalogue,
    Authenticate,
    Broadcast,
    BroadcastLimits,
    BuildCoverPlan,
    CancelAbsence,
    CancelCoverNeed,
    CancelCoverPlan,
    CheckIn,
    CompleteSession,
    CoverAnalytics,
    CreateInstitution,
    DeclineCoverOffer,
    ExpireCoverOffers,
    FacultyCatalogue,
    GenerateWeek,
    GetAbsence,
    GetAttendanceSummary,
    GetCoverNeed,
    GetCoverOffer,
    GetCoverPlan,
    GetFacultyDashboard,
    GetRegister,
    GetSchedule,
    GetSessionAudit,
    GetSessionRoster,
    GetStudentAudit,
    HolidayCalendar,
    InstitutionProfile,
    IssueLocalToken,
    IssueOperatorToken,
    ListAbsences,
    ListBroadcasts,
    ListCoverNeeds,
    ListCoverOffers,
    ListCoverPlans,
    ListDefaulters,
    ListOperatorTokens,
    ListSecurityEvents,
    MarkAttendance,
    OfferNeed,
    OpenAttendance,
    PublishCoverPlan,
    RankCandidates,
    RefreshSignIn,
    RegisterPushToken,
    ReportAbsence,
    ResetDeviceBinding,
    RevocationCache,
    RevokeOperatorTokens,
    SectionCatalogue,
    SessionScheduling,
    SetPassword,
    SignInLifetimes,
    SignInWithGoogle,
    SignInWithPassword,
    SignOut,
    SlotCatalogue,
    StudentCatalogue,
    SubjectCatalogue,
    SubstitutePreferenceCatalogue,
    TermCatalogue,
    WithdrawCoverOffer,
)
from ams_core.use_cases.imports import ImportTemplate, ImportWorkbook


class _GoogleSignInDisabled(ExternalIdentityVerifier):
    """Stands in when no Google client id is configured: every ID token is refused."""

    def verify(self, id_token: str) -> ExternalIdentity:
        raise AuthenticationError(
            "Google sign-in is not configured on this server", code="google_sign_in_disabled"
        )


class SystemProvider(Provider):
    """The real clock and the operating system's random generator."""

    scope = Scope.APP

    @provide
    def clock(self) -> Clock:
        return SystemClock()

    @provide
    def random(self) -> RandomSource:
        return SystemRandomSource()


class MemoryPersistenceProvider(Provider):
    """Everything in one process's memory (tests, library users, throwaway demos)."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        super().__init__()
        self._store = store or MemoryStore()

    @provide(scope=Scope.APP)
    def uow_factory(self) -> UnitOfWorkFactory:
        store = self._store
        return lambda: InMemoryUnitOfWork(store)

    @provide(scope=Scope.REQUEST)
    def uow(self, factory: UnitOfWorkFactory) -> UnitOfWork:
        return factory()

    @provide(scope=Scope.APP)
    def health(self) -> HealthChecks:
        return HealthChecks(())


class SqlPersistenceProvider(Provider):
    """PostgreSQL (or the embedded SQLite file) through SQLAlchemy Core."""

    def __init__(self, settings: SqlSettings) -> None:
        super().__init__()
        self._settings = settings

    @provide(scope=Scope.APP)
    def engine(self) -> Iterator[Engine]:
        from ams_adapters.sql.engine import make_engine

        engine = make_engine(self._settings)
        yield engine
        engine.dispose()

    @provide(scope=Scope.APP)
    def uow_factory(self, engine: Engine) -> UnitOfWorkFactory:
        from ams_adapters.sql.persistence import SqlUnitOfWork

        return lambda: SqlUnitOfWork(engine)

    @provide(scope=Scope.REQUEST)
    def uow(self, factory: UnitOfWorkFactory) -> UnitOfWork:
        return factory()

    @provide(scope=Scope.APP)
    def health(self, engine: Engine) -> HealthChecks:
        from ams_adapters.sql.health import SqlHealthCheck

        return HealthChecks((SqlHealthCheck(engine),))


class IdentityProvider(Provider):
    """AMS access tokens, Google ID-token verification and password hashing."""

    scope = Scope.APP

    def __init__(self, settings: IdentitySettings, hasher: PasswordHasher | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._hasher = hasher

    @provide
    def tokens(self, clock: Clock) -> AccessTokens:
        return JwtAccessTokens.from_settings(self._settings, clock=clock)

    @provide
    def external(self) -> ExternalIdentityVerifier:
        if not self._settings.google_client_ids:
            return _GoogleSignInDisabled()
        return GoogleIdTokenVerifier.from_settings(self._settings)

    @provide
    def hasher(self) -> PasswordHasher:
        return self._hasher or Argon2PasswordHasher()

    @provide
    def lifetimes(self) -> SignInLifetimes:
        return SignInLifetimes(refresh=timedelta(days=self._settings.refresh_token_days))

    @provide
    def revocations(self, factory: UnitOfWorkFactory, clock: Clock) -> RevocationCache:
        return RevocationCache(
            factory, clock, lookback=timedelta(minutes=self._settings.access_token_minutes)
        )

    authenticate = provide(Authenticate)


class NotifierProvider(Provider):
    """Push through Firebase Cloud Messaging when credentials are configured, else the log."""

    scope = Scope.APP

    def __init__(self, settings: BackgroundSettings | None = None) -> None:
        super().__init__()
        self._settings = settings or BackgroundSettings()

    @provide
    def notifier(self) -> Notifier:
        if self._settings.fcm_credentials is None:
            return LoggingNotifier()
        from ams_adapters.fcm import FcmNotifier, firebase_app

        # one Firebase app per container: several containers may live in one process
        app = firebase_app(self._settings.fcm_credentials, name=f"ams-{id(self):x}")
        notifier: Notifier = FcmNotifier(app)
        return notifier


class UseCaseProvider(Provider):
    """Every use case, built per request over the request's unit of work."""

    scope = Scope.REQUEST

    @provide(scope=Scope.APP)
    def password_policy(self) -> PasswordPolicy:
        return PasswordPolicy()

    @provide(scope=Scope.APP)
    def broadcast_limits(self) -> BroadcastLimits:
        return BroadcastLimits()

    @provide
    def set_password(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        clock: Clock,
        revocations: RevocationCache,
        policy: PasswordPolicy,
    ) -> SetPassword:
        return SetPassword(uow, hasher, clock, revocations, policy)

    @provide
    def sign_in_with_password(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        clock: Clock,
        random: RandomSource,
        lifetimes: SignInLifetimes,
        policy: PasswordPolicy,
    ) -> SignInWithPassword:
        return SignInWithPassword(uow, hasher, tokens, clock, random, lifetimes, policy)

    @provide
    def broadcast(
        self, uow: UnitOfWork, clock: Clock, random: RandomSource, limits: BroadcastLimits
    ) -> Broadcast:
        return Broadcast(uow, clock, random, limits)

    @provide
    def generate_week(self, uow: UnitOfWork, random: RandomSource, clock: Clock) -> GenerateWeek:
        return GenerateWeek(uow, random, clock)

    @provide(scope=Scope.APP)
    def cover_solver(self) -> CoverSolver:
        return cover_solver()

    @provide
    def build_cover_plan(
        self, uow: UnitOfWork, clock: Clock, random: RandomSource, solver: CoverSolver
    ) -> BuildCoverPlan:
        return BuildCoverPlan(uow, clock, random, solver)

    constructed_from_their_ports = provide_all(
        CreateInstitution,
        SignInWithGoogle,
        RefreshSignIn,
        SignOut,
        IssueLocalToken,
        IssueOperatorToken,
        RevokeOperatorTokens,
        ListOperatorTokens,
        RegisterPushToken,
        ListBroadcasts,
        ResetDeviceBinding,
        OpenAttendance,
        CheckIn,
        MarkAttendance,
        CompleteSession,
        GetSchedule,
        GetAttendanceSummary,
        GetFacultyDashboard,
        GetSessionRoster,
        SectionCatalogue,
        StudentCatalogue,
        FacultyCatalogue,
        SubjectCatalogue,
        AssignmentCatalogue,
        SlotCatalogue,
        TermCatalogue,
        HolidayCalendar,
        InstitutionProfile,
        SessionScheduling,
        GetRegister,
        ListDefaulters,
        GetSessionAudit,
        GetStudentAudit,
        ListSecurityEvents,
        ReportAbsence,
        ApproveAbsence,
        CancelAbsence,
        GetAbsence,
        ListAbsences,
        ListCoverNeeds,
        GetCoverNeed,
        CancelCoverNeed,
        RankCandidates,
        PublishCoverPlan,
        OfferNeed,
        CancelCoverPlan,
        GetCoverPlan,
        ListCoverPlans,
        AcceptCoverOffer,
        DeclineCoverOffer,
        WithdrawCoverOffer,
        GetCoverOffer,
        ListCoverOffers,
        ExpireCoverOffers,
        CoverAnalytics,
        SubstitutePreferenceCatalogue,
        ImportWorkbook,
        ImportTemplate,
    )


class ExcelProvider(Provider):
    """Workbooks: uploads read with python-calamine, templates and exports written with
    openpyxl; the upload limits come from ``AMS_IMPORT_*``."""

    scope = Scope.APP

    def __init__(self, limits: WorkbookLimits | None = None) -> None:
        super().__init__()
        self._limits = limits

    @provide
    def limits(self) -> WorkbookLimits:
        return self._limits or workbook_limits_from_env()

    @provide
    def reader(self) -> WorkbookReader:
        return CalamineWorkbookReader()

    @provide
    def writer(self) -> WorkbookWriter:
        return OpenpyxlWorkbookWriter()


def cover_solver() -> CoverSolver:
    """The pure-Python exact solver, with OR-Tools for large problems when the ``solver``
    extra is installed (both reach the same optimum; OR-Tools is faster at scale).
    """
    try:
        from ams_adapters.ortools import OrToolsCoverSolver
    except ImportError:
        return AutoCoverSolver(ExactCoverSolver())
    return AutoCoverSolver(ExactCoverSolver(), OrToolsCoverSolver())


def build_providers(
    *,
    sql: SqlSettings | None = None,
    identity: IdentitySettings,
    store: MemoryStore | None = None,
    system: Provider | None = None,
    background: BackgroundSettings | None = None,
) -> list[Provider]:
    """The providers of one deployment: SQL when ``sql`` is given, else memory."""
    persistence: Provider = (
        SqlPersistenceProvider(sql) if sql is not None else MemoryPersistenceProvider(store)
    )
    return [
        system or SystemProvider(),
        persistence,
        IdentityProvider(identity),
        NotifierProvider(background),
        ExcelProvider(),
        UseCaseProvider(),
    ]
