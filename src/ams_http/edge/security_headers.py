"""The security headers every response carries: API answers, problems, probes and the docs.

A ``before_send`` hook of the app, so it also sees what no route handler made: the 404 and
405 problems of the router and the 429 of the rate limit. A header the handler already set
is left alone.
"""

from __future__ import annotations

from litestar.types import Message, Scope

#: the API only answers JSON (or a file download): nothing on it may load or embed anything
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
#: the docs page loads its own scripts, styles and images and fetches the OpenAPI document;
#: Swagger UI draws its icons from data: URLs (its inline styles are set from script, which
#: style-src does not restrict)
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    """Adds ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy``,
    ``Content-Security-Policy``, ``Cross-Origin-Opener-Policy`` and, when ``hsts_seconds``
    is positive, ``Strict-Transport-Security`` to every HTTP response.

    Args:
        docs_path: where the docs are served (they get ``DOCS_POLICY``); ``None``: no docs.
        hsts_seconds: ``max-age`` of ``Strict-Transport-Security``; 0 sends none (plain
            http, as the demo runs, must not pin browsers to https).
    """

    def __init__(self, *, docs_path: str | None, hsts_seconds: int = 0) -> None:
        common = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if hsts_seconds > 0:
            common["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
        self._docs_path = docs_path.rstrip("/") if docs_path else None
        self._api = _encoded({**common, "Content-Security-Policy": API_POLICY})
        self._docs = _encoded({**common, "Content-Security-Policy": DOCS_POLICY})
        self._names = frozenset(name for name, _ in self._api)

    def _is_docs(self, path: str) -> bool:
        docs = self._docs_path
        return docs is not None and (path == docs or path.startswith(docs + "/"))

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        extra = self._docs if self._is_docs(scope["path"]) else self._api
        headers = list(message.get("headers") or ())
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(self._names):  # the usual answer: none of them set yet
            headers.extend(extra)
        else:
            headers.extend(header for header in extra if header[0] not in present)
        message["headers"] = headers
