"""The OpenAPI document is the mobile app's contract: it changes only on purpose.

A restructure of the edge must leave it byte for byte as it was; a deliberate change of the
API regenerates the snapshot (``python -m tests.http.test_openapi_snapshot``) in the same
commit, so the review shows the document's diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.http.conftest import empty_app

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


def _document() -> dict[str, Any]:
    document: dict[str, Any] = empty_app().openapi_schema.to_schema()
    return document


def test_the_openapi_document_matches_the_snapshot() -> None:
    assert _document() == json.loads(SNAPSHOT.read_text())


if __name__ == "__main__":  # regenerate after a deliberate API change
    SNAPSHOT.write_text(json.dumps(_document(), indent=1, sort_keys=True) + "\n")
