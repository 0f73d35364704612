"""The interactive API docs render in a browser that can reach nothing but loopback.

A real `ams serve --workers 1` serves `/schema`; Debian's headless Chromium loads it with
name resolution and a dead proxy cutting off every other host, under the docs'
Content-Security-Policy, and the DOM must list the operations.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.http.live_server import live_server

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
#: no name resolves but 127.0.0.1, and whatever is not loopback goes to a proxy that is not
#: there (loopback bypasses a proxy in Chromium by default)
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
]
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",  # the page's console (CSP violations) lands on stderr
    "--v=0",
]
CHECK_IN = "/api/v1/sessions/{session_id}/check-in"


def _chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"CI=true needs headless Chromium: {reason}")
    pytest.skip(reason)


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        with connection.getresponse() as answer:
            body = answer.read()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
    finally:
        connection.close()


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `ams serve --workers 1` on a free loopback port, SQLite in a temporary folder."""
    with live_server(tmp_path_factory.mktemp("docs-server")) as server:
        yield server.port


def _render(url: str, profile: Path) -> tuple[str, str]:
    """The DOM Chromium builds from ``url`` offline, and its log (console included)."""
    browser = subprocess.Popen(  # noqa: S603 - a fixed program with our flags
        [
            str(_chromium()),
            *HEADLESS,
            *OFFLINE,
            f"--user-data-dir={profile}",
            "--dump-dom",
            "--virtual-time-budget=15000",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its renderer and GPU processes go with it on a timeout
    )
    try:
        return browser.communicate(timeout=120)
    finally:
        if browser.poll() is None:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.communicate(timeout=10)


def _operation_blocks(schema: dict[str, Any]) -> set[str]:
    """The element ids Swagger UI gives the operations: ``operations-<tag>-<operationId>``."""
    return {
        f"operations-{tag}-{operation['operationId']}"
        for item in schema["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
        for tag in operation.get("tags") or ["default"]
    }


def test_the_docs_page_loads_nothing_from_another_host(port: int) -> None:
    status, headers, body = _get(port, "/schema")
    page = body.decode()

    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in headers["content-security-policy"]
    urls = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert urls
    assert not re.search(r"https?://|//", " ".join(urls)), urls
    assert "<script>" not in page  # no inline script: the CSP allows none
    for url in urls:
        asset_status, asset_headers, _ = _get(port, url)
        assert asset_status == 200, url
        assert asset_headers["content-type"].split(";")[0] in {
            "text/javascript",
            "text/css",
            "image/png",
        }
    assert _get(port, "/schema/swagger")[0] == 200
    assert _get(port, "/schema/assets/index.html")[0] == 404  # only the files the page uses


def test_swagger_ui_renders_the_operations_offline(port: int, tmp_path: Path) -> None:
    _chromium()
    schema = json.loads(_get(port, "/schema/openapi.json")[2])

    dom, log = _render(f"http://127.0.0.1:{port}/schema", tmp_path / "profile")

    rendered = set(re.findall(r'<div class="opblock opblock-[a-z]+" id="(operations-[^"]+)"', dom))
    assert "operations-attendance-checkIn" in rendered, log[-3000:]
    assert f'data-path="{CHECK_IN}"' in dom
    assert _operation_blocks(schema) <= rendered
    violations = [line for line in log.splitlines() if "Content Security Policy" in line]
    assert not violations


def test_the_browser_reaches_no_other_host(tmp_path: Path) -> None:
    _chromium()

    # the CDN the docs page used to load Swagger UI from
    dom, log = _render("https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui.css", tmp_path)

    assert "swagger" not in dom
    assert re.search(r"net::ERR_(PROXY_CONNECTION_FAILED|NAME_NOT_RESOLVED)", log), log[-3000:]
