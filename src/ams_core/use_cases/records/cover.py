"""Cover records: preferred and excluded substitutes (admins only, reading too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ams_core.domain.errors import FieldProblem
from ams_core.domain.identity import Principal
from ams_core.domain.ids import PreferenceId
from ams_core.domain.substitutes import PreferenceKind, SubstitutePreference
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin
from ams_core.use_cases.records.base import (
    Catalogue,
    _Repository,
    raise_if,
    require_exists,
)

MAX_NOTE = 500


class SubstitutePreferenceCatalogue(Catalogue[PreferenceId, SubstitutePreference]):
    """A substitute preferred for, or excluded from, one teacher's, section's or subject's
    classes. Excluded wins when both apply; only admins see or change the lists.
    """

    kind = "substitute preference"
    entity_type = SubstitutePreference
    writable = frozenset(
        {"substitute_id", "kind", "faculty_id", "section_id", "subject_code", "note"}
    )
    filters = frozenset({"substitute_id", "kind", "faculty_id", "section_id", "subject_code"})
    generates_key = True

    def _repository(self, uow: UnitOfWork) -> _Repository[PreferenceId, SubstitutePreference]:
        return uow.substitute_preferences

    def _all(self, uow: UnitOfWork) -> Sequence[SubstitutePreference]:
        return uow.substitute_preferences.list()

    def _authorize_read(
        self, uow: UnitOfWork, actor: Principal
    ) -> Callable[[SubstitutePreference], bool]:
        require_admin(actor)
        return lambda _preference: True

    def _prepare(
        self,
        uow: UnitOfWork,
        actor: Principal,
        new: SubstitutePreference,
        old: SubstitutePreference | None,
    ) -> SubstitutePreference:
        problems: list[FieldProblem] = []
        try:
            kind = PreferenceKind(getattr(new.kind, "value", new.kind))
        except ValueError:
            problems.append(FieldProblem("kind", "must be preferred or excluded"))
            kind = PreferenceKind.PREFERRED
        note = new.note.strip()
        if len(note) > MAX_NOTE:
            problems.append(FieldProblem("note", f"must be at most {MAX_NOTE} characters"))
        substitute = uow.faculty.find(new.substitute_id)
        require_exists(problems, "substitute_id", substitute, "teacher", new.substitute_id)
        if new.faculty_id is not None:
            found = uow.faculty.find(new.faculty_id)
            require_exists(problems, "faculty_id", found, "teacher", new.faculty_id)
        if new.section_id is not None:
            section = uow.sections.find(new.section_id)
            require_exists(problems, "section_id", section, "section", new.section_id)
        if new.subject_code is not None:
            subject = uow.subjects.find(new.subject_code)
            require_exists(problems, "subject_code", subject, "subject", new.subject_code)
        raise_if(problems)
        return SubstitutePreference(
            id=new.id,
            institution_id=new.institution_id,
            substitute_id=new.substitute_id,
            kind=kind,
            faculty_id=new.faculty_id,
            section_id=new.section_id,
            subject_code=new.subject_code,
            note=note,
            version=new.version,
        )
