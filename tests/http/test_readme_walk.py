"""The README's demo walk runs as written: demo, serve, open, check in, complete, summary,
broadcast (delivered by the in-process relay within a second)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _walk_block() -> str:
    text = README.read_text()
    section = text.split("## A walk through the API on the demo", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README lost its walk"
    return match.group(1)


def _json_values(text: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    values, index = [], text.find("{")
    while index != -1:
        value, end = decoder.raw_decode(text, index)
        values.append(value)
        index = text.find("{", end)
    return values


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk uses curl")
def test_the_readme_walk_signs_in_opens_checks_in_completes_and_summarises(
    tmp_path: Path,
) -> None:
    port = _free_port()
    script = _walk_block().replace("8000", str(port))
    script = script.replace('export PATH="$PWD/.venv/bin:$PATH"', "")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AMS_") or key == "AMS_LOG_LEVEL"
    }
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    done = subprocess.run(  # noqa: S603 - our own script
        ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = _json_values(done.stdout)
    me, check_in, completed, summary, sent, history = answers[:6]
    assert me["roles"] == ["student"]
    assert check_in["status"] in {"present", "late"}
    assert completed["tally"]["present"] + completed["tally"]["late"] == 1
    subject = next(s for s in summary["subjects"] if s["subjectCode"] == "CS201")
    assert subject["attended"] >= 1
    # the broadcast was relayed and delivered by the API process within the walk's second
    assert sent["recipients"] >= 1
    [delivered] = [item for item in history["items"] if item["id"] == sent["id"]]
    assert delivered["deliveredAt"] is not None
    assert f"delivered notification {sent['id']} (broadcast)" in done.stderr
