"""docs/library.md's quickstart runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "library.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _quickstart_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return _BLOCK.findall(quickstart)


def test_the_quickstart_has_its_steps() -> None:
    assert len(_quickstart_blocks()) >= 5


def test_the_library_quickstart_runs_as_written() -> None:
    namespace: dict[str, object] = {"__name__": "quickstart"}
    for number, block in enumerate(_quickstart_blocks(), start=1):
        code = compile(block, f"{DOC.name} block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - our own documentation
    assert "summary" in namespace
