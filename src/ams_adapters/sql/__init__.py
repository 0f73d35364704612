"""The SQL adapter: SQLAlchemy Core on PostgreSQL (psycopg 3) and SQLite.

Install with the ``sql`` extra. Tables live in :mod:`.tables` (also the Alembic metadata),
row/entity conversion in :mod:`.mappers`, the transaction plumbing in :mod:`.transaction`
(with ADR 0013's direct reads in :mod:`.direct`), the repositories by area in
:mod:`.repositories`, and the unit of work in :mod:`.persistence`.
"""
