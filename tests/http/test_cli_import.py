"""`ams import FILE --institution ID [--dry-run]`: the shell way to bring an institution in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.http.cli_support import SECRET, clean_env, run_ams
from tests.http.workbooks import workbook

STUDENTS = {
    "Students": [
        ["Student ID", "Name", "Section", "Year", "Department"],
        ["S1", "Asha", "A", "E1", "CSE"],
        ["S2", "Bilal", "B", "E1", "CSE"],
    ]
}


@pytest.fixture
def institution(tmp_path: Path) -> tuple[dict[str, str], str]:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}", AMS_SECRET_KEY=SECRET)
    assert run_ams("migrate", cwd=tmp_path, env=env).returncode == 0
    created = run_ams(
        "institution",
        "create",
        "--name",
        "T",
        "--domain",
        "t.edu",
        "--admin",
        "a@t.edu",
        cwd=tmp_path,
        env=env,
    )
    match = re.search(r"created institution (\S+)", created.stdout + created.stderr)
    assert match is not None, created.stderr
    return env, match.group(1)


def test_a_dry_run_prints_the_counts_and_a_real_run_writes_them(
    tmp_path: Path, institution: tuple[dict[str, str], str]
) -> None:
    env, institution_id = institution
    path = tmp_path / "students.xlsx"
    path.write_bytes(workbook(STUDENTS))
    args = ("import", str(path), "--institution", institution_id)

    dry = run_ams(*args, "--dry-run", cwd=tmp_path, env=env)
    real = run_ams(*args, cwd=tmp_path, env=env)
    again = run_ams(*args, cwd=tmp_path, env=env)

    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was written" in dry.stdout
    assert re.search(r"Students\s*│\s*students\s*│\s*2\s*│\s*2\s*│\s*0\s*│\s*0", real.stdout)
    assert "sections created: 2" in real.stdout
    assert re.search(r"Students\s*│\s*students\s*│\s*2\s*│\s*0\s*│\s*0\s*│\s*2", again.stdout)


def test_a_workbook_with_errors_prints_a_table_of_them_and_exits_1(
    tmp_path: Path, institution: tuple[dict[str, str], str]
) -> None:
    env, institution_id = institution
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        workbook({"Students": [["Student ID", "Name", "Section"], ["S1", "", "nowhere"]]})
    )

    done = run_ams("import", str(path), "--institution", institution_id, cwd=tmp_path, env=env)

    assert done.returncode == 1
    assert "nothing was imported" in done.stderr
    assert "must not be empty" in done.stderr
    assert "no section 'nowhere'" in done.stderr


def test_a_file_that_is_not_a_workbook_is_one_line(
    tmp_path: Path, institution: tuple[dict[str, str], str]
) -> None:
    env, institution_id = institution
    path = tmp_path / "students.xlsx"
    path.write_text("id,name\n")

    done = run_ams("import", str(path), "--institution", institution_id, cwd=tmp_path, env=env)

    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "not an .xlsx workbook" in done.stderr
