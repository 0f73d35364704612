"""An in-memory cache of Google's signing certificates in front of google-auth.

google-auth fetches the certificate document on every verification. This
``google.auth.transport.Request`` serves the certificate URL from memory instead: it
honours ``Cache-Control: max-age``, refetches an unknown key id at most once per interval
(key rotation without letting junk tokens hammer Google), keeps serving a stale document
for a while when Google cannot be reached, and turns "nothing usable cached and no
answer" into :class:`~ams_core.domain.errors.UnavailableError`.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.auth import exceptions as google_exceptions
from google.auth import transport

from ams_core.domain.errors import UnavailableError

PROVIDER_UNAVAILABLE = "identity_provider_unavailable"

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s=])", re.IGNORECASE)
#: Used when Google sends no ``max-age`` (it always does).
DEFAULT_MAX_AGE_SECONDS = 300
#: Never trust a document longer than this, whatever ``max-age`` says.
MAX_MAX_AGE_SECONDS = 7 * 24 * 3600
#: How long after expiry a document is still served when refetching fails.
MAX_STALE_SECONDS = 24 * 3600
#: After a failed fetch, further fetches wait this long (requests fail fast meanwhile).
FAILURE_BACKOFF_SECONDS = 5.0


class _FetchFailedError(Exception):
    """The certificate endpoint did not answer with a usable document."""


@dataclass(frozen=True, slots=True)
class _Document:
    data: bytes
    kids: frozenset[str]
    fresh_until: float
    usable_until: float


class _MemoryResponse(transport.Response):
    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def status(self) -> int:
        return http.client.OK

    @property
    def headers(self) -> Mapping[str, str]:
        return {"content-type": "application/json"}

    @property
    def data(self) -> bytes:
        return self._data


def _header(headers: Any, name: str) -> str:
    try:
        items = headers.items()
    except AttributeError:
        return ""
    for key, value in items:
        if isinstance(key, str) and key.lower() == name:
            return str(value)
    return ""


def freshness_seconds(headers: Any) -> int:
    """How long a response may be served from memory, from ``Cache-Control`` and ``Age``."""
    cache_control = _header(headers, "cache-control")
    if _NO_CACHE.search(cache_control):
        return 0
    match = _MAX_AGE.search(cache_control)
    max_age = int(match.group(1)) if match else DEFAULT_MAX_AGE_SECONDS
    age_header = _header(headers, "age").strip()
    age = int(age_header) if age_header.isdigit() else 0
    return max(0, min(max_age, MAX_MAX_AGE_SECONDS) - age)


def _parse_certificates(data: bytes) -> frozenset[str]:
    """Return the key ids of a ``{kid: pem}`` document; refuse anything else.

    A JWKS document (``{"keys": [...]}``) is refused: google-auth would verify it through
    PyJWT, which fetches the URL itself and ignores the clock skew.
    """
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise _FetchFailedError("the certificate document is not JSON") from error
    if not isinstance(document, dict) or not document or "keys" in document:
        raise _FetchFailedError("the certificate document is not a {kid: PEM} object")
    if not all(
        isinstance(kid, str) and isinstance(pem, str) and pem.lstrip().startswith("-----BEGIN")
        for kid, pem in document.items()
    ):
        raise _FetchFailedError("the certificate document holds a non-PEM entry")
    return frozenset(document)


class CachingCertsRequest(transport.Request):
    """A ``google.auth.transport.Request`` that serves one certificate URL from memory.

    Only ``GET certs_url`` is answered; anything else raises ``TransportError``. Safe to
    share between threads: at most one fetch runs at a time and concurrent callers reuse
    its result.

    Args:
        inner: the real transport (e.g. ``google.auth.transport.requests.Request``).
        certs_url: the certificate endpoint.
        timeout: seconds the inner transport may take per fetch.
        unknown_kid_interval: minimum seconds between refetches caused by unknown key ids.
        monotonic: the clock of the cache (injectable so tests can move time).
    """

    def __init__(
        self,
        inner: transport.Request,
        certs_url: str,
        *,
        timeout: float = 2.0,
        unknown_kid_interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._url = certs_url
        self._timeout = timeout
        self._unknown_kid_interval = unknown_kid_interval
        self._monotonic = monotonic
        self._fetch_lock = threading.Lock()
        self._document: _Document | None = None
        self._last_kid_refetch: float | None = None
        self._retry_at = float("-inf")

    @property
    def certs_url(self) -> str:
        """The URL this request serves."""
        return self._url

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> transport.Response:
        """Answer ``GET certs_url`` with the cached document (fetching it when stale)."""
        if url != self._url or method.upper() != "GET":
            raise google_exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"only GET {self._url} is served"
            )
        document = self._document
        if document is None or self._monotonic() >= document.fresh_until:
            document = self._refresh(None)
        return _MemoryResponse(document.data)

    def ensure_key(self, kid: str) -> None:
        """Make the cached document current, refetching once for an unknown ``kid``.

        A refetch caused by an unknown key id happens at most once per
        ``unknown_kid_interval``; if the key is still unknown the caller's verification
        simply fails.

        Raises:
            UnavailableError: nothing usable is cached and the endpoint did not answer.
        """
        document = self._document
        if document is None or self._monotonic() >= document.fresh_until:
            self._refresh(None)  # just fetched (or Google is down): no second fetch now
        elif kid not in document.kids:
            self._refresh(kid)

    def _refresh(self, kid: str | None) -> _Document:
        with self._fetch_lock:
            now = self._monotonic()
            document = self._document
            if document is not None:
                if kid is None and now < document.fresh_until:
                    return document  # another thread refreshed it while we waited
                if kid is not None and (
                    kid in document.kids
                    or (
                        self._last_kid_refetch is not None
                        and now - self._last_kid_refetch < self._unknown_kid_interval
                    )
                ):
                    return document
            if kid is not None:
                self._last_kid_refetch = now
            if now >= self._retry_at:
                try:
                    fresh = self._fetch()
                except _FetchFailedError as error:
                    self._retry_at = self._monotonic() + FAILURE_BACKOFF_SECONDS
                    failure: _FetchFailedError | None = error
                else:
                    self._document = fresh
                    self._retry_at = float("-inf")
                    return fresh
            else:
                failure = None
            if document is not None and now < document.usable_until:
                return document  # stale, but better than refusing every sign-in
            message = "Google's signing keys cannot be fetched; try again shortly"
            raise UnavailableError(message, code=PROVIDER_UNAVAILABLE) from failure

    def _fetch(self) -> _Document:
        try:
            response = self._inner(self._url, method="GET", timeout=self._timeout)
        except Exception as error:  # any transport failure, whatever the transport
            raise _FetchFailedError(f"fetching the certificates failed: {error!r}") from error
        if response.status != http.client.OK:
            raise _FetchFailedError(f"the certificate endpoint answered {response.status}")
        data = response.data
        if isinstance(data, str):
            data = data.encode()
        kids = _parse_certificates(data)
        fetched_at = self._monotonic()
        fresh_until = fetched_at + freshness_seconds(response.headers)
        return _Document(
            data=data,
            kids=kids,
            fresh_until=fresh_until,
            usable_until=fresh_until + MAX_STALE_SECONDS,
        )
