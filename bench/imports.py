"""`python -m bench --only imports`: the Excel import through ``POST /api/v1/imports``.

Like a real upload: ``ams serve`` with ONE worker process in a subprocess (as
:mod:`bench.http` starts it), on PostgreSQL (database ``ams_bench`` of
:mod:`bench.postgres`) as the non-owner login bound by row-level security, an admin's real
access token (issued by ``IssueLocalToken``), and a multipart upload of an ``.xlsx`` built
with openpyxl (write-only): one ``Students`` sheet (Student ID, Name, Email, Section) whose
rows are spread over 32 existing sections. The time is the client's wall time of the
request, upload included.

Every measured run imports into a fresh institution (created through the port with its
32 sections and an admin, and deleted again with its students afterwards), so each run
creates all N students — a first import, the realistic case. One more row re-imports
the smallest file into an institution that already has every student (all unchanged).

Beside each figure, a floor measured in the same run, right after each import: python-calamine
reading the same file bytes plus psycopg's ``COPY`` of the same rows into an empty
temporary copy of ``students`` with its keys and indexes, as the owner (for the re-import:
the read plus one ``SELECT`` of the stored students and a set comparison).

The worker's peak resident memory (``VmHWM`` in ``/proc``) is read before and after the
largest imports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import io
import json
import secrets
import signal
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import SqlSettings
from ams_adapters.sql import tables as t
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    Faculty,
    FacultyId,
    Institution,
    InstitutionId,
    Section,
    SectionId,
)
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand
from bench.dataset import OPERATOR
from bench.http import SECRET_KEY, TOKEN_MINUTES, Server, serving
from bench.postgres import Databases, connect
from bench.timing import Row

#: Every institution of this family has an id starting so (cleaned up by it, whatever run).
PREFIX = "bench-imports-"
SECTIONS = 32
SHEET = "Students"
HEADER = ("Student ID", "Name", "Email", "Section")
REQUEST_TIMEOUT = 300.0
#: PRODUCT.md §5, by file size: (seconds, times the floor or None)
GOALS: dict[int, tuple[float, float | None]] = {
    4_000: (0.1, 2.0),
    20_000: (0.4, 2.0),
    100_000: (2.5, None),
}
PEAK_GOAL_MB = 300.0


@dataclasses.dataclass(frozen=True)
class Sizes:
    #: (rows, measured runs) in increasing size; the last one's memory is reported
    imports: tuple[tuple[int, int], ...]
    reimport_runs: int


FULL = Sizes(imports=((4_000, 5), (20_000, 5), (100_000, 3)), reimport_runs=5)
QUICK = Sizes(imports=((200, 2), (1_000, 2), (2_000, 1)), reimport_runs=2)


# -- the workbooks -----------------------------------------------------------------------------


def _domain(rows: int) -> str:
    return f"imports{rows}.bench.edu"


def _section(n: int) -> SectionId:
    return SectionId(f"S{n:02d}")


def _workbook(rows: int) -> bytes:
    """``rows`` students with ids unique to this size, spread over the 32 sections."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append(HEADER)
    domain = _domain(rows)
    for n in range(rows):
        student = f"X{rows}-{n:06d}"
        sheet.append(
            [student, f"Student {n}", f"{student.lower()}@{domain}", _section(n % SECTIONS)]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _read(data: bytes) -> list[list[Any]]:
    rows: list[list[Any]] = (
        CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(SHEET).to_python()
    )
    return rows


# -- institutions (created through the port, deleted as the owner) ---------------------------


def _admin_email(rows: int) -> str:
    return f"admin@{_domain(rows)}"


def _create(db: Databases, institution_id: str, rows: int) -> None:
    """An institution at the size's domain with 32 sections and one admin."""
    iid = InstitutionId(institution_id)
    uow = SqlUnitOfWork(db.app)
    with uow.for_platform():
        uow.institutions.add(
            Institution(iid, f"Imports {rows}", "Asia/Kolkata", frozenset({_domain(rows)}))
        )
        uow.commit()
    with uow.for_institution(iid):
        for n in range(SECTIONS):
            uow.sections.add(Section(_section(n), iid, 1 + n % 4, f"D{n % 8}", f"{n}"))
        uow.faculty.add(
            Faculty(FacultyId("ADMIN"), iid, "Bench Admin", _admin_email(rows), "D0", is_admin=True)
        )
        uow.commit()


def _delete(owner: Engine, institution_ids: Sequence[str] | None = None) -> None:
    """Delete the named institutions (default: every one of this family) and all their rows,
    then VACUUM ``students`` so the next run finds no dead rows (autovacuum is off here)."""
    condition = "LIKE :prefix" if institution_ids is None else "= ANY(:ids)"
    params = {"prefix": f"{PREFIX}%", "ids": list(institution_ids or ())}
    with owner.begin() as connection:
        found = connection.execute(
            text(f"SELECT id FROM institutions WHERE id {condition}"), params
        ).scalars()
        ids = list(found)
        if not ids:
            return
        for table in reversed(t.metadata.sorted_tables):
            if "institution_id" in table.c and table.name != "institutions":
                connection.execute(
                    text(f"DELETE FROM {table.name} WHERE institution_id = ANY(:ids)"),
                    {"ids": ids},
                )
        connection.execute(text("DELETE FROM institutions WHERE id = ANY(:ids)"), {"ids": ids})
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE students, sections, faculty, sign_ins"))


class _Tokens:
    """Admin access tokens issued by ``IssueLocalToken`` (each names a stored sign-in)."""

    def __init__(self, app_url: str) -> None:
        from dishka import make_container

        from ams_adapters.composition import build_providers

        identity = IdentitySettings(
            secret_key=SECRET_KEY.encode(), access_token_minutes=TOKEN_MINUTES
        )
        self._container = make_container(
            *build_providers(sql=SqlSettings(url=app_url, pool_size=1), identity=identity)
        )

    def issue(self, email: str) -> str:
        with self._container() as request:
            issue = request.get(IssueLocalToken)
            return issue(IssueLocalTokenCommand(OPERATOR, email)).access_token

    def close(self) -> None:
        self._container.close()


# -- the upload --------------------------------------------------------------------------------


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = f"ams-bench-{secrets.token_hex(12)}"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="students.xlsx"\r\n'
        f"Content-Type: {XLSX_MEDIA_TYPE}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _upload(server: Server, body: bytes, boundary: str, token: str) -> tuple[float, int, bytes]:
    """POST the workbook on a new connection; the client's wall time, status and answer."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(body)),
    }
    connection = http.client.HTTPConnection(server.host, server.port, timeout=REQUEST_TIMEOUT)
    try:
        started = time.perf_counter()
        connection.request("POST", "/api/v1/imports?dryRun=false", body, headers)
        answer = connection.getresponse()
        content = answer.read()
        seconds = time.perf_counter() - started
        return seconds, answer.status, content
    finally:
        connection.close()


def _checked(status: int, content: bytes, field: str, rows: int) -> None:
    """The answer must be a 200 report whose one sheet has ``rows`` in ``field``."""
    sheets = json.loads(content).get("sheets", []) if status == 200 else []
    if len(sheets) != 1 or sheets[0].get(field) != rows or sheets[0].get("rows") != rows:
        raise RuntimeError(f"the import answered {status}: {content[:500]!r}")


# -- floors ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _owner_pg(owner: Engine) -> Iterator[Any]:
    """psycopg's own connection as the owner (rolled back and closed afterwards)."""
    raw = owner.raw_connection()
    try:
        yield raw.driver_connection
    finally:
        with contextlib.suppress(Exception):
            raw.rollback()
        raw.close()


FLOOR_TABLE = "bench_floor_students"
_COPIED = "institution_id, id, name, email, section_id"


def _floor_import(pg: Any, data: bytes, institution_id: str) -> float:
    """calamine reading ``data`` + COPY of its rows into an empty copy of ``students`` with
    its keys: a real table (written to the WAL like ``students``) with the same primary,
    unique and foreign keys and indexes, committed; timed together. The institution and its
    sections must exist (the foreign keys check them)."""
    with pg.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE students INCLUDING ALL)")
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'students'::regclass AND contype = 'f'"
        )
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {FLOOR_TABLE} ADD {definition}")
        pg.commit()
        try:
            started = time.perf_counter()
            rows = _read(data)
            with cursor.copy(f"COPY {FLOOR_TABLE} ({_COPIED}) FROM STDIN") as copy:
                for row in rows[1:]:
                    copy.write_row((institution_id, *row[:4]))
            pg.commit()
            seconds = time.perf_counter() - started
        finally:
            pg.rollback()
            cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
            pg.commit()
    return seconds


