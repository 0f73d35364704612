"""The floor under the HTTP goals: the smallest Litestar app on the same stack as AMS.

`python -m bench.floor_app serve --host H --port P --workers N` serves, like `ams serve`
(uvicorn — httptools and uvloop when installed — N processes, each on its own
SO_REUSEPORT socket, sync handlers in the thread pool, SQLAlchemy Core over psycopg 3
with a pool of 10):

* ``POST /floor/check-in/{session}`` with ``{"student": …}``: one ``INSERT … ON CONFLICT DO
  NOTHING`` into a three-column table in its own transaction;
* ``GET /floor/schedule/{institution}/{section}?from=…&to=…``: one ``SELECT`` of a
  section's classes in those dates (the rows the student schedule reads), as JSON;
* ``GET /health/ready``.

No authentication, no validation beyond JSON parsing, no tenant scope, no metrics, no
middleware: what AMS's endpoints cost above these answers is the price of what they check.
The database URL comes from ``AMS_DATABASE_URL`` (the benchmark gives the owner's: there is
no tenant scope to set).
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from typing import Annotated, Any

from litestar import Litestar, get, post
from litestar.params import QueryParameter
from sqlalchemy import create_engine, text

FLOOR_TABLE = "bench_floor_marks"
_INSERT = text(
    f"INSERT INTO {FLOOR_TABLE} (session_id, student_id, status) "
    "VALUES (:session, :student, 'present') ON CONFLICT DO NOTHING"
)
_SELECT = text(
    "SELECT id, day, start_time, end_time, subject_code, teacher_id, venue, status, topic "
    "FROM class_sessions WHERE institution_id = :institution AND section_id = :section "
    "AND day BETWEEN :start AND :end ORDER BY day, start_time, id"
)


def app() -> Litestar:
    """The app (a factory, so the engine is made in each worker process)."""
    url = os.environ["AMS_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=10, max_overflow=0)

    @post("/floor/check-in/{session:str}", sync_to_thread=True)
    def check_in(session: str, data: dict[str, Any]) -> dict[str, str]:
        with engine.begin() as connection:
            connection.execute(_INSERT, {"session": session, "student": str(data["student"])})
        return {"status": "present"}

    @get("/floor/schedule/{institution:str}/{section:str}", sync_to_thread=True)
    def schedule(
        institution: str,
        section: str,
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
    ) -> dict[str, list[dict[str, Any]]]:
        params = {"institution": institution, "section": section, "start": start, "end": end}
        with engine.connect() as connection:
            rows = connection.execute(_SELECT, params).mappings().all()
        return {"items": [dict(row) for row in rows]}

    @get("/health/ready", sync_to_thread=False)
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([check_in, schedule, ready])


def serve(factory: str, argv: list[str] | None, workers: int = 2) -> int:
    """``python -m MODULE serve --host H --port P --workers N``: the app ``factory``
    (``module:function``) under uvicorn, N processes on their own ``SO_REUSEPORT`` sockets,
    as ``ams serve`` runs AMS."""
    import uvicorn

    from ams_http.serve.workers import Workers

    parser = argparse.ArgumentParser(prog=f"python -m {factory.split(':')[0]}")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=workers)
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        factory,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    return Workers(config, args.workers).run()


def main(argv: list[str] | None = None) -> int:
    return serve("bench.floor_app:app", argv)


if __name__ == "__main__":
    raise SystemExit(main())
