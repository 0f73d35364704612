"""Templates to fill in: one workbook per kind of sheet, or one with every sheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ams_core.domain.identity import Principal
from ams_core.domain.imports import SPECS, SheetKind, SheetSpec
from ams_core.ports.workbooks import Cell, Sheet, WorkbookWriter
from ams_core.use_cases._access import require_admin

_NOTES_HEADER = ("Sheet", "Column", "Required", "Also accepted as", "Notes")


@dataclass(frozen=True, slots=True)
class ImportTemplateCommand:
    """The template of one kind of sheet, or (``kind`` ``None``) of the whole workbook."""

    actor: Principal
    kind: SheetKind | None = None


def _data_sheet(spec: SheetSpec) -> Sheet:
    return Sheet(
        spec.title,
        [c.header for c in spec.columns],
        [[c.example or None for c in spec.columns]],
        {i: c.choices for i, c in enumerate(spec.columns) if c.choices},
    )


def _notes(specs: Sequence[SheetSpec]) -> Sheet:
    rows: list[Sequence[Cell]] = []
    for spec in specs:
        rows.append([spec.title, None, None, None, spec.about])
        for column in spec.columns:
            rows.append(
                [
                    spec.title,
                    column.header,
                    "yes" if column.required else "no",
                    ", ".join(column.aliases),
                    column.note,
                ]
            )
    rows.append(
        [
            None,
            None,
            None,
            None,
            (
                "Headers are matched ignoring case, spaces and underscores. Replace the example "
                "row. Every row is checked before anything is written; a dry run shows what "
                "would change."
            ),
        ]
    )
    return Sheet("Notes", _NOTES_HEADER, rows)


class ImportTemplate:
    """An ``.xlsx`` template: headers, one example row, drop-down lists for the columns
    that take one of a few values, and a Notes sheet explaining every column (admins).
    """

    def __init__(self, writer: WorkbookWriter) -> None:
        self._writer = writer

    def __call__(self, command: ImportTemplateCommand) -> bytes:
        """The template's bytes.

        Raises:
            PermissionDeniedError: the actor is not an admin.
        """
        require_admin(command.actor)
        specs = [SPECS[command.kind]] if command.kind is not None else list(SPECS.values())
        return self._writer.write([*(_data_sheet(s) for s in specs), _notes(specs)])