def _lower_bound(pg: Any, data: bytes, institution_id: str) -> float:
    """calamine reading ``data`` + COPY into a temporary table with the keys and indexes but
    no foreign keys and no WAL: cheaper than any real write (shown for reference)."""
    with pg.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE floor_imports (LIKE students INCLUDING ALL)")
        started = time.perf_counter()
        rows = _read(data)
        with cursor.copy(f"COPY floor_imports ({_COPIED}) FROM STDIN") as copy:
            for row in rows[1:]:
                copy.write_row((institution_id, *row[:4]))
        seconds = time.perf_counter() - started
    pg.rollback()
    return seconds


def _floor_reimport(pg: Any, data: bytes, institution_id: str) -> float:
    """calamine reading ``data`` + one SELECT of the stored students + comparing them."""
    with pg.cursor() as cursor:
        started = time.perf_counter()
        given = {tuple(row[:4]) for row in _read(data)[1:]}
        cursor.execute(
            "SELECT id, name, email, section_id FROM students WHERE institution_id = %s",
            (institution_id,),
        )
        stored = set(cursor.fetchall())
        seconds = time.perf_counter() - started
    pg.rollback()
    if given != stored:
        raise RuntimeError(f"the stored students differ from the file ({len(given ^ stored)})")
    return seconds


