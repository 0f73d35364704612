"""`python -m bench --only instructions`: the instructions AMS's app runs per request —
check-in, student schedule, faculty dashboard — and the realistic floor's check-in
(``bench.realistic_floor_app``), counted by valgrind's callgrind.

Rates and latencies on these machines move by a third within minutes; an instruction
count does not: the same code, data and requests give the same count within about 1 %,
whatever else the machine is doing. So a before/after of a change to the request path is
a pair of these counts, each from its own checkout (``PYTHONPATH=<checkout>/src:<checkout>``),
measured in any order. It counts the server's own work only (PostgreSQL's is not in it),
and instructions are not time: a bigger program's instructions wait more on memory, so
AMS's time per request sits further above the floor's than its instructions do.

Each count runs one process under ``valgrind --tool=callgrind --instr-atstart=no``: it
builds the app as ``ams serve`` does (``app_from_env``, its start-up hooks included) or
the floor's, calls it over ASGI (no HTTP server: uvicorn's share is the same for both),
answers ``WARM`` requests, then counts the next ``N`` (``callgrind_control -i on/off``).
Check-ins are first marks, each (student, session) pair once, the floor's pairs apart
from AMS's; AMS's process has verified every token once before, as in the HTTP family,
where the schedule rows run before the check-in rows.

Over ASGI, uvicorn's share is left out, and so is everything AMS adds around the app when
it serves: its HTTP protocol (the head and queue bounds of ``bounded_http``), the wait
bound, and the request metrics written to ``PROMETHEUS_MULTIPROC_DIR``. So two more rows
count a check-in served: ``ams serve --workers 1`` and the floor's app on the same uvicorn,
each as the HTTP family runs it (``bench.http.serving``) but under callgrind, the load sent
over loopback by another process, every process of the server counted. Needs valgrind
(Debian's package); without it the family reports itself skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.timing import Row

#: (target, what its row calls it)
TARGETS = (
    ("check-in", "check-in"),
    ("floor", "floor: the check-in's checks and statements, bare"),
    ("schedule", "student schedule (one week)"),
    ("dashboard", "faculty dashboard"),
)
#: (module served, what its row calls it): the check-in with its HTTP server around it
SERVED = (
    ("ams_http.serve.cli", "check-in served (`ams serve --workers 1`)"),
    ("bench.realistic_floor_app", "floor: the check-in served the same way"),
)
#: sessions per section: two for the targets called over ASGI, two per served module
SESSIONS_PER_SECTION = 2 + 2 * len(SERVED)
#: a process under valgrind starts tens of times slower than it runs bare
SERVED_START_SECONDS = 600.0
#: AMS_QUEUE_WAIT_MS of the served count: valgrind runs the loop tens of times slower
VALGRIND_WAIT_MS = 60_000
WEEK = "from=2026-11-16&to=2026-11-22"


def run(quick: bool) -> list[Row]:
    """Count every target's instructions per request; rows name them."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("  valgrind is not installed: skipped", file=sys.stderr, flush=True)
        return [Row("instructions per request: skipped, valgrind is not installed", 0, 0.0)]
    from bench import http
    from bench.postgres import _load_term, connect, vacuum

    measured, warm = (50, 50) if quick else (300, 200)
    db = connect()
    _load_term(db)
    college = http._college(db)
    http._cleanup(db.owner)
    try:
        with tempfile.TemporaryDirectory(prefix="ams-bench-instructions-") as scratch:
            plan = Path(scratch, "plan.json")
            http._bind_phones(db.owner, college)
            students = http._issue_tokens(db.app_url, [s.email for s in college.students])
            sessions = _write_plan(plan, db, college, http, students)
            vacuum(db)
            counts = {
                target: _count(plan, target, measured, warm, Path(scratch)) for target, _ in TARGETS
            }
            for n, (module, _) in enumerate(SERVED):
                batches = sessions[2 + 2 * n], sessions[3 + 2 * n]
                counts[module] = _count_served(
                    db, college, http, students, module, batches, measured, Path(scratch)
                )
    finally:
        http._cleanup(db.owner)
        db.app.dispose()
        db.owner.dispose()
    rows = []
    for labels, floor in ((TARGETS, counts["floor"]), (SERVED, counts[SERVED[1][0]])):
        for target, label in labels:
            per_request = counts[target]
            versus = f", {per_request / floor:.2f}× the floor's" if target == labels[0][0] else ""
            name = f"{label}: {per_request:,} instructions per request{versus}"
            print(f"  {name}", file=sys.stderr, flush=True)
            rows.append(Row(name, measured, 0.0, "requests", goal="counted by callgrind"))
    return rows


