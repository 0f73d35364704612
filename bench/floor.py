"""`python -m bench --only floor`: what the stack itself costs on this machine.

The smallest Litestar app on AMS's stack (`bench.floor_app`: one INSERT per POST, one
SELECT per GET, nothing checked) served like `ams serve` with 2 processes and driven by
the same load generator as the HTTP rows, so those rows can be read against it.
"""

from __future__ import annotations

import sys

from sqlalchemy import text

from bench.floor_app import FLOOR_TABLE
from bench.http import FULL, QUICK, SCHEDULE_WEEK, Sizes, _college, _measure, _row, serving
from bench.load import ClosedLoop, Plan, Sequential
from bench.postgres import _load_term, connect, vacuum
from bench.timing import Row


def run(quick: bool) -> list[Row]:
    sizes: Sizes = QUICK if quick else FULL
    db = connect()
    marks = _load_term(db)
    college = _college(db)
    vacuum(db)
    with db.owner.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
        connection.execute(
            text(
                f"CREATE TABLE {FLOOR_TABLE} (session_id text, student_id text, status text, "
                "PRIMARY KEY (session_id, student_id))"
            )
        )
    owner_url = db.owner.url.render_as_string(hide_password=False)
    sections = sorted({s.section_id for s in college.students})
    week = f"from={SCHEDULE_WEEK.start.isoformat()}&to={SCHEDULE_WEEK.end.isoformat()}"
    students = [s.id for s in college.students]
    rows: list[Row] = []
    try:
        with serving(owner_url, db.owner, module="bench.floor_app") as server:
            host, port = server.host, server.port
            schedule = Plan(
                host=host,
                port=port,
                method="GET",
                paths=tuple(
                    f"/floor/schedule/{college.institution_id}/{s}?{week}" for s in sections
                ),
                tokens=("-",),
                items=tuple((0, n) for n in range(len(sections))),
            )
            inserts = Plan(
                host=host,
                port=port,
                method="POST",
                paths=tuple(f"/floor/check-in/FLOOR-{k}" for k in range(30)),
                tokens=("-",) * len(students),
                items=tuple((n, k) for k in range(30) for n in range(len(students))),
                body='{{"student":"{device}"}}',
                devices=tuple(students),
            )
            label = f"{marks:,} marks"
            rows.append(
                _row(
                    f"floor: bare Litestar POST with one INSERT, 64 connections ({label})",
                    _measure(server, inserts, ClosedLoop(64, sizes.seconds, sizes.warmup_seconds)),
                    "requests",
                    "(check-in goal ≥ 3,000/s)",
                )
            )
            rows.append(
                _row(
                    "floor: bare Litestar GET with one SELECT of a section's week, 64 connections",
                    _measure(server, schedule, ClosedLoop(64, sizes.seconds, sizes.warmup_seconds)),
                    "requests",
                    "(schedule goal ≥ 4,000/s)",
                )
            )
            rows.append(
                _row(
                    "floor: bare Litestar GET with one SELECT, unloaded (1 connection)",
                    _measure(server, schedule, Sequential(sizes.unloaded)),
                    "requests",
                    "(schedule goal p50 ≤ 1 ms)",
                )
            )
    finally:
        with db.owner.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
        db.app.dispose()
        db.owner.dispose()
    print(f"  floor rows done ({len(rows)})", file=sys.stderr)
    return rows
