"""The SQL adapter: SQLAlchemy Core on PostgreSQL (psycopg 3) and SQLite.

Install with the ``sql`` extra. Tables live in :mod:`.tables` (also the Alembic metadata),
row/entity conversion in :mod:`.mappers`, and the unit of work in :mod:`.persistence`.
"""