# -- memory ------------------------------------------------------------------------------------


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _worker_pid(server_pid: int) -> int:
    """The server's process with the most resident memory (``ams serve --workers 1`` serves
    in its own process; were there several, the worker is the big one)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = stat.read_text()
            if int(raw[raw.rindex(")") + 2 :].split()[2]) == server_pid:
                pid = int(stat.parent.name)
                members.append((_status_mb(pid, "VmRSS"), pid))
    return max(members)[1] if members else server_pid


# -- the runs ----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Family:
    db: Databases
    server: Server
    tokens: _Tokens
    pg: Any
    run_id: str = dataclasses.field(default_factory=lambda: secrets.token_hex(4))
    made: int = 0

    def institution(self, rows: int) -> tuple[str, str]:
        """A fresh institution for a ``rows``-row file, and its admin's token."""
        self.made += 1
        institution_id = f"{PREFIX}{self.run_id}-{rows}-{self.made}"
        _create(self.db, institution_id, rows)
        return institution_id, self.tokens.issue(_admin_email(rows))


def _verdict(rows: int, median: float, ratio: float) -> str:
    goal = GOALS.get(rows)
    if goal is None:
        return "(goals are for 4,000, 20,000 and 100,000 rows)"
    seconds, times = goal
    text_goal = f"≤ {seconds:g} s" + (f" and ≤ {times:g}× floor" if times else "")
    misses = []
    if median > seconds:
        misses.append(f"{median:.3f} s")
    if times is not None and ratio > times:
        misses.append(f"{ratio:.1f}× floor")
    return f"{text_goal}: {'MISSED, ' + ', '.join(misses) if misses else 'met'}"


def _runs(samples: Sequence[float]) -> str:
    return f"{len(samples)} run{'s' if len(samples) != 1 else ''}"


def _rows(
    label: str,
    floor_label: str,
    count: int,
    ams: Sequence[float],
    floor: Sequence[float],
    goal: str,
) -> list[Row]:
    median, floor_median = statistics.median(ams), statistics.median(floor)
    ratio = median / floor_median
    print(
        f"  {label}: runs {', '.join(f'{s:.3f}' for s in ams)} s; floor "
        f"{', '.join(f'{s:.3f}' for s in floor)} s; median ratio {ratio:.2f}×",
        file=sys.stderr,
        flush=True,
    )
    return [
        Row(
            f"{label} ({_runs(ams)}: min {min(ams):.3f} s, median {median:.3f} s; floor "
            f"median {floor_median:.3f} s → {ratio:.2f}× floor)",
            count,
            median,
            "rows",
            p50_ms=median * 1000,
            goal=goal,
        ),
        Row(
            f"floor: {floor_label} ({_runs(floor)}: min {min(floor):.3f} s, median "
            f"{floor_median:.3f} s)",
            count,
            floor_median,
            "rows",
            p50_ms=floor_median * 1000,
            goal="(floor)",
        ),
    ]


def _reimport(family: _Family, rows: int, data: bytes, runs: int) -> list[Row]:
    """The warm-up import of the smallest file, then ``runs`` re-imports of it."""
    institution_id, token = family.institution(rows)
    body, boundary = _multipart(data)
    try:
        seconds, status, content = _upload(family.server, body, boundary, token)
        _checked(status, content, "created", rows)
        print(f"  warm-up: first import of {rows:,} rows in {seconds:.3f} s", file=sys.stderr)
        ams, floor = [], []
        for _ in range(runs):
            seconds, status, content = _upload(family.server, body, boundary, token)
            _checked(status, content, "unchanged", rows)
            ams.append(seconds)
            floor.append(_floor_reimport(family.pg, data, institution_id))
    finally:
        _delete(family.db.owner, [institution_id])
    return _rows(
        f"Excel re-import over HTTP, the same {rows:,} students again (all unchanged)",
        f"calamine read of the same file + SELECT of the {rows:,} stored students, compared",
        rows,
        ams,
        floor,
        "(no goal; a first import of 4,000: ≤ 0.1 s)",
    )


