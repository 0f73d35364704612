"""Fixtures shared by the workbook reader's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def never_parsed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Records any attempt to hand the upload to calamine (there must be none)."""
    parsed: list[bytes] = []
    monkeypatch.setattr(
        "ams_adapters.excel.reader.CalamineWorkbook.from_filelike",
        lambda *_: parsed.append(b"parsed"),
    )
    return parsed
