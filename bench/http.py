"""HTTP benchmarks of issues 4 and 15: ``ams serve --workers 3`` on PRODUCT.md §5's data.

The server is the real thing: ``ams serve`` with 3 processes (ADR 0020) in a subprocess, on
PostgreSQL (database ``ams_bench`` of :mod:`bench.postgres`) as the non-owner login bound by
row-level security, every request carrying a real access token (issued by
``IssueLocalToken``, so it names a stored sign-in and is checked against the revocation
list) and fully validated. The load comes from another process on loopback
(:mod:`bench.load`). Rate limits are raised so the load is not throttled.

Check-ins need sessions happening *now* on the real clock: before the server starts, each
of the 32 sections gets extra sessions dated today with an open check-in window and a
known code secret, and every student a bound phone. The load generator computes each
code from the secret at send time (the server accepts the current and the previous
30-second code), so every check-in passes every rule and most are a student's first
mark in a session; the rows say how many were first marks and how many repeats. All of
it (sessions, marks, phones, sign-ins) is deleted again at the end.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import hashlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ams_adapters.composition import build_providers
from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import SqlSettings
from ams_adapters.sql import mappers
from ams_adapters.sql import tables as t
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    AttendanceWindow,
    ClassSession,
    Faculty,
    InstitutionId,
    IsoWeek,
    SessionId,
    SessionStatus,
    Student,
    TeachingAssignment,
)
from ams_core.domain.codes import code_for_step
from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand
from bench.dataset import OPERATOR
from bench.load import ClosedLoop, LoadResult, Mode, OpenLoop, Plan, Sequential, run_in_process
from bench.postgres import (
    COLLEGE_ID,
    COMPLETE_ID,
    QUERY_NOW,
    Databases,
    _load_term,
    check_in_half,
    connect,
    seed_complete_institution,
    vacuum,
)
from bench.timing import Row

HOST = "127.0.0.1"
#: one per core and one more, as ``ams serve`` runs by default (ADR 0020)
WORKERS = 3
#: connections of the fixed-rate check-in rows: one per phone, so a queue forms in the
#: server, where its bound can shed it (64 connections would queue in the load generator)
PHONES = 512
#: the fixed rates, as fractions of the check-in capacity the closed loop measured
BELOW_CAPACITY, ABOVE_CAPACITY = 0.8, 1.5
#: The HMAC key of the server and of the tokens issued here (a benchmark-only value).
SECRET_KEY = "ams-bench-http-not-a-production-key-0123456789"  # noqa: S105
TOKEN_MINUTES = 120
#: Far above anything the load generator can send: the benchmark measures, not throttles.
UNLIMITED = str(10**9)
SESSION_PREFIX = "HTTPBENCH-"
DEVICE_PREFIX = "bench-phone-"
#: The week the schedule rows ask for: the term's last week (as the use-case benchmarks).
SCHEDULE_WEEK = IsoWeek.containing(QUERY_NOW.date()).dates
FIRST_MARK = b'"alreadyMarked":false'
PR_SET_PDEATHSIG = 1
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


@dataclasses.dataclass(frozen=True)
class Sizes:
    seconds: float
    warmup_seconds: float
    unloaded: int
    #: sessions per section for each check-in run (a run's first check-ins: 4,000 × this)
    closed_sessions: int
    #: sessions per section for each of the two fixed-rate runs
    open_sessions: int
    #: 150-student sessions completed one after another
    completions: int
    unloaded_sessions: int = 1
    #: check-in closed loops of AMS and the floor measured back to back (ratio per pair)
    pairs: int = 3
    #: each server's unmeasured check-in closed loop before the pairs (seconds)
    warm_loop_seconds: float = 5


FULL = Sizes(
    seconds=10,
    warmup_seconds=1,
    unloaded=1_000,
    closed_sessions=10,
    open_sessions=6,
    completions=200,
)
QUICK = Sizes(
    seconds=1,
    warmup_seconds=0.3,
    unloaded=50,
    closed_sessions=1,
    open_sessions=1,
    completions=20,
    pairs=2,
    warm_loop_seconds=0.5,
)


@dataclasses.dataclass(frozen=True)
class College:
    institution_id: InstitutionId
    students: tuple[Student, ...]
    faculty: tuple[Faculty, ...]
    assignments: tuple[TeachingAssignment, ...]
    rotation_seconds: int
    timezone: Any


def _college(db: Databases, institution_id: str = COLLEGE_ID) -> College:
    iid = InstitutionId(institution_id)
    uow = SqlUnitOfWork(db.app)
    with uow.for_institution(iid):
        institution = uow.institutions.get(iid)
        return College(
            iid,
            tuple(sorted(uow.students.list(), key=lambda s: s.id)),
            tuple(sorted(uow.faculty.list(), key=lambda f: f.id)),
            tuple(sorted(uow.assignments.list(), key=lambda a: a.id)),
            institution.settings.code_rotation_seconds,
            institution.tz,
        )


# -- preparing and cleaning the database (as the owner) ---------------------------------------


def _cleanup(owner: Engine) -> None:
    """Remove everything an earlier run added (the §5 data set stays as it was)."""
    like = {"i": [COLLEGE_ID, COMPLETE_ID], "p": f"{SESSION_PREFIX}%"}
    with owner.begin() as connection:
        for table in (
            "attendance_marks",
            "attendance_audit",
            "check_in_failures",
            "security_events",
        ):
            connection.execute(
                text(f"DELETE FROM {table} WHERE institution_id = ANY(:i) AND session_id LIKE :p"),
                like,
            )
        connection.execute(
            text("DELETE FROM class_sessions WHERE institution_id = ANY(:i) AND id LIKE :p"), like
        )
        connection.execute(
            text("DELETE FROM device_bindings WHERE institution_id = :i AND device_id LIKE :d"),
            {"i": COLLEGE_ID, "d": f"{DEVICE_PREFIX}%"},
        )
        connection.execute(
            text("DELETE FROM sign_ins WHERE institution_id = ANY(:i) AND method = 'local'"),
            {"i": [COLLEGE_ID, COMPLETE_ID]},
        )


def _device(student: Student) -> str:
    return f"{DEVICE_PREFIX}{student.id}"


def _bind_phones(owner: Engine, college: College) -> None:
    now = datetime.now(UTC)
    with owner.begin() as connection:
        connection.execute(
            text("DELETE FROM device_bindings WHERE institution_id = :i"), {"i": COLLEGE_ID}
        )
        connection.execute(
            t.device_bindings.insert(),
            [
                {
                    "institution_id": COLLEGE_ID,
                    "student_id": s.id,
                    "device_id": _device(s),
                    "bound_at": now,
                }
                for s in college.students
            ],
        )


def _secret(session_id: str) -> bytes:
    return hashlib.sha256(f"bench secret {session_id}".encode()).digest()


def _sessions_now(owner: Engine, college: College, per_section: int) -> list[ClassSession]:
    """``per_section`` sessions per section, happening now, check-in open for two hours."""
    now = datetime.now(UTC)
    local = now.astimezone(college.timezone)
    start = local - timedelta(minutes=5)
    end = local + timedelta(minutes=60)
    start_time = start.time() if start.date() == local.date() else clock_time(0, 0)
    end_time = end.time() if end.date() == local.date() else clock_time(23, 59, 59)
    window = AttendanceWindow(
        opened_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(hours=2),
        secret=b"",
        rotation_seconds=college.rotation_seconds,
    )
    by_section: dict[str, list[TeachingAssignment]] = {}
    for assignment in college.assignments:
        by_section.setdefault(assignment.section_id, []).append(assignment)
    sessions = []
    for section_id, assignments in sorted(by_section.items()):
        for k in range(per_section):
            a = assignments[k % len(assignments)]
            sid = SessionId(f"{SESSION_PREFIX}{section_id}-{k:02d}")
            sessions.append(
                ClassSession(
                    id=sid,
                    institution_id=college.institution_id,
                    assignment_id=a.id,
                    section_id=a.section_id,
                    subject_code=a.subject_code,
                    date=local.date(),
                    start=start_time.replace(microsecond=0),
                    end=end_time.replace(microsecond=0),
                    teacher_id=a.faculty_id,
                    venue="Bench hall",
                    status=SessionStatus.OPEN,
                    window=dataclasses.replace(window, secret=_secret(sid)),
                )
            )
    with owner.begin() as connection:
        connection.execute(t.sessions.insert(), [mappers.session_row(s) for s in sessions])
    return sessions


# -- tokens ------------------------------------------------------------------------------------


def _issue_tokens(app_url: str, emails: Sequence[str], threads: int = 8) -> list[str]:
    """Real access tokens: each one names a sign-in stored by ``IssueLocalToken`` (one
    commit each, so several threads, each in its own request scope like the server's)."""
    from dishka import make_container

    identity = IdentitySettings(secret_key=SECRET_KEY.encode(), access_token_minutes=TOKEN_MINUTES)
    sql = SqlSettings(url=app_url, pool_size=threads)
    container = make_container(*build_providers(sql=sql, identity=identity))

    def issue_all(chunk: Sequence[str]) -> list[str]:
        with container() as request:
            issue = request.get(IssueLocalToken)
            return [issue(IssueLocalTokenCommand(OPERATOR, e)).access_token for e in chunk]

    try:
        with ThreadPoolExecutor(threads) as pool:
            chunks = [emails[n::threads] for n in range(threads)]
            issued = list(pool.map(issue_all, chunks))
    finally:
        container.close()
    tokens = [""] * len(emails)
    for n, chunk_tokens in enumerate(issued):
        tokens[n::threads] = chunk_tokens
    return tokens


# -- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _request(url: str, token: str | None = None, body: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), bytes(error.read())


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _die_with_parent() -> None:
    """In the server's process (Linux): get SIGTERM when the benchmark dies, even if killed."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (uvicorn stops its workers), then SIGKILL its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the workers, if any outlived the supervisor
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


@dataclasses.dataclass(frozen=True)
class Server:
    host: str
    port: int
    #: of the supervisor, which leads the process group of all its workers
    pid: int
    #: the database's owner (for PostgreSQL's statistics)
    owner: Engine


@contextlib.contextmanager
def serving(
    app_url: str,
    owner: Engine,
    workers: int = WORKERS,
    module: str = "ams_http.serve.cli",
    launcher: Sequence[str] = (),
    start_timeout: float = START_TIMEOUT,
    overrides: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``ams serve --workers N`` (or another ``module`` taking the same ``serve``
    arguments) on a free loopback port until the block ends; ``launcher`` goes before the
    Python command (e.g. valgrind's), ``overrides`` replace settings of the environment."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="ams-bench-http-") as scratch:
        metrics = Path(scratch, "metrics")
        metrics.mkdir()
        log = Path(scratch, "server.log")
        fixed = {
            "AMS_DATABASE_URL": app_url,
            "AMS_SECRET_KEY": SECRET_KEY,
            "AMS_LOG_LEVEL": "warning",
            # the API alone: no relay or periodic jobs inside the measured processes
            "AMS_BACKGROUND_IN_PROCESS": "false",
            "AMS_RATE_SIGN_IN": UNLIMITED,
            "AMS_RATE_CHECK_IN": UNLIMITED,
            "AMS_RATE_CHECK_IN_PER_IP": UNLIMITED,
            "AMS_RATE_REQUESTS": UNLIMITED,
            # as docs/operations.md asks for several processes
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        # other AMS_* settings of the caller reach the server (e.g. AMS_DATABASE_POOL_SIZE)
        inherited = {
            k: v
            for k, v in os.environ.items()
            if k.startswith("AMS_") and not k.startswith("AMS_BENCH_") and k not in fixed
        }
        if inherited:
            print(f"  server settings from the environment: {inherited}", file=sys.stderr)
        passed = {k: v for k, v in os.environ.items() if not k.startswith("AMS_")}
        env = passed | inherited | fixed | dict(overrides or {})
        command = [*launcher, sys.executable, "-m", module, "serve", "--host", HOST]
        command += ["--port", str(port), "--workers", str(workers)]
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own command line
                command,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"ams serve exited ({process.returncode}):\n{_tail(log)}")
                with contextlib.suppress(OSError):
                    if _request(f"http://{HOST}:{port}/health/ready")[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"ams serve not ready in {start_timeout:.0f} s:\n{_tail(log)}"
                    )
                time.sleep(0.2)
            yield Server(HOST, port, process.pid, owner)
        finally:
            _stop(process)
            print(f"  server log (tail):\n{_tail(log, 8)}", file=sys.stderr, flush=True)


# -- rows --------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f} ms"


def _row(name: str, result: LoadResult, unit: str, goal: str, marks: bool = False) -> Row:
    details = []
    if marks:
        details.append(f"{result.marked:,} first marks, {result.ok - result.marked:,} repeats")
    details.append(f"non-2xx: {result.problems()}")
    print(
        f"  {name}: {result.ok:,} ok of {result.sent:,} sent in {result.seconds:.2f} s "
        f"= {result.rate:,.0f}/s, p50 {_ms(result.p50())}, p99 {_ms(result.p(0.99))}; "
        f"{'; '.join(details)}",
        file=sys.stderr,
        flush=True,
    )
    for status, body in result.samples.items():
        print(f"    {status}: {body[:200]!r}", file=sys.stderr)
    return Row(
        f"{name} ({'; '.join(details)})",
        result.ok,
        result.seconds,
        unit,
        p50_ms=result.p50(),
        p99_ms=result.p(0.99),
        goal=goal,
    )


def _check_in_plan(
    host: str, port: int, college: College, tokens: Sequence[str], sessions: Sequence[ClassSession]
) -> Plan:
    """Every (student, session) pair of ``sessions`` once, interleaved: consecutive
    requests go to different sections, so 64 connections hit ~32 sessions at a time."""
    index = {s.id: n for n, s in enumerate(college.students)}
    by_section: dict[str, list[int]] = {}
    for s in college.students:
        by_section.setdefault(s.section_id, []).append(index[s.id])
    sections = sorted(by_section)
    per_section: dict[str, list[int]] = {}
    for n, session in enumerate(sessions):
        per_section.setdefault(session.section_id, []).append(n)
    rounds = max(len(v) for v in per_section.values())
    widest = max(len(v) for v in by_section.values())
    items = [
        (by_section[section][i], per_section[section][k])
        for k in range(rounds)
        for i in range(widest)
        for section in sections
        if k < len(per_section.get(section, ())) and i < len(by_section[section])
    ]
    return Plan(
        host=host,
        port=port,
        method="POST",
        paths=tuple(f"/api/v1/sessions/{s.id}/check-in" for s in sessions),
        tokens=tuple(tokens),
        items=tuple(items),
        body='{{"code":"{code}","deviceId":"{device}"}}',
        devices=tuple(_device(s) for s in college.students),
        secrets=tuple(_secret(s.id) for s in sessions),
        rotation_seconds=college.rotation_seconds,
        success_marker=FIRST_MARK,
    )


def _complete_plans(db: Databases, targets: Sequence[Server], count: int) -> list[Plan]:
    """For each target, ``count`` sessions of its own of one 150-student section happening
    now, half the class checked in, each to be completed once by its teacher of record."""
    seed_complete_institution(db.owner)
    college = _college(db, COMPLETE_ID)
    sessions = _sessions_now(db.owner, college, count * len(targets))
    with db.owner.begin() as connection:
        check_in_half(connection, f"{SESSION_PREFIX}%")
    with db.owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE students, class_sessions, attendance_marks"))
    teachers = _issue_tokens(db.app_url, [f.email for f in college.faculty])
    token_of = {f.id: n for n, f in enumerate(college.faculty)}
    plans = []
    for n, target in enumerate(targets):
        own = sessions[n * count : (n + 1) * count]
        plans.append(
            Plan(
                host=target.host,
                port=target.port,
                method="POST",
                paths=tuple(f"/api/v1/sessions/{s.id}/complete" for s in own),
                tokens=tuple(teachers),
                items=tuple((token_of[s.teacher_id], k) for k, s in enumerate(own)),
                body='{{"topic":"bench"}}',
            )
        )
    return plans


def _get_plan(host: str, port: int, path: str, tokens: Sequence[str]) -> Plan:
    return Plan(
        host=host,
        port=port,
        method="GET",
        paths=(path,),
        tokens=tuple(tokens),
        items=tuple((n, 0) for n in range(len(tokens))),
    )


def _sanity(base: str, plan: Plan, expect: str) -> None:
    """One request by hand before the load: it must succeed and answer what we expect."""
    user, path = plan.items[-1]
    body = None
    if plan.body is not None:
        step = int(time.time()) // plan.rotation_seconds
        code = code_for_step(plan.secrets[path], step)
        body = plan.body.format(code=code, device=plan.devices[user]).encode()
    status, answer = _request(f"{base}{plan.paths[path]}", plan.tokens[user], body)
    if status != 200 or expect.encode() not in answer:
        raise RuntimeError(f"{plan.paths[path]} answered {status}: {answer[:300]!r}")
    print(f"  {plan.method} {plan.paths[path]} → {status}, {len(answer):,} bytes", file=sys.stderr)


def _cpu_by_pid(server_pgid: int) -> dict[tuple[str, int], float]:
    """CPU seconds used so far by each process of the server and of PostgreSQL (the
    benchmark database's backends, the shared background processes and backends that
    have exited — the last of any database), and by the whole machine."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[tuple[str, int], float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = stat.read_text()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            if int(fields[2]) == server_pgid:
                used["server", int(stat.parent.name)] = seconds
            elif comm == "postgres":
                title = (stat.parent / "cmdline").read_bytes()
                if b"ams_bench" in title or b"(" not in title:
                    used["postgres", int(stat.parent.name)] = seconds
                if not title.startswith(b"postgres:"):  # the postmaster: its reaped backends
                    children = (int(fields[13]) + int(fields[14])) / tick  # cutime + cstime
                    used["postgres", -int(stat.parent.name)] = children
    with contextlib.suppress(OSError, ValueError):
        ticks = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        used["machine", 0] = sum(int(x) for n, x in enumerate(ticks) if n not in (3, 4)) / tick
    return used


def _connections_opened(owner: Engine) -> int:
    with owner.connect() as connection:
        return int(
            connection.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def _measure(server: Server, plan: Plan, mode: Mode) -> LoadResult:
    """Run the load in its own process; report where the machine's CPU went meanwhile."""
    if not Path("/proc/stat").exists():
        return run_in_process(plan, mode)
    before = _cpu_by_pid(server.pid)
    opened = _connections_opened(server.owner)
    started = time.perf_counter()
    result = run_in_process(plan, mode)
    wall = time.perf_counter() - started
    opened = max(0, _connections_opened(server.owner) - opened)  # statistics may lag
    spent: dict[str, float] = {"server": 0.0, "postgres": 0.0, "machine": 0.0}
    for (group, pid), seconds in _cpu_by_pid(server.pid).items():
        spent[group] += seconds - before.get((group, pid), 0.0)
    served, postgres, machine = spent["server"], spent["postgres"], spent["machine"]
    print(
        f"  CPU during the run ({wall:.1f} s, load process start-up included), in cores: "
        f"server {served / wall:.2f}, PostgreSQL {postgres / wall:.2f}, load generator "
        f"{result.cpu_seconds / max(result.wall_seconds, 1e-9):.2f} (while it ran), "
        f"whole machine {machine / wall:.2f} of {os.cpu_count()}\n"
        f"  per answer: server CPU {1000 * served / max(result.answers, 1):.2f} ms, "
        f"PostgreSQL CPU {1000 * postgres / max(result.answers, 1):.2f} ms; "
        f"{opened:,} PostgreSQL connections opened for {result.answers:,} answers",
        file=sys.stderr,
        flush=True,
    )
    return result


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: server stopped, data gone


def run(quick: bool) -> list[Row]:
    sizes = QUICK if quick else FULL
    db = connect()
    marks = _load_term(db)
    college = _college(db)
    _cleanup(db.owner)
    vacuum(db)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(db, college, sizes, marks)
    finally:
        signal.signal(signal.SIGTERM, previous)
        _cleanup(db.owner)
        db.app.dispose()
        db.owner.dispose()


def _run(db: Databases, college: College, sizes: Sizes, marks: int) -> list[Row]:
    started = time.perf_counter()
    _bind_phones(db.owner, college)
    students = _issue_tokens(db.app_url, [s.email for s in college.students])
    teachers = _issue_tokens(db.app_url, [f.email for f in college.faculty])
    print(
        f"  {len(students):,} student and {len(teachers)} teacher tokens issued, phones bound "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    label = f"{marks:,} marks"
    seconds, warm = sizes.seconds, sizes.warmup_seconds
    unloaded = Sequential(sizes.unloaded)
    rows: dict[str, Row] = {}
    with serving(db.app_url, db.owner) as server:
        host, port = server.host, server.port
        base = f"http://{host}:{port}"
        week = f"from={SCHEDULE_WEEK.start.isoformat()}&to={SCHEDULE_WEEK.end.isoformat()}"
        schedule = _get_plan(host, port, f"/api/v1/me/schedule?{week}", students)
        dashboard = _get_plan(host, port, "/api/v1/me/dashboard", teachers)
        _sanity(base, schedule, '"items":[{')
        _sanity(base, dashboard, '"classes":[{')
        rows["schedule 64"] = _row(
            f"student schedule over HTTP, 64 connections ({label})",
            _measure(server, schedule, ClosedLoop(64, seconds, warm)),
            "requests",
            "≥ 1.4× before (legacy 835/s)",
        )
        rows["schedule 1"] = _row(
            "student schedule over HTTP, unloaded (1 connection)",
            _measure(server, schedule, unloaded),
            "requests",
            "p50 ≤ 2 ms (legacy 2.3 ms)",
        )
        rows["dashboard 16"] = _row(
            f"faculty dashboard over HTTP, 16 connections ({label})",
            _measure(server, dashboard, ClosedLoop(16, seconds, warm)),
            "requests",
            "≥ 1.4× before (legacy 280/s)",
        )
        rows["dashboard 1"] = _row(
            "faculty dashboard over HTTP, unloaded (1 connection)",
            _measure(server, dashboard, unloaded),
            "requests",
            "p50 ≤ 2 ms (legacy 6.9 ms)",
        )
        # every check-in batch: each server's warm-up loop, AMS's and the floor's closed
        # loops once per pair, the two fixed-rate rows, the unloaded rows of AMS and the floor
        per_section = (2 + 2 * sizes.pairs) * sizes.closed_sessions + 2 * sizes.open_sessions
        per_section += 2 * sizes.unloaded_sessions
        sessions = _sessions_now(db.owner, college, per_section)
        by_k: list[list[ClassSession]] = [[] for _ in range(per_section)]
        for session in sessions:
            by_k[int(session.id.rsplit("-", 1)[1])].append(session)
        batches = iter(by_k)

        def batch(count: int) -> list[ClassSession]:
            return [s for _ in range(count) for s in next(batches)]

        closed = _check_in_plan(host, port, college, students, batch(sizes.closed_sessions))
        _sanity(base, closed, '"status":"')
        with serving(db.app_url, db.owner, module="bench.realistic_floor_app") as floor:
            rows.update(_check_in_rows(server, floor, college, students, sizes, batch, closed))
            rows.update(_complete_rows(db, server, floor, sizes))
    # the check-in rows in the order measured, then the completion's, then the reads
    order = ["schedule 64", "schedule 1", "dashboard 16", "dashboard 1"]
    return [row for key, row in rows.items() if key not in order] + [rows[key] for key in order]


def _complete_rows(db: Databases, server: Server, floor: Server, sizes: Sizes) -> dict[str, Row]:
    """A 150-student completion, AMS's and its floor's, one after the other, unloaded."""
    completions = Sequential(sizes.completions, warmup_requests=sizes.completions // 10)
    count = completions.requests + completions.warmup_requests
    ams_plan, floor_plan = _complete_plans(db, (server, floor), count)
    ams = _measure(server, ams_plan, completions)
    bare = _measure(floor, floor_plan, completions)
    ams_p50, bare_p50 = ams.p50(), bare.p50()
    share = ams_p50 / bare_p50 if ams_p50 and bare_p50 else 0.0
    return {
        "complete 1": _row(
            "complete a 150-student session over HTTP, half checked in, unloaded (1 connection)",
            ams,
            "sessions",
            "p50 ≤ 10 ms (legacy 21 ms)",
        ),
        "complete floor 1": _row(
            "floor: the completion's checks and statements, bare (bench.realistic_floor_app, "
            f"two round trips), right after AMS's: AMS's p50 = {share:.1f}× this",
            bare,
            "sessions",
            "",
        ),
    }


def _check_in_rows(
    server: Server,
    floor: Server,
    college: College,
    students: Sequence[str],
    sizes: Sizes,
    batch: Callable[[int], list[ClassSession]],
    closed: Plan,
) -> dict[str, Row]:
    """The check-in rows: AMS's and the floor's closed loops in ``sizes.pairs`` pairs, each
    pair measured back to back, the order alternating (the floor first, then AMS first, …);
    the fixed-rate rows between the first pair and the second; the unloaded rows last.

    The machine's speed drifts by 30 % and more within minutes, so a figure is compared only
    with one measured beside it: AMS ÷ floor per pair, and its median over the pairs; the
    fixed rates from AMS's capacity measured right before them, their answered rate against
    the capacity measured right before and right after them. Each server first runs one
    unmeasured closed loop of its own: a process's first check-ins (new connections, plans,
    AMS's first sight of each token) are not what either answers all day.
    """
    seconds, warm = sizes.seconds, sizes.warmup_seconds
    closed_loop = ClosedLoop(64, seconds, warm)

    def plan_of(target: Server, count: int) -> Plan:
        return _check_in_plan(target.host, target.port, college, students, batch(count))

    floor_plan = plan_of(floor, sizes.closed_sessions)
    _sanity(f"http://{floor.host}:{floor.port}", floor_plan, '"status":"')
    for name, target, plan in (("floor", floor, floor_plan), ("AMS", server, closed)):
        warm_up = _measure(target, plan, ClosedLoop(64, sizes.warm_loop_seconds, 0))
        print(
            f"  warm-up of {name}, not reported: {warm_up.rate:,.0f} check-ins/s",
            file=sys.stderr,
            flush=True,
        )

    def pair(number: int) -> tuple[LoadResult, LoadResult]:
        """AMS's and the floor's closed loops back to back: the floor first in odd pairs, so
        AMS's capacity is measured right before the fixed rates that the first pair sets."""
        if number % 2:
            bare = _measure(floor, plan_of(floor, sizes.closed_sessions), closed_loop)
            return _measure(server, plan_of(server, sizes.closed_sessions), closed_loop), bare
        ams = _measure(server, plan_of(server, sizes.closed_sessions), closed_loop)
        return ams, _measure(floor, plan_of(floor, sizes.closed_sessions), closed_loop)

    pairs: list[tuple[LoadResult, LoadResult]] = []
    fixed: list[tuple[str, float, float, str, LoadResult]] = []
    for number in range(1, sizes.pairs + 1):
        pairs.append(pair(number))
        if number == 1:
            for key, fraction, goal in (
                ("check-in below", BELOW_CAPACITY, "p99 ≤ 100 ms"),
                ("check-in above", ABOVE_CAPACITY, "≥ 90 % of capacity answered, p99 ≤ 1 s"),
            ):
                rate = max(1.0, fraction * pairs[0][0].rate)
                load = OpenLoop(rate, PHONES, seconds, warm)
                result = _measure(server, plan_of(server, sizes.open_sessions), load)
                fixed.append((key, fraction, rate, goal, result))

    ratios = sorted(a.rate / f.rate for a, f in pairs if f.rate)
    pooled = (sum(a.ok for a, _ in pairs) / sum(a.seconds for a, _ in pairs)) / (
        sum(f.ok for _, f in pairs) / sum(f.seconds for _, f in pairs)
    )
    summary = (
        f"AMS ÷ floor over {len(pairs)} pairs back to back: median "
        f"{statistics.median(ratios) if ratios else 0.0:.0%} "
        f"(pairs: {', '.join(f'{a.rate:,.0f} ÷ {f.rate:,.0f}' for a, f in pairs)}; "
        f"lowest {ratios[0]:.0%}, highest {ratios[-1]:.0%}; all pairs pooled {pooled:.0%})"
    )
    print(f"  {summary}", file=sys.stderr, flush=True)
    # the capacity around the fixed rates: AMS's loops of the first pair and of the second
    around = [ams.rate for ams, _ in pairs[:2]]
    capacity = sum(around) / len(around)
    rows: dict[str, Row] = {}
    for number, (ams, bare) in enumerate(pairs, start=1):
        ratio = ams.rate / bare.rate if bare.rate else 0.0
        rows[f"check-in 64 #{number}"] = _row(
            f"check-in over HTTP, 64 connections, closed loop, pair {number} of {sizes.pairs}",
            ams,
            "check-ins",
            "≥ 1.4× before and ≥ 90 % of the realistic floor (issue 15)",
            marks=True,
        )
        rows[f"floor 64 #{number}"] = _row(
            f"floor: the check-in's checks and statements, bare (bench.realistic_floor_app, "
            f"{WORKERS} processes), 64 connections, closed loop, right "
            f"{'before' if number % 2 else 'after'} AMS's: AMS = {ratio:.0%} of it"
            + (f"; {summary}" if number == len(pairs) else ""),
            bare,
            "check-ins",
            "AMS ≥ 90 % of this",
            marks=True,
        )
        if number == 1:  # the fixed rates ran right after the first pair
            for key, fraction, rate, goal, result in fixed:
                rows[key] = _row(
                    f"check-in over HTTP, open loop at {fraction:.0%} of that capacity "
                    f"({rate:,.0f}/s), {PHONES} connections, latency from the intended send "
                    f"time; answered = {result.rate / capacity:.0%} of the capacity measured "
                    "before and after",
                    result,
                    "check-ins",
                    goal,
                    marks=True,
                )
    unloaded = Sequential(sizes.unloaded)
    for key, target, name, goal in (
        ("check-in 1", server, "check-in over HTTP, unloaded (1 connection)", "p50 ≤ 2 ms"),
        ("floor 1", floor, "floor: the same, unloaded (1 connection)", ""),
    ):
        result = _measure(target, plan_of(target, sizes.unloaded_sessions), unloaded)
        rows[key] = _row(name, result, "check-ins", goal, marks=True)
    return rows
