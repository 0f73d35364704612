"""firebase_app: an app from a service-account file, short HTTP timeout, no network."""

from __future__ import annotations

import json
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import firebase_admin  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ams_adapters.fcm import FcmNotifier, firebase_app


@pytest.fixture
def app_name() -> Iterator[str]:
    name = f"ams-test-{uuid.uuid4().hex}"
    yield name
    if name in {app.name for app in firebase_admin._apps.values()}:
        firebase_admin.delete_app(firebase_admin.get_app(name))


@pytest.fixture
def service_account_file(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "ams-test",
                "private_key_id": "key-1",
                "private_key": pem,
                "client_email": "fcm@ams-test.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every attempt to open a connection is recorded and refused."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_the_app_has_a_short_http_timeout_and_creating_it_makes_no_network_call(
    service_account_file: Path, app_name: str, no_network: list[Any]
) -> None:
    app = firebase_app(str(service_account_file), name=app_name)
    FcmNotifier(app)  # the notifier does not connect either

    assert app.name == app_name
    assert app.project_id == "ams-test"
    assert 0 < app.options.get("httpTimeout") <= 10
    assert no_network == []


def test_a_custom_timeout_is_kept(service_account_file: Path, app_name: str) -> None:
    app = firebase_app(str(service_account_file), http_timeout_seconds=2.5, name=app_name)

    assert app.options.get("httpTimeout") == 2.5


@pytest.mark.parametrize("seconds", [0, -1, 10.5, 120])
def test_a_timeout_outside_0_to_10_seconds_is_refused(
    service_account_file: Path, app_name: str, seconds: float
) -> None:
    with pytest.raises(ValueError, match="http_timeout_seconds"):
        firebase_app(str(service_account_file), http_timeout_seconds=seconds, name=app_name)


def test_a_missing_file_is_a_value_error_naming_the_path(tmp_path: Path, app_name: str) -> None:
    missing = tmp_path / "nowhere.json"

    with pytest.raises(ValueError, match=re.escape(str(missing))):
        firebase_app(str(missing), name=app_name)


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        json.dumps({"type": "authorized_user"}),
        json.dumps({"type": "service_account"}),
    ],
    ids=["not-json", "wrong-type", "no-key"],
)
def test_an_invalid_file_is_a_value_error_naming_the_path(
    tmp_path: Path, app_name: str, content: str
) -> None:
    path = tmp_path / "broken-key.json"
    path.write_text(content)

    with pytest.raises(ValueError, match=re.escape(str(path))):
        firebase_app(str(path), name=app_name)
