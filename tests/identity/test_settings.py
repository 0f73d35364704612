"""Identity settings come from AMS_* variables; a missing or weak secret key is refused."""

from __future__ import annotations

import pytest

from ams_adapters.identity import IdentitySettings

KEY = "k" * 40


def test_the_defaults_apply_when_only_the_key_is_set() -> None:
    settings = IdentitySettings.from_env({"AMS_SECRET_KEY": KEY})

    assert settings.secret_key == KEY.encode()
    assert settings.google_client_ids == ()
    assert not settings.google_sign_in_enabled
    assert settings.google_certs_url == "https://www.googleapis.com/oauth2/v1/certs"
    assert settings.google_clock_skew_seconds == 30
    assert settings.access_token_minutes == 15
    assert settings.refresh_token_days == 30
    assert not settings.ephemeral_secret


def test_every_setting_is_read_from_the_environment() -> None:
    settings = IdentitySettings.from_env(
        {
            "AMS_SECRET_KEY": KEY,
            "AMS_GOOGLE_CLIENT_IDS": " web.apps , android.apps,,ios.apps ",
            "AMS_GOOGLE_CERTS_URL": "http://127.0.0.1:8080/certs",
            "AMS_GOOGLE_CLOCK_SKEW_SECONDS": "10",
            "AMS_ACCESS_TOKEN_MINUTES": "5",
            "AMS_REFRESH_TOKEN_DAYS": "7",
        }
    )

    assert settings.google_client_ids == ("web.apps", "android.apps", "ios.apps")
    assert settings.google_sign_in_enabled
    assert settings.google_certs_url == "http://127.0.0.1:8080/certs"
    assert settings.google_clock_skew_seconds == 10
    assert settings.access_token_minutes == 5
    assert settings.refresh_token_days == 7


def test_a_missing_key_is_refused_unless_an_ephemeral_one_is_allowed() -> None:
    with pytest.raises(ValueError, match="AMS_SECRET_KEY is not set"):
        IdentitySettings.from_env({})

    first = IdentitySettings.from_env({}, allow_ephemeral_secret=True)
    second = IdentitySettings.from_env({}, allow_ephemeral_secret=True)

    assert first.ephemeral_secret
    assert len(first.secret_key) >= 32
    assert first.secret_key != second.secret_key


def test_a_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        IdentitySettings.from_env({"AMS_SECRET_KEY": "k" * 31})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AMS_GOOGLE_CLOCK_SKEW_SECONDS", "soon"),
        ("AMS_GOOGLE_CLOCK_SKEW_SECONDS", "-1"),
        ("AMS_GOOGLE_CLOCK_SKEW_SECONDS", "3600"),
        ("AMS_ACCESS_TOKEN_MINUTES", "0"),
        ("AMS_REFRESH_TOKEN_DAYS", "0"),
        ("AMS_GOOGLE_CERTS_URL", "file:///etc/passwd"),
    ],
)
def test_an_invalid_value_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match="invalid identity setting"):
        IdentitySettings.from_env({"AMS_SECRET_KEY": KEY, name: value})


def test_the_key_never_appears_in_the_repr() -> None:
    assert KEY not in repr(IdentitySettings.from_env({"AMS_SECRET_KEY": KEY}))
