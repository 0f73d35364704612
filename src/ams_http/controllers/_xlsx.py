"""What the handlers that also answer xlsx share: the negotiation and the attachment."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.enums import MediaType

from ams_core.ports.workbooks import XLSX_MEDIA_TYPE

VARY_ACCEPT = ResponseHeader(name="Vary", value="Accept", description="JSON or xlsx")
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def wants_xlsx(request: Request[Any, Any, Any]) -> bool:
    """Whether the request's ``Accept`` prefers an Excel workbook to JSON (JSON by default)."""
    wanted = request.accept.best_match([MediaType.JSON.value, XLSX_MEDIA_TYPE], MediaType.JSON)
    return wanted == XLSX_MEDIA_TYPE


def xlsx_name(parts: Iterable[str | None]) -> str:
    """A download's file name from its parts (empty ones left out), safe in any header."""
    return _UNSAFE_IN_FILENAME.sub("_", "-".join(p for p in parts if p)) + ".xlsx"


def attachment(workbook: bytes, filename: str) -> Response[bytes]:
    """``workbook`` as a download named ``filename``."""
    return Response(
        workbook,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
