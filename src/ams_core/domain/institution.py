"""The tenant: an institution with its timezone, email domains and settings."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.ids import InstitutionId

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class CoverSettings:
    """Weights (points), caps and the offer and approval rules of teaching cover (§2.6).

    Attributes:
        max_covers_per_day: covers a teacher may hold on one day (a teacher's own cap wins).
        max_covers_per_week: covers a teacher may hold in one ISO week (likewise).
        weight_*: the points each soft rule adds to a candidate's score.
        fairness_window_days: the covers a candidate accepted in this many days up to the
            need's day lower their fairness points.
        offer_expiry_minutes: how long a substitute has to answer an offer (never past the
            start of the class).
        approval_required: absences reported by teachers wait for an admin's approval before
            they make cover needs.
        qualified_only: only teachers qualified in the class's subject may cover it (a hard
            rule then, not only points).
    """

    max_covers_per_day: int = 2
    max_covers_per_week: int = 6
    weight_qualified: int = 40
    weight_teaches_section: int = 25
    weight_same_department: int = 15
    weight_adjacent: int = 10
    weight_fairness: int = 20
    weight_continuity: int = 15
    weight_preferred: int = 10
    fairness_window_days: int = 28
    offer_expiry_minutes: int = 120
    approval_required: bool = False
    qualified_only: bool = False


@dataclass(frozen=True, slots=True)
class InstitutionSettings:
    """Per-institution knobs of the attendance rules (PRODUCT.md §2.1, §2.4).

    Attributes:
        attendance_threshold: minimum attendance percentage; students below it are defaulters.
        code_rotation_seconds: how often the check-in code changes; 0 keeps one code for the
            whole window.
        check_in_window_minutes: how long check-in stays open after the teacher opens it.
        late_after_minutes: check-ins later than this after the session start count as late.
        open_early_minutes: how long before the start a teacher may open attendance.
        auto_complete_grace_minutes: sessions left open are completed this long after they end.
        campus_networks: CIDR blocks students must check in from; empty allows any network.
        max_wrong_codes_per_student: wrong codes before a student is locked out of a session.
        max_wrong_codes_per_session: wrong codes in one session before its secret is rotated.
        cover: weights and caps for substitute matching.
    """

    attendance_threshold: Decimal = Decimal(75)
    code_rotation_seconds: int = 30
    check_in_window_minutes: int = 10
    late_after_minutes: int = 10
    open_early_minutes: int = 15
    auto_complete_grace_minutes: int = 30
    campus_networks: tuple[str, ...] = ()
    max_wrong_codes_per_student: int = 5
    max_wrong_codes_per_session: int = 200
    cover: CoverSettings = field(default_factory=CoverSettings)

    def __post_init__(self) -> None:
        problems: list[FieldProblem] = []
        if not Decimal(0) <= self.attendance_threshold <= Decimal(100):
            problems.append(FieldProblem("attendance_threshold", "must be between 0 and 100"))
        if not 0 <= self.code_rotation_seconds <= 3600:
            problems.append(FieldProblem("code_rotation_seconds", "must be 0 to 3600"))
        if not 1 <= self.check_in_window_minutes <= 24 * 60:
            problems.append(FieldProblem("check_in_window_minutes", "must be 1 to 1440"))
        for name in ("late_after_minutes", "open_early_minutes", "auto_complete_grace_minutes"):
            if not 0 <= getattr(self, name) <= 24 * 60:
                problems.append(FieldProblem(name, "must be 0 to 1440"))
        if self.max_wrong_codes_per_student < 1:
            problems.append(FieldProblem("max_wrong_codes_per_student", "must be at least 1"))
        if self.max_wrong_codes_per_session < 1:
            problems.append(FieldProblem("max_wrong_codes_per_session", "must be at least 1"))
        for text in self.campus_networks:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                problems.append(FieldProblem("campus_networks", f"{text!r} is not a network"))
        if problems:
            raise ValidationError(problems)

    @property
    def networks(self) -> tuple[IpNetwork, ...]:
        """The campus networks, parsed."""
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.campus_networks)

    def allows_address(self, address: str | None) -> bool:
        """Return whether a client address may check in (any, when no network is configured)."""
        if not self.campus_networks:
            return True
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def parse_threshold(value: object) -> Decimal:
    """Parse an attendance threshold percentage, refusing anything outside 0–100."""
    try:
        threshold = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError([FieldProblem("threshold", "must be a number")]) from None
    if not threshold.is_finite() or not Decimal(0) <= threshold <= Decimal(100):
        raise ValidationError([FieldProblem("threshold", "must be between 0 and 100")])
    return threshold


def load_timezone(name: str) -> ZoneInfo:
    """Return the IANA timezone ``name``, or raise a ValidationError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError([FieldProblem("timezone", f"unknown timezone {name!r}")]) from None


@dataclass(frozen=True)
class Institution:
    """A tenant. Everything else belongs to exactly one institution."""

    id: InstitutionId
    name: str
    timezone: str
    email_domains: frozenset[str]
    settings: InstitutionSettings = field(default_factory=InstitutionSettings)
    version: int = 0

    def __post_init__(self) -> None:
        problems: list[FieldProblem] = []
        if not self.name.strip():
            problems.append(FieldProblem("name", "must not be empty"))
        try:
            load_timezone(self.timezone)
        except ValidationError as error:
            problems.extend(error.problems)
        for domain in self.email_domains:
            if domain != domain.lower() or "." not in domain or "@" in domain:
                problems.append(FieldProblem("email_domains", f"{domain!r} is not a domain"))
        if problems:
            raise ValidationError(problems)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The institution's timezone; class dates and times are local to it."""
        return ZoneInfo(self.timezone)