def _count_served(
    db: Any,
    college: Any,
    http: Any,
    students: list[str],
    module: str,
    batches: Any,
    measured: int,
    scratch: Path,
) -> int:
    """Instructions per check-in of ``module`` served by uvicorn in one process under
    callgrind (the server, its protocol, middleware and metrics included), the load sent over
    loopback by another process: the first ``measured`` check-ins of one batch of sessions
    to warm up, then as many of the next batch, by the same students (so AMS's process has
    verified their tokens), counted."""
    from bench.load import Sequential, run_in_process

    out = scratch / f"served.{module}"
    launcher = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes"]
    launcher += [f"--callgrind-out-file={out}.%p"]
    started = time.perf_counter()
    with http.serving(
        db.app_url,
        db.owner,
        workers=1,
        module=module,
        launcher=launcher,
        start_timeout=SERVED_START_SECONDS,
        # the wait bound's code runs as served, but valgrind's pace must not make it shed
        overrides={"AMS_QUEUE_WAIT_MS": str(VALGRIND_WAIT_MS)},
    ) as server:
        warm_plan, counted_plan = (
            http._check_in_plan(server.host, server.port, college, students, batch)
            for batch in batches
        )
        run_in_process(warm_plan, Sequential(measured, 0))
        group = _process_group(server.pid)
        for pid in group:
            _collect(on=True, pid=pid)
        result = run_in_process(counted_plan, Sequential(measured, 0))
        for pid in group:
            _collect(on=False, pid=pid)
    if result.ok != measured:
        raise RuntimeError(f"{module}: {result.ok} of {measured} check-ins answered 2xx")
    total = sum(
        int(line.split()[1])
        for dump in scratch.glob(f"served.{module}.*")
        for line in dump.read_text().splitlines()
        if line.startswith("totals:")
    )
    print(
        f"  {module} served: {total:,} instructions in {measured} requests "
        f"({time.perf_counter() - started:.0f} s under valgrind)",
        file=sys.stderr,
        flush=True,
    )
    return total // measured


