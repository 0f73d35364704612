"""Who is acting: roles and the authenticated principal."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ams_core.domain.ids import FacultyId, InstitutionId, SignInId, StudentId


class Role(enum.Enum):
    """What a signed-in person may do. One person may hold several roles."""

    STUDENT = "student"
    CLASS_REPRESENTATIVE = "class_representative"
    FACULTY = "faculty"
    ADMIN = "admin"
    PLATFORM_OPERATOR = "platform_operator"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated actor.

    ``institution_id`` is ``None`` only for platform operators, who act on the deployment
    rather than inside one institution. ``sign_in_id`` names the signed-in session the
    access token belongs to (signing out revokes it).
    """

    email: str
    roles: frozenset[Role]
    institution_id: InstitutionId | None = None
    student_id: StudentId | None = None
    faculty_id: FacultyId | None = None
    display_name: str = field(default="", compare=False)
    sign_in_id: SignInId | None = field(default=None, compare=False)

    def has(self, role: Role) -> bool:
        """Return whether the principal holds ``role``."""
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        """Whether the principal administers its institution."""
        return Role.ADMIN in self.roles

    @property
    def is_student(self) -> bool:
        """Whether the principal is a student (class representatives are students too)."""
        return Role.STUDENT in self.roles or Role.CLASS_REPRESENTATIVE in self.roles

    @property
    def is_faculty(self) -> bool:
        """Whether the principal teaches."""
        return Role.FACULTY in self.roles and self.faculty_id is not None
