"""`python -m bench [--quick] [--only FAMILY[,FAMILY…]]`: run the benchmarks and print a
Markdown table. Families run in the order given, each as often as named, on one database
(`--only http,postgres,http` runs three)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

from bench.background import run as bench_background
from bench.cover import run as bench_cover
from bench.floor import run as bench_floor
from bench.http import run as bench_http
from bench.imports import run as bench_imports
from bench.instructions import run as bench_instructions
from bench.memory import bench_check_ins, bench_complete, bench_generate_week, bench_queries
from bench.postgres import run as bench_postgres
from bench.timing import Row, render

FAMILIES = (
    "memory",
    "postgres",
    "http",
    "floor",
    "background",
    "cover",
    "imports",
    "instructions",
)


def _families(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAMILIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown family {', '.join(unknown) or '(none)'}; use {', '.join(FAMILIES)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the benchmarks still run"
    )
    parser.add_argument(
        "--weeks", type=int, default=4, help="completed weeks before the memory query benchmarks"
    )
    parser.add_argument(
        "--only",
        type=_families,
        help="families to run, comma-separated, in this order (default: all; PostgreSQL on "
        "127.0.0.1:5432 or AMS_BENCH_POSTGRES_URL; http serves the API with `ams serve "
        "--workers 3` and the check-in floor app beside it; floor serves the smallest app on "
        "the same stack for comparison; background delivers "
        "notifications through Redis and `ams worker` processes, Redis on 127.0.0.1:6379 or "
        "AMS_BENCH_REDIS_URL; cover solves cover plans with the pure solver and OR-Tools; "
        "imports uploads Excel workbooks to POST /api/v1/imports of `ams serve --workers 1`; "
        "instructions counts, with valgrind's callgrind, the instructions AMS's app and the "
        "check-in floor run per request)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    print(
        f"# AMS benchmarks — Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}{' (quick)' if quick else ''}",
        flush=True,
    )
    memory: list[tuple[str, Callable[[], list[Row]]]] = [
        ("generate week (memory)", lambda: [bench_generate_week(2 if quick else 50)]),
        ("check-ins (memory)", lambda: [bench_check_ins(500 if quick else 100_000)]),
        ("complete session (memory)", lambda: [bench_complete(5 if quick else 60)]),
        (
            "queries (memory)",
            lambda: bench_queries(1 if quick else args.weeks, 50 if quick else 2_000),
        ),
    ]
    postgres: list[tuple[str, Callable[[], list[Row]]]] = [
        ("PostgreSQL", lambda: bench_postgres(quick)),
    ]
    http: list[tuple[str, Callable[[], list[Row]]]] = [
        ("HTTP (ams serve, 3 processes)", lambda: bench_http(quick)),
    ]
    floor: list[tuple[str, Callable[[], list[Row]]]] = [
        ("floor (bare Litestar app, 2 processes)", lambda: bench_floor(quick)),
    ]
    background: list[tuple[str, Callable[[], list[Row]]]] = [
        ("background (outbox, Redis, 2 worker processes)", lambda: bench_background(quick)),
    ]
    cover: list[tuple[str, Callable[[], list[Row]]]] = [
        ("cover plans (pure solver, OR-Tools)", lambda: bench_cover(quick)),
    ]
    imports: list[tuple[str, Callable[[], list[Row]]]] = [
        ("Excel imports (HTTP upload, ams serve, 1 process)", lambda: bench_imports(quick)),
    ]
    instructions: list[tuple[str, Callable[[], list[Row]]]] = [
        (
            "instructions per request (callgrind, one process over ASGI)",
            lambda: bench_instructions(quick),
        ),
    ]
    families = {
        "memory": memory,
        "postgres": postgres,
        "http": http,
        "floor": floor,
        "background": background,
        "cover": cover,
        "imports": imports,
        "instructions": instructions,
    }
    plan = [step for name in (args.only or FAMILIES) for step in families[name]]
    rows: list[Row] = []
    for name, run in plan:
        started = time.perf_counter()
        print(f"… {name}", file=sys.stderr, flush=True)
        rows.extend(run())
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