def _process_group(pgid: int) -> list[int]:
    """The processes of a process group (a server and the workers it started)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def _write_plan(
    plan: Path, db: Any, college: Any, http: Any, students: list[str]
) -> list[list[Any]]:
    """The requests of the targets called over ASGI: tokens, check-in pairs (shuffled, each
    once) and their codes' secrets. Answers the sessions by batch, one per section each:
    the first two are the plan's, the others the served check-ins'."""
    teachers = http._issue_tokens(db.app_url, [f.email for f in college.faculty])
    every = http._sessions_now(db.owner, college, SESSIONS_PER_SECTION)
    batches: list[list[Any]] = [[] for _ in range(SESSIONS_PER_SECTION)]
    for session in every:
        batches[int(session.id.rsplit("-", 1)[1])].append(session)
    sessions = batches[0] + batches[1]
    index = {s.id: n for n, s in enumerate(college.students)}
    by_section: dict[str, list[Any]] = {}
    for student in college.students:
        by_section.setdefault(student.section_id, []).append(student)
    pairs = [(st, s) for s in sessions for st in by_section[s.section_id]]
    random.Random(1).shuffle(pairs)
    requests = [
        {
            "path": f"/api/v1/sessions/{session.id}/check-in",
            "token": students[index[student.id]],
            "teacher": teachers[n % len(teachers)],
            "device": http._device(student),
            "secret": http._secret(session.id).hex(),
        }
        for n, (student, session) in enumerate(pairs)
    ]
    settings = {
        "AMS_DATABASE_URL": db.app_url,
        "AMS_SECRET_KEY": http.SECRET_KEY,
        "AMS_LOG_LEVEL": "warning",
        "AMS_BACKGROUND_IN_PROCESS": "false",
        "AMS_RATE_SIGN_IN": http.UNLIMITED,
        "AMS_RATE_CHECK_IN": http.UNLIMITED,
        "AMS_RATE_CHECK_IN_PER_IP": http.UNLIMITED,
        "AMS_RATE_REQUESTS": http.UNLIMITED,
    }
    plan.write_text(
        json.dumps(
            {"settings": settings, "rotation": college.rotation_seconds, "requests": requests}
        )
    )
    return batches


def _count(plan: Path, target: str, measured: int, warm: int, scratch: Path) -> int:
    """Instructions per request of ``target``, from a callgrind run of the driver."""
    out = scratch / f"callgrind.{target}"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    command += [f"--callgrind-out-file={out}", sys.executable, "-m", "bench.instructions"]
    command += ["drive", str(plan), target, str(measured), str(warm)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"the {target} driver failed:\n{done.stderr[-3000:]}")
    total = next(
        int(line.split()[1]) for line in out.read_text().splitlines() if line.startswith("totals:")
    )
    print(
        f"  {target}: {total:,} instructions in {measured} requests "
        f"({time.perf_counter() - started:.0f} s under valgrind)",
        file=sys.stderr,
        flush=True,
    )
    return total // measured


# -- the driver, run under valgrind ------------------------------------------------------------


def _request(target: str, item: dict[str, Any], rotation: int) -> tuple[dict[str, Any], bytes]:
    """The ASGI scope and body of one request."""
    headers: list[tuple[bytes, bytes]] = [(b"host", b"127.0.0.1:8000")]
    if target in ("check-in", "floor"):
        from ams_core.domain.codes import code_for_step

        secret = bytes.fromhex(item["secret"])
        code = code_for_step(secret, int(time.time()) // rotation)
        body = json.dumps({"code": code, "deviceId": item["device"]}).encode()
        method, path, query, token = "POST", item["path"], b"", item["token"]
        headers += [(b"content-type", b"application/json")]
        headers += [(b"content-length", str(len(body)).encode())]
    elif target == "schedule":
        method, path, query, token = "GET", "/api/v1/me/schedule", WEEK.encode(), item["token"]
        body = b""
    else:
        method, path, query, token = "GET", "/api/v1/me/dashboard", b"", item["teacher"]
        body = b""
    headers.append((b"authorization", b"Bearer " + token.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": headers,
    }
    return scope, body


async def _call(app: Any, scope: dict[str, Any], body: bytes, target: str) -> None:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    status = messages[0]["status"]
    answer = b"".join(m.get("body", b"") for m in messages[1:])
    first_mark = target not in ("check-in", "floor") or b'"alreadyMarked":false' in answer
    if status != 200 or not first_mark:
        raise RuntimeError(f"{target}: {status} {answer[:300]!r}")


async def _drive(app: Any, target: str, items: Sequence[dict[str, Any]], plan: Any) -> None:
    into, out = asyncio.Queue[Any](), asyncio.Queue[Any]()
    await into.put({"type": "lifespan.startup"})
    lifespan = asyncio.ensure_future(app({"type": "lifespan"}, into.get, out.put))
    started = await out.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    if target != "floor":
        from ams_core.use_cases import Authenticate

        authenticate = await app.state.dishka_container.get(Authenticate)
        for item in plan["requests"]:
            authenticate.verify(item["token"])
            authenticate.verify(item["teacher"])
    rotation = plan["rotation"]
    warm, measured = items[: plan["warm"]], items[plan["warm"] :]
    for item in warm:
        await _call(app, *_request(target, item, rotation), target)
    prepared = [_request(target, item, rotation) for item in measured]
    _collect(on=True)
    for scope, body in prepared:
        await _call(app, scope, body, target)
    _collect(on=False)
    lifespan.cancel()


def _collect(*, on: bool, pid: int | None = None) -> None:
    """Switch callgrind's counting of this process (blocking the loop on purpose: nothing
    else runs between the requests), or of a served process, on or off. A process of a
    served group that valgrind does not run is passed over."""
    command = ["callgrind_control", "-i", "on" if on else "off", str(pid or os.getpid())]
    subprocess.run(command, capture_output=True, check=pid is None)  # noqa: S603


def drive(plan_file: str, target: str, measured: int, warm: int) -> None:
    """Build the target's app and call it: ``warm`` requests, then ``measured`` counted."""
    plan = json.loads(Path(plan_file).read_text())
    os.environ.update(plan["settings"])
    plan["warm"] = warm
    requests = plan["requests"]
    if target == "floor":
        from bench.realistic_floor_app import app as floor_app

        app: Any = floor_app()
        items = requests[1::2]
    else:
        from ams_http.serve.asgi import app_from_env

        app = app_from_env()
        items = requests[0::2]
    needed = warm + measured
    if len(items) < needed:
        raise RuntimeError(f"{len(items)} requests planned, {needed} needed")
    import uvloop

    uvloop.run(_drive(app, target, items[:needed], plan))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "drive":
        drive(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit("usage: python -m bench --only instructions")