def _first_imports(family: _Family, rows: int, data: bytes, runs: int) -> list[Row]:
    body, boundary = _multipart(data)
    ams, floor, lower = [], [], []
    for _ in range(runs):
        institution_id, token = family.institution(rows)
        try:
            seconds, status, content = _upload(family.server, body, boundary, token)
            _checked(status, content, "created", rows)
            ams.append(seconds)
            floor.append(_floor_import(family.pg, data, institution_id))
            lower.append(_lower_bound(family.pg, data, institution_id))
        finally:
            _delete(family.db.owner, [institution_id])
    median, floor_median = statistics.median(ams), statistics.median(floor)
    lower_median = statistics.median(lower)
    return [
        *_rows(
            f"Excel import over HTTP, {rows:,} new students ({len(data) / 1e6:.2f} MB .xlsx, "
            "1 worker process)",
            f"calamine read of the same file + COPY of its {rows:,} rows into a copy of "
            "students with its keys (primary, unique, foreign) and indexes, committed",
            rows,
            ams,
            floor,
            _verdict(rows, median, median / floor_median),
        ),
        Row(
            f"lower bound: calamine read + COPY into a temporary copy without foreign keys or "
            f"WAL ({_runs(lower)}: median {lower_median:.3f} s; AMS "
            f"{median / lower_median:.2f}× it)",
            rows,
            lower_median,
            "rows",
            p50_ms=lower_median * 1000,
            goal="(reference, not a floor: no real write is this cheap)",
        ),
    ]


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: server stopped, data gone


def run(quick: bool) -> list[Row]:
    sizes = QUICK if quick else FULL
    db = connect()
    _delete(db.owner)  # what a run that was killed left behind
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(db, sizes)
    finally:
        signal.signal(signal.SIGTERM, previous)
        _delete(db.owner)
        db.app.dispose()
        db.owner.dispose()


def _run(db: Databases, sizes: Sizes) -> list[Row]:
    started = time.perf_counter()
    files = {rows: _workbook(rows) for rows, _ in sizes.imports}
    print(
        f"  {len(files)} workbooks built with openpyxl in {time.perf_counter() - started:.1f} s "
        f"({', '.join(f'{n:,} rows: {len(d) / 1e6:.2f} MB' for n, d in files.items())})",
        file=sys.stderr,
        flush=True,
    )
    tokens = _Tokens(db.app_url)
    rows: list[Row] = []
    try:
        with serving(db.app_url, db.owner, workers=1) as server, _owner_pg(db.owner) as pg:
            family = _Family(db, server, tokens, pg)
            worker = _worker_pid(server.pid)
            at_start = _status_mb(worker, "VmRSS")
            smallest, _ = sizes.imports[0]
            rows += _reimport(family, smallest, files[smallest], sizes.reimport_runs)
            *smaller, (largest, largest_runs) = sizes.imports
            for n, runs in smaller:
                rows += _first_imports(family, n, files[n], runs)
            before = _status_mb(worker, "VmHWM")
            largest_rows = _first_imports(family, largest, files[largest], largest_runs)
            after = _status_mb(worker, "VmHWM")
            timed = largest_rows[0]
            rows += [*largest_rows, _memory_row(worker, largest, at_start, before, after, timed)]
    finally:
        tokens.close()
    return rows


def _memory_row(
    worker: int, largest: int, at_start: float, before: float, after: float, timed: Row
) -> Row:
    verdict = "met" if after <= PEAK_GOAL_MB else f"MISSED, {after:.0f} MB"
    goal = f"≤ {PEAK_GOAL_MB:.0f} MB peak: {verdict}" if largest in GOALS else "(≤ 300 MB peak)"
    print(
        f"  worker pid {worker}: RSS {at_start:.0f} MB at start, peak {before:.0f} MB before "
        f"the {largest:,}-row imports, {after:.0f} MB after",
        file=sys.stderr,
        flush=True,
    )
    return Row(
        f"peak memory of the server's one worker process through the {largest:,}-row imports: "
        f"{after:.0f} MB (VmHWM; {before:.0f} MB before them, RSS {at_start:.0f} MB at start; "
        f"count and time: the median {largest:,}-row import)",
        timed.count,
        timed.seconds,
        "rows",
        p50_ms=timed.p50_ms,
        goal=goal,
    )
