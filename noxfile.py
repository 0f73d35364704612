"""Developer sessions: `nox -t ci` runs what CI runs, split up."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "arch", "tests_core", "tests"]

PROJECT = nox.project.load_toml()


@nox.session(tags=["ci"])
def lint(session: nox.Session) -> None:
    session.install(*nox.project.dependency_groups(PROJECT, "lint"))
    session.run("ruff", "check", "src", "tests", "bench", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "bench", "noxfile.py")


@nox.session(tags=["ci"])
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.run("mypy")


@nox.session(tags=["ci"])
def arch(session: nox.Session) -> None:
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.run("lint-imports")


@nox.session(tags=["ci"])
def tests_core(session: nox.Session) -> None:
    """The library as institutions install it: no extras, core and memory contracts only."""
    session.install(".", "pytest", "hypothesis")
    session.run("pytest", "tests/core", "tests/contracts/test_memory.py", "tests/docs")


@nox.session(tags=["ci"])
def tests(session: nox.Session) -> None:
    session.install("-e", ".", *nox.project.dependency_groups(PROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    session.install("-e", ".")
    session.run("python", "-m", "bench", *session.posargs)
