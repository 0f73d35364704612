"""``Idempotency-Key`` on state-changing calls: a retried request gets the first answer.

Applies to POST, PUT, PATCH and DELETE under ``/api/v1/`` except ``/api/v1/auth/`` (a
sign-in or refresh must never be answered from a store). The first answer (status, body
and the headers in ``KEPT_HEADERS``) is kept for 24 hours per (principal, method, path,
key) when it is a 2xx or 4xx; a retry with the same key and the same request (method, path,
query and body) gets it again with ``Idempotent-Replayed: true`` and the handler does not
run. The same key with another request is refused (422 ``idempotency_key_reused``), a
retry while the first is still running too (409 ``idempotency_in_flight``), and a key that
is not 1–255 printable ASCII characters is refused (400 ``invalid_idempotency_key``).
"""

from __future__ import annotations

import hashlib
import logging

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ams_core.domain import (
    AmsError,
    ConflictError,
    FieldProblem,
    Principal,
    UnavailableError,
    ValidationError,
)
from ams_http.edge.ratelimit import principal_subject
from ams_http.edge.stores import EdgeStore, IdempotencyRecord, StoreUnavailableError

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 3600
#: how long a claim blocks retries if its process dies before answering
LOCK_SECONDS = 60.0
#: answers larger than this are not kept (the key is released instead)
MAX_KEPT_BODY = 1024 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_HEADERS = frozenset(
    {
        b"content-type",
        b"content-disposition",
        b"content-language",
        b"location",
        b"etag",
        b"last-modified",
        b"retry-after",
        b"cache-control",
    }
)

log = logging.getLogger("ams.http.idempotency")


def applies_to(method: str, path: str) -> bool:
    """Whether ``Idempotency-Key`` is honoured on this call."""
    return (
        method in WRITE_METHODS
        and path.startswith("/api/v1/")
        and not path.startswith("/api/v1/auth/")
    )


def valid_key(key: str) -> bool:
    """1–255 printable ASCII characters (space included)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= char <= "~" for char in key)


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class IdempotencyMiddleware:
    """Replay the first answer to a retried state-changing request (after authentication)."""

    def __init__(self, app: ASGIApp, store: EdgeStore) -> None:
        self.app = app
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not applies_to(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER.encode())
        user = scope.get("user")
        if key is None or not isinstance(user, Principal):
            await self.app(scope, receive, send)
            return
        if not valid_key(key):
            raise AmsError(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                code="invalid_idempotency_key",
            )
        body = await Request(scope, receive).body()  # kept in the scope for the handler
        method, path = str(scope["method"]).encode(), scope["path"].encode()
        fingerprint = _digest(method, path, scope["query_string"], body)
        record_key = "idem:" + principal_subject(user) + ":" + _digest(method, path, key.encode())
        try:
            token, existing = await self._store.claim(record_key, fingerprint, LOCK_SECONDS)
        except StoreUnavailableError as error:
            log.error("idempotency store unavailable: %s", error)
            raise UnavailableError(
                "the idempotency store is unavailable; try again shortly",
                code="store_unavailable",
            ) from None
        if existing is not None:
            await self._answer_retry(existing, fingerprint, send)
            return
        await self._run(scope, receive, send, record_key, token, fingerprint)

    async def _answer_retry(
        self, existing: IdempotencyRecord, fingerprint: str, send: Send
    ) -> None:
        if existing.fingerprint != fingerprint:
            raise ValidationError(
                [
                    FieldProblem(
                        "Idempotency-Key",
                        "this key was used for a different request; use a new key",
                    )
                ],
                code="idempotency_key_reused",
            )
        if existing.state != "done":
            raise ConflictError(
                "a request with this Idempotency-Key is still being processed; retry shortly",
                code="idempotency_in_flight",
            )
        headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in existing.headers
        ]
        headers.append((b"content-length", str(len(existing.body)).encode()))
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
        await send({"type": "http.response.start", "status": existing.status, "headers": headers})
        await send({"type": "http.response.body", "body": existing.body, "more_body": False})

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        record_key: str,
        token: str,
        fingerprint: str,
    ) -> None:
        status = 0
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        size = 0
        settled = False

        async def settle() -> None:
            nonlocal settled
            settled = True
            try:
                if status < 500 and size <= MAX_KEPT_BODY:
                    record = IdempotencyRecord(
                        "done", fingerprint, token, status, headers, b"".join(chunks)
                    )
                    await self._store.finish(record_key, record, KEEP_SECONDS)
                else:
                    await self._store.release(record_key, token)
            except StoreUnavailableError as error:  # the answer still goes out
                log.error("could not keep the idempotent answer: %s", error)

        async def capture(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in message.get("headers", ())
                    if name.lower() in KEPT_HEADERS
                )
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_KEPT_BODY:
                    chunks.append(chunk)
                if not message.get("more_body", False) and not settled:
                    await settle()  # before the last byte leaves: a retry then finds it
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not settled:
                settled = True
                try:
                    await self._store.release(record_key, token)
                except StoreUnavailableError as error:
                    log.error("could not release an idempotency key: %s", error)
