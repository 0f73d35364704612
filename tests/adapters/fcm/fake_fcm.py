"""A fake FCM v1 service at firebase-admin's HTTP seam: no network, answers per token.

This is the one module of the suite that touches firebase-admin's private attributes: it
reaches the messaging service (``messaging._get_messaging_service``) to mount :class:`FakeFcm`
in place of the real HTTP transports — on the ``requests`` session of the synchronous sends
(``._client.session``, as firebase-admin's own tests do) and, as an httpx transport, on the
client of the asynchronous ones (``._async_client._async_client``, which AMS uses). It also
sets ``requests.Response._content`` to build answers. Should a firebase-admin upgrade move
these, only this module needs to change.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import firebase_admin  # type: ignore[import-untyped]
import httpx
import requests
from firebase_admin import _http_client, credentials, messaging
from google.oauth2.credentials import Credentials as OAuthCredentials
from requests.structures import CaseInsensitiveDict

FCM_PREFIX = "https://fcm.googleapis.com"
PROJECT_ID = "ams-test"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


class _FixedAccessToken(OAuthCredentials):
    """An OAuth credential with a fixed, never-expiring token; "refreshing" it keeps the
    token and goes nowhere (google-auth's session refreshes once on any 401, and FCM answers
    THIRD_PARTY_AUTH_ERROR with a 401)."""

    def __init__(self) -> None:
        super().__init__(token="test-access-token")  # type: ignore[no-untyped-call]
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1


class FixedTokenCredential(credentials.Base):  # type: ignore[misc]
    """A firebase-admin credential over :class:`_FixedAccessToken`: no network, ever."""

    def __init__(self) -> None:
        self.google_credential = _FixedAccessToken()

    def get_credential(self) -> OAuthCredentials:
        return self.google_credential


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the fake: a status, a JSON body and headers."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


def ok(name: str = "projects/ams-test/messages/0:1") -> Answer:
    return Answer(200, {"name": name})


def _error(
    status: int, code: str, message: str, *details: Mapping[str, Any], **headers: str
) -> Answer:
    body = {"error": {"code": status, "message": message, "status": code, "details": details}}
    return Answer(status, body, headers)


def _fcm_error(code: str) -> dict[str, str]:
    return {"@type": FCM_ERROR, "errorCode": code}


def unregistered() -> Answer:
    return _error(404, "NOT_FOUND", "Requested entity was not found.", _fcm_error("UNREGISTERED"))


def invalid_token() -> Answer:
    message = "The registration token is not a valid FCM registration token"
    return _error(400, "INVALID_ARGUMENT", message, _fcm_error("INVALID_ARGUMENT"))


def bad_request(field_name: str = "message.data[0].value") -> Answer:
    violation = {"field": field_name, "description": "Invalid value"}
    detail = {"@type": BAD_REQUEST, "fieldViolations": [violation]}
    return _error(400, "INVALID_ARGUMENT", f"Invalid value at '{field_name}'", detail)


def sender_id_mismatch() -> Answer:
    detail = _fcm_error("SENDER_ID_MISMATCH")
    return _error(403, "PERMISSION_DENIED", "SenderId mismatch", detail)


def third_party_auth() -> Answer:
    detail = _fcm_error("THIRD_PARTY_AUTH_ERROR")
    return _error(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", detail)


def quota_exceeded(retry_after: str | None = None) -> Answer:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    detail = _fcm_error("QUOTA_EXCEEDED")
    return _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", detail, **headers)


def unavailable() -> Answer:
    return _error(503, "UNAVAILABLE", "The service is currently unavailable.")


def internal() -> Answer:
    return _error(500, "INTERNAL", "Internal error encountered.")


class FakeFcm(requests.adapters.HTTPAdapter):
    """Answers FCM ``messages:send`` calls from a per-token table; records every request.

    ``answers[token]`` is a list of answers given in turn (the last one repeats); tokens
    not in the table are delivered. ``down = True`` refuses every connection.
    """

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.answers: dict[str, list[Answer]] = {}
        self.messages: list[dict[str, Any]] = []  # every message sent, in arrival order
        self.delivered: list[dict[str, Any]] = []  # the ones answered 200
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def answer(self, token: str, *answers: Answer) -> None:
        """Answer ``token`` with ``answers`` in turn, the last one from then on."""
        self.answers[token] = list(answers)

    def sleep(self, seconds: float) -> None:
        """A stand-in for ``time.sleep``: records the delay, returns at once."""
        self.sleeps.append(seconds)

    def sent_to(self, token: str) -> int:
        """How many times a message for ``token`` reached the fake."""
        with self._lock:
            return sum(1 for message in self.messages if message.get("token") == token)

    @property
    def successes(self) -> int:
        with self._lock:
            return len(self.delivered)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self.down:
            raise requests.exceptions.ConnectionError("[Errno 111] Connection refused")
        body = request.body
        assert isinstance(body, bytes | str), "firebase-admin posts a JSON body"
        answer = self._answer(request.url or "", str(request.headers["Authorization"]), body)
        return _response(request, answer)

    def _answer(self, url: str, authorization: str, body: bytes | str) -> Answer:
        assert url == f"{FCM_PREFIX}/v1/projects/{PROJECT_ID}/messages:send"
        assert authorization == "Bearer test-access-token"
        message = json.loads(body)["message"]
        with self._lock:
            self.messages.append(message)
            queue = self.answers.get(message.get("token", ""), [])
            answer = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else ok())
            if answer.status == 200:
                self.delivered.append(message)
        return answer

    def httpx_transport(self) -> httpx.AsyncBaseTransport:
        """The same answers for firebase-admin's asynchronous (httpx) client."""
        return _HttpxSide(self)


class _HttpxSide(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeFcm) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._fake.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        content = await request.aread()
        authorization = str(request.headers["Authorization"])
        answer = self._fake._answer(str(request.url), authorization, content)
        headers = {"Content-Type": "application/json", **answer.headers}
        return httpx.Response(answer.status, headers=headers, json=answer.body, request=request)


def _response(request: requests.PreparedRequest, answer: Answer) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **answer.headers})
    response._content = json.dumps(answer.body).encode()
    response.encoding = "utf-8"
    response.url = request.url or ""
    response.request = request
    return response


def fake_app(fake: FakeFcm) -> Any:
    """A firebase-admin app whose FCM calls all reach ``fake``; delete it after use."""
    app = firebase_admin.initialize_app(
        FixedTokenCredential(),
        {"projectId": PROJECT_ID, "httpTimeout": 10},
        name=f"fcm-test-{uuid.uuid4().hex}",
    )
    service = messaging._get_messaging_service(app)
    service._client.session.mount(FCM_PREFIX, fake)
    async_client = service._async_client
    async_client._async_client = httpx.AsyncClient(
        timeout=10,
        headers=async_client._headers,
        auth=_http_client.GoogleAuthCredentialFlow(service._credential),
        transport=fake.httpx_transport(),
    )
    return app
