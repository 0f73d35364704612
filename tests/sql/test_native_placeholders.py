"""A direct statement is kept with PostgreSQL's ``$n`` placeholders (sent as it is by a
``RawCursor``): each name is one parameter however often the statement uses it, and an
escaped ``%`` becomes a plain one."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import bindparam, column, create_engine, select, table

from ams_adapters.sql.direct import native_placeholders

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
TEXT = st.text(alphabet="SELECT abc=,()' %", max_size=12).map(lambda t: t.replace("%", "%%"))


def test_a_name_used_twice_is_one_parameter_numbered_in_order_of_first_use() -> None:
    sql, names = native_placeholders(
        "SELECT * FROM t WHERE a = %(iid)s AND b = %(student)s AND c = %(iid)s"
    )

    assert sql == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $1"
    assert names == ("iid", "student")


def test_an_escaped_percent_sign_becomes_a_plain_one() -> None:
    sql, names = native_placeholders("SELECT '100%%' WHERE name LIKE 'A%%' AND id = %(id)s")

    assert sql == "SELECT '100%' WHERE name LIKE 'A%' AND id = $1"
    assert names == ("id",)


def test_sqlalchemy_compiled_statements_keep_every_bind() -> None:
    students = table("students", column("institution_id"), column("name"))
    statement = select(students).where(
        students.c.institution_id == bindparam("iid"),
        students.c.name.like("A%"),
        students.c.institution_id != bindparam("iid"),
    )
    dialect = create_engine("postgresql+psycopg://").dialect  # AMS's own driver, never connected
    compiled = str(statement.compile(dialect=dialect))

    sql, names = native_placeholders(compiled)

    assert set(names) == set(re.findall(r"%\(([^)]+)\)s", compiled))
    assert "%(" not in sql
    assert sql.count("$1") == 2


@given(st.lists(st.tuples(TEXT, NAMES), max_size=8), TEXT)
def test_every_placeholder_is_replaced_by_the_number_of_its_name(
    parts: list[tuple[str, str]], tail: str
) -> None:
    sql = "".join(f"{text}%({name})s" for text, name in parts) + tail

    converted, names = native_placeholders(sql)

    assert list(names) == list(dict.fromkeys(name for _, name in parts))
    expected = "".join(
        f"{text.replace('%%', '%')}${names.index(name) + 1}" for text, name in parts
    ) + tail.replace("%%", "%")
    assert converted == expected
