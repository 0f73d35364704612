"""The dependency rule: the core is pure, adapters never reach upward or sideways."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> str:
    beside_python = Path(sys.executable).with_name("lint-imports")
    found = str(beside_python) if beside_python.exists() else shutil.which("lint-imports")
    assert found, "import-linter is not installed (it is in the 'test' dependency group)"
    return found


def test_import_linter_contracts_are_kept() -> None:
    result = subprocess.run(  # noqa: S603 - fixed command, no user input
        [_lint_imports(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _modules_loaded_by(statement: str) -> set[str]:
    program = (
        f"{statement}\n"
        "import json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed command, no user input
        [sys.executable, "-I", "-c", program],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT / "src",
    )
    loaded: list[str] = json.loads(result.stdout)
    return set(loaded)


def test_importing_the_core_loads_nothing_outside_the_standard_library() -> None:
    loaded = _modules_loaded_by(
        "import ams_core, ams_core.domain, ams_core.ports, ams_core.use_cases"
    )
    foreign = {m for m in loaded if m not in sys.stdlib_module_names and not m.startswith("_")}
    assert foreign == {"ams_core"}, f"third-party modules loaded by ams_core: {foreign}"


def test_importing_the_memory_adapter_loads_nothing_outside_the_standard_library() -> None:
    loaded = _modules_loaded_by("import ams_adapters.memory")
    foreign = {m for m in loaded if m not in sys.stdlib_module_names and not m.startswith("_")}
    assert foreign == {"ams_core", "ams_adapters"}, f"unexpected modules: {foreign}"


def test_a_plain_install_of_ams_works_with_only_the_standard_library(tmp_path: Path) -> None:
    """``pip install .`` with no extras, then import the core with site-packages disabled."""
    target = tmp_path / "site"
    subprocess.run(  # noqa: S603 - fixed command, no user input
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    program = (
        "import sys\n"
        f"sys.path.insert(0, {str(target)!r})\n"
        "import ams_core, ams_core.use_cases, ams_adapters.memory\n"
        "assert ams_core.__file__.startswith(sys.path[0]), ams_core.__file__\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    # -S: no site-packages at all, so a third-party import would fail outright.
    result = subprocess.run(  # noqa: S603 - fixed command, no user input
        [sys.executable, "-I", "-S", "-c", program],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ams_core" in result.stdout


def _import_cycles() -> list[list[str]]:
    """Groups of ``src`` modules that import each other in a circle (strongly connected
    components of the import graph, ``TYPE_CHECKING`` imports included)."""
    import grimp

    graph = grimp.build_graph(
        "ams_core", "ams_adapters", "ams_http", exclude_type_checking_imports=False
    )
    ours = {module for module in graph.modules if module.split(".")[0] in PACKAGES}
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = lowest[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module) & ours:
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(ours):
        if module not in index:
            visit(module)
    return cycles


PACKAGES = ("ams_core", "ams_adapters", "ams_http")


def test_no_module_of_src_imports_itself_through_others() -> None:
    assert _import_cycles() == []
