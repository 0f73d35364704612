"""Fixtures of the identity adapter tests: RSA keys, a loopback certificate server, a
movable monotonic clock and a token minter. Nothing reaches Google.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt
from google.auth.transport.requests import Request as RequestsTransport

from ams_adapters.identity import GoogleIdTokenVerifier

WEB_CLIENT_ID = "web-client.apps.googleusercontent.com"
ANDROID_CLIENT_ID = "android-client.apps.googleusercontent.com"
IOS_CLIENT_ID = "ios-client.apps.googleusercontent.com"
CLIENT_IDS = (WEB_CLIENT_ID, ANDROID_CLIENT_ID, IOS_CLIENT_ID)
SKEW_SECONDS = 30


@dataclass(frozen=True)
class SigningKey:
    """An RSA-2048 key with its self-signed certificate, as Google publishes them."""

    kid: str
    private_pem: bytes
    cert_pem: str

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test-{kid}")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(kid, private_pem, cert.public_bytes(serialization.Encoding.PEM).decode())

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        signer = crypt.RSASigner.from_string(  # type: ignore[no-untyped-call]
            self.private_pem, self.kid
        )
        token: bytes = google_jwt.encode(  # type: ignore[no-untyped-call]
            signer, claims, header=header
        )
        return token.decode()


@pytest.fixture(scope="session")
def k1() -> SigningKey:
    return SigningKey.generate("k1")


@pytest.fixture(scope="session")
def k2() -> SigningKey:
    return SigningKey.generate("k2")


@pytest.fixture(scope="session")
def attacker_key() -> SigningKey:
    return SigningKey.generate("k1")  # same kid as Google's key, different key


@dataclass
class CertServer:
    """A loopback HTTP server answering ``GET /certs`` with ``{kid: cert_pem}``."""

    certs: dict[str, str] = field(default_factory=dict)
    cache_control: str = "public, max-age=3600, must-revalidate, no-transform"
    status: int = 200
    body: bytes | None = None  # served instead of the certificates when set
    extra_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    gets: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/certs"

    def publish(self, *keys: SigningKey) -> None:
        self.certs = {key.kid: key.cert_pem for key in keys}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts) are expected; print nothing."""


def _handler(state: CertServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.gets += 1
            if state.delay:
                state.release.wait(state.delay)
            body = state.body if state.body is not None else json.dumps(state.certs).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if state.cache_control:
                self.send_header("Cache-Control", state.cache_control)
            for name, value in state.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output clean."""

    return Handler


def _serve(state: CertServer) -> Iterator[CertServer]:
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def cert_server(k1: SigningKey) -> Iterator[CertServer]:
    state = CertServer()
    state.publish(k1)
    yield from _serve(state)


@pytest.fixture
def attacker_server(attacker_key: SigningKey) -> Iterator[CertServer]:
    state = CertServer()
    state.publish(attacker_key)
    yield from _serve(state)


class Monotonic:
    """A monotonic clock the tests move by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def http_transport() -> Iterator[RequestsTransport]:
    """The real requests-based transport, ignoring proxy settings of the environment."""
    transport = RequestsTransport()
    transport.session.trust_env = False
    yield transport
    transport.session.close()


VerifierFactory = Callable[..., GoogleIdTokenVerifier]


@pytest.fixture
def make_verifier(
    cert_server: CertServer, http_transport: RequestsTransport, monotonic: Monotonic
) -> VerifierFactory:
    def make(**overrides: Any) -> GoogleIdTokenVerifier:
        options: dict[str, Any] = {
            "transport": http_transport,
            "certs_url": cert_server.url,
            "clock_skew_seconds": SKEW_SECONDS,
            "monotonic": monotonic,
        }
        options.update(overrides)
        client_ids = options.pop("client_ids", CLIENT_IDS)
        return GoogleIdTokenVerifier(client_ids, **options)

    return make


@pytest.fixture
def verifier(make_verifier: VerifierFactory) -> GoogleIdTokenVerifier:
    return make_verifier()


def claims(**overrides: Any) -> dict[str, Any]:
    """The base token's claims (security reference §2); ``None`` removes a claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "azp": WEB_CLIENT_ID,
        "aud": WEB_CLIENT_ID,
        "sub": "1001",
        "email": "s1@a.edu",
        "email_verified": True,
        "hd": "a.edu",
        "iat": now,
        "exp": now + 3600,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}
