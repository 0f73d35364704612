"""A process answering one request at a time reuses the PostgreSQL connection it used last:
the warm backend, not every pooled one in turn (ADR 0020)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.sql.conftest import PostgresDatabase


def _backend(connection: Connection) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_the_connection_returned_last_is_the_one_taken_next(pg: PostgresDatabase) -> None:
    first, second = pg.app.connect(), pg.app.connect()
    used_first, used_second = _backend(first), _backend(second)
    second.close()
    first.close()  # returned last

    taken = []
    for _ in range(3):
        with pg.app.connect() as connection:
            taken.append(_backend(connection))

    assert used_first != used_second
    assert taken == [used_first] * 3
