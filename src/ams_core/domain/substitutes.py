"""Preferred and excluded substitutes, per absent teacher, section or subject."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ams_core.domain.cover_needs import CoverNeed
from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.ids import FacultyId, InstitutionId, PreferenceId, SectionId, SubjectCode


class PreferenceKind(enum.Enum):
    """A preferred substitute gains points; an excluded one is never offered the class."""

    PREFERRED = "preferred"
    EXCLUDED = "excluded"


@dataclass(frozen=True, slots=True)
class SubstitutePreference:
    """``substitute_id`` is preferred for, or excluded from, the classes of one absent
    teacher (``faculty_id``), one section or one subject: exactly one of the three is set.
    """

    id: PreferenceId
    institution_id: InstitutionId
    substitute_id: FacultyId
    kind: PreferenceKind
    faculty_id: FacultyId | None = None
    section_id: SectionId | None = None
    subject_code: SubjectCode | None = None
    note: str = ""
    version: int = 0

    def __post_init__(self) -> None:
        scopes = [s for s in (self.faculty_id, self.section_id, self.subject_code) if s]
        if len(scopes) != 1:
            raise ValidationError(
                [FieldProblem("facultyId", "name exactly one of facultyId, sectionId, subjectCode")]
            )
        if self.faculty_id == self.substitute_id:
            raise ValidationError(
                [FieldProblem("substituteId", "a teacher cannot be their own substitute")]
            )

    def applies_to(self, need: CoverNeed) -> bool:
        """Whether the preference concerns the need's teacher, section or subject."""
        return (
            need.absent_faculty_id == self.faculty_id
            or need.section_id == self.section_id
            or need.subject_code == self.subject_code
        )
