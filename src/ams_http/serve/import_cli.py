"""`ams import FILE --institution ID [--dry-run]`: a workbook imported from the shell, with a
progress bar on a terminal and the problems as a table."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ams_adapters.cli import CommandError

if TYPE_CHECKING:
    from dishka import Container

    from ams_core.domain import ImportRejectedError
    from ams_core.domain.imports import ImportReport

OpenRequest = Callable[[argparse.Namespace], contextlib.AbstractContextManager["Container"]]


def add_import_command(commands: Any, open_request: OpenRequest) -> None:
    """Add `import` to the `ams` parser's sub-commands."""
    sub = commands.add_parser(
        "import",
        help="import an institution's records from an .xlsx workbook",
        description="Check every row of the workbook, then write all of it in one transaction "
        "(or nothing, listing every problem). Sheets: Students, Faculty, Subjects, "
        "Assignments, Timetable, Holidays, Terms; the legacy AMS Server files import as they "
        "are (give --year and --department for the per-department ones).",
    )
    sub.add_argument("file", type=Path, help="the .xlsx workbook")
    sub.add_argument("--institution", required=True, help="the institution's id")
    sub.add_argument("--dry-run", action="store_true", help="check and count; write nothing")
    sub.add_argument("--year", help="year of every row without a Year column (1-12 or E1-E12)")
    sub.add_argument("--department", help="department of every row without a Department column")
    sub.add_argument("--kind", help="what a one-sheet workbook holds (students, faculty, …)")
    sub.add_argument(
        "--deactivate-missing",
        action="store_true",
        help="full rosters: deactivate students of the listed sections and teachers of the "
        "listed departments who are not in the file (reversible)",
    )
    sub.set_defaults(run=lambda args: _import(args, open_request))


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """``progress(phase, done, total)`` drawing a bar on a terminal, silent elsewhere."""
    if not sys.stderr.isatty():
        yield lambda _phase, _done, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=max(total, 1))
            bar.update(tasks[phase], completed=done, total=max(total, 1))

        yield progress


def _import(args: argparse.Namespace, open_request: OpenRequest) -> int:
    from ams_core.domain import ImportRejectedError, InstitutionId, UnacceptableFileError
    from ams_core.domain.imports import SheetKind
    from ams_core.domain.imports.cells import CellError, year_of_study
    from ams_core.use_cases.imports import ImportDefaults, ImportWorkbook, ImportWorkbookCommand
    from ams_http.serve.demo import OPERATOR

    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {args.file}: {error.strerror or error}") from None
    try:
        year = year_of_study(args.year) if args.year else None
        kind = SheetKind(args.kind.lower()) if args.kind else None
    except (CellError, ValueError) as error:
        raise CommandError(f"--year or --kind: {error}") from None
    command = ImportWorkbookCommand(
        OPERATOR,
        data,
        dry_run=args.dry_run,
        defaults=ImportDefaults(year, args.department or None),
        kind=kind,
        institution_id=InstitutionId(args.institution),
        deactivate_missing=args.deactivate_missing,
    )
    with open_request(args) as request, _progress_bar() as progress:
        try:
            report = request.get(ImportWorkbook)(command, progress)
        except ImportRejectedError as error:
            _print_problems(args.file.name, error)
            return 1
        except UnacceptableFileError as error:
            raise CommandError(f"{args.file.name}: {error.message}") from None
    _print_report(report)
    return 0


def _print_report(report: ImportReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dry run: nothing was written" if report.dry_run else "imported")
    for heading in ("sheet", "kind", "rows", "created", "updated", "unchanged", "deactivated"):
        table.add_column(heading, justify="left" if heading in ("sheet", "kind") else "right")
    for sheet in report.sheets:
        table.add_row(
            sheet.sheet,
            sheet.kind.value,
            *(
                str(n)
                for n in (
                    sheet.rows,
                    sheet.created,
                    sheet.updated,
                    sheet.unchanged,
                    sheet.deactivated,
                )
            ),
        )
    console = Console(file=sys.stdout, width=120)
    console.print(table)
    if report.sections_created:
        console.print(f"sections created: {report.sections_created}")
    ignored = {c for s in report.sheets for c in s.ignored_columns}
    if ignored:
        console.print(f"columns ignored: {', '.join(sorted(ignored))}")


def _print_problems(name: str, error: ImportRejectedError) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stderr, width=120)
    console.print(f"{name}: {error.message}", soft_wrap=True)
    table = Table()
    for heading in ("sheet", "row", "column", "problem"):
        table.add_column(heading, overflow="fold")
    for problem in error.import_problems:
        table.add_row(problem.sheet, str(problem.row or ""), problem.column or "", problem.message)
    console.print(table)
    if error.total > len(error.import_problems):
        console.print(f"… and {error.total - len(error.import_problems)} more")
