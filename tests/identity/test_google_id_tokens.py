"""Google ID tokens are checked like Google's backend-auth guide says, and every failure is
an AuthenticationError or (keys unreachable) an UnavailableError — the G list of the
security reference §2. Real RS256 tokens, real HTTP to a loopback certificate server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any, cast

import pytest
from google.auth.transport.requests import Request as RequestsTransport

from ams_adapters.identity import GoogleIdTokenVerifier, IdentitySettings
from ams_core.domain.accounts import ExternalIdentity
from ams_core.domain.errors import AuthenticationError, UnavailableError
from tests.identity.conftest import (
    ANDROID_CLIENT_ID,
    CLIENT_IDS,
    IOS_CLIENT_ID,
    CertServer,
    Monotonic,
    SigningKey,
    VerifierFactory,
    claims,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(verifier: GoogleIdTokenVerifier, token: str) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(token)
    assert caught.value.code == "invalid_id_token"
    return caught.value


# --- G1-G4: signature, issuer, audience ---------------------------------------------------


def test_G1_a_valid_token_yields_the_identity_keyed_by_issuer_and_subject(
    verifier: GoogleIdTokenVerifier, k1: SigningKey
) -> None:
    identity = verifier.verify(k1.sign(claims()))

    assert identity == ExternalIdentity(
        issuer="https://accounts.google.com",
        subject="1001",
        email="s1@a.edu",
        email_verified=True,
        hosted_domain="a.edu",
    )


def test_G2_the_issuer_without_scheme_is_accepted(
    verifier: GoogleIdTokenVerifier, k1: SigningKey
) -> None:
    assert verifier.verify(k1.sign(claims(iss="accounts.google.com"))).issuer == (
        "accounts.google.com"
    )


@pytest.mark.parametrize(
    "issuer", ["https://evil.example", "http://accounts.google.com", "", 7, ["accounts.google.com"]]
)
def test_G3_any_other_issuer_is_an_authentication_error(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, issuer: object
) -> None:
    refused(verifier, k1.sign(claims(iss=issuer)))


def test_G3_a_token_without_issuer_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey
) -> None:
    refused(verifier, k1.sign(claims(iss=None)))


@pytest.mark.parametrize(
    "audience",
    ["other-app.apps.googleusercontent.com", None, 12, [ANDROID_CLIENT_ID, "other"]],
)
def test_G4_a_token_for_another_audience_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, audience: object
) -> None:
    refused(verifier, k1.sign(claims(aud=audience)))


@pytest.mark.parametrize("client_id", CLIENT_IDS)
def test_G4_a_token_for_each_configured_client_id_is_accepted(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, client_id: str
) -> None:
    assert verifier.verify(k1.sign(claims(aud=client_id))).subject == "1001"


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    verifier: GoogleIdTokenVerifier, attacker_key: SigningKey
) -> None:
    refused(verifier, attacker_key.sign(claims()))


def test_a_token_with_an_altered_payload_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey
) -> None:
    header, _, signature = k1.sign(claims()).split(".")
    forged = b64(json.dumps(claims(email="boss@a.edu")).encode())

    refused(verifier, f"{header}.{forged}.{signature}")


def test_a_token_without_key_id_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer
) -> None:
    without_kid = SigningKey(cast(str, None), k1.private_pem, k1.cert_pem)

    refused(verifier, without_kid.sign(claims()))
    assert cert_server.gets == 0


# --- G5: the audience list must not be empty -------------------------------------------


def test_G5_an_empty_client_id_list_is_refused_at_construction(
    make_verifier: VerifierFactory,
) -> None:
    with pytest.raises(ValueError, match="client id"):
        make_verifier(client_ids=[])
    with pytest.raises(ValueError, match="client id"):
        make_verifier(client_ids=["  "])


def test_G5_a_single_string_is_not_mistaken_for_a_list_of_client_ids(
    make_verifier: VerifierFactory,
) -> None:
    with pytest.raises(TypeError):
        make_verifier(client_ids="web-client.apps.googleusercontent.com")


def test_G5_settings_without_client_ids_cannot_build_a_verifier() -> None:
    settings = IdentitySettings(secret_key=b"k" * 32)

    assert not settings.google_sign_in_enabled
    with pytest.raises(ValueError, match="client id"):
        GoogleIdTokenVerifier.from_settings(settings)


def test_the_verifier_built_from_settings_uses_their_client_ids_and_certificate_url(
    cert_server: CertServer, http_transport: RequestsTransport, k1: SigningKey
) -> None:
    settings = IdentitySettings(
        secret_key=b"k" * 32, google_client_ids=CLIENT_IDS, google_certs_url=cert_server.url
    )
    verifier = GoogleIdTokenVerifier.from_settings(settings, transport=http_transport)

    assert verifier.client_ids == CLIENT_IDS
    assert verifier.verify(k1.sign(claims(aud=IOS_CLIENT_ID))).subject == "1001"
    assert cert_server.gets == 1


# --- G6/G7: time claims -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset"),
    [(-3600, -1), (20, 3600)],
    ids=["expired-1s-ago", "issued-20s-ahead"],
)
def test_G6_times_within_the_clock_skew_are_accepted(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, iat_offset: int, exp_offset: int
) -> None:
    now = int(time.time())

    verifier.verify(k1.sign(claims(iat=now + iat_offset, exp=now + exp_offset)))


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset"),
    [(-3600, -31), (120, 3600)],
    ids=["expired-31s-ago", "issued-120s-ahead"],
)
def test_G6_times_beyond_the_clock_skew_are_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, iat_offset: int, exp_offset: int
) -> None:
    now = int(time.time())

    refused(verifier, k1.sign(claims(iat=now + iat_offset, exp=now + exp_offset)))


@pytest.mark.parametrize("missing", ["iat", "exp"])
def test_G7_a_token_without_iat_or_exp_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, missing: str
) -> None:
    refused(verifier, k1.sign(claims(**{missing: None})))


# --- G8/G18: certificate cache and key rotation ------------------------------------------


def test_G8_an_unknown_kid_causes_exactly_one_refetch_then_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, k2: SigningKey, cert_server: CertServer
) -> None:
    verifier.verify(k1.sign(claims()))
    assert cert_server.gets == 1

    refused(verifier, k2.sign(claims()))

    assert cert_server.gets == 2


def test_G8_a_rotated_key_is_accepted_once_google_publishes_it(
    verifier: GoogleIdTokenVerifier,
    k1: SigningKey,
    k2: SigningKey,
    cert_server: CertServer,
    monotonic: Monotonic,
) -> None:
    verifier.verify(k1.sign(claims()))
    refused(verifier, k2.sign(claims()))
    cert_server.publish(k1, k2)
    monotonic.advance(60)

    assert verifier.verify(k2.sign(claims())).subject == "1001"
    assert verifier.verify(k1.sign(claims())).subject == "1001"
    assert cert_server.gets == 3


def test_G8_a_flood_of_unknown_kids_refetches_at_most_once_a_minute(
    verifier: GoogleIdTokenVerifier,
    k1: SigningKey,
    k2: SigningKey,
    cert_server: CertServer,
    monotonic: Monotonic,
) -> None:
    verifier.verify(k1.sign(claims()))
    unknown = k2.sign(claims())

    for minute in range(3):
        for _ in range(50):
            refused(verifier, unknown)
            monotonic.advance(1)
        assert cert_server.gets == 1 + minute + 1
        monotonic.advance(10)


def test_G8_concurrent_unknown_kids_share_one_refetch(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, k2: SigningKey, cert_server: CertServer
) -> None:
    verifier.verify(k1.sign(claims()))
    unknown = k2.sign(claims())
    outcomes: list[str] = []

    def attempt() -> None:
        for _ in range(10):
            try:
                verifier.verify(unknown)
            except AuthenticationError as error:
                outcomes.append(error.code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["invalid_id_token"] * 80
    assert cert_server.gets == 2


def test_G18_a_hundred_verifications_fetch_the_certificates_once(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer
) -> None:
    token = k1.sign(claims())

    for _ in range(100):
        verifier.verify(token)

    assert cert_server.gets == 1


def test_G18_concurrent_first_verifications_fetch_the_certificates_once(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer
) -> None:
    token = k1.sign(claims())
    subjects: list[str] = []

    def sign_in() -> None:
        for _ in range(10):
            subjects.append(verifier.verify(token).subject)

    threads = [threading.Thread(target=sign_in) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert subjects == ["1001"] * 80
    assert cert_server.gets == 1


def test_the_certificates_are_refetched_when_max_age_has_passed(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer, monotonic: Monotonic
) -> None:
    cert_server.cache_control = "public, max-age=600"
    token = k1.sign(claims())
    verifier.verify(token)

    monotonic.advance(599)
    verifier.verify(token)
    assert cert_server.gets == 1

    monotonic.advance(1)
    verifier.verify(token)
    assert cert_server.gets == 2


def test_the_age_header_of_a_shared_cache_shortens_freshness(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer, monotonic: Monotonic
) -> None:
    cert_server.cache_control = "max-age=600"
    cert_server.extra_headers = {"Age": "590"}
    token = k1.sign(claims())
    verifier.verify(token)

    monotonic.advance(9)
    verifier.verify(token)
    assert cert_server.gets == 1

    monotonic.advance(1)
    verifier.verify(token)
    assert cert_server.gets == 2


def test_a_no_store_response_is_fetched_again_for_every_verification(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer
) -> None:
    cert_server.cache_control = "no-store"
    token = k1.sign(claims())

    verifier.verify(token)
    verifier.verify(token)

    assert cert_server.gets >= 2


# --- G9/G10: algorithm confusion and header-supplied keys --------------------------------


def test_G9_an_unsigned_alg_none_token_is_refused_without_fetching_keys(
    verifier: GoogleIdTokenVerifier, cert_server: CertServer
) -> None:
    header = b64(json.dumps({"alg": "none", "kid": "k1", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())

    refused(verifier, f"{header}.{payload}.")
    refused(verifier, f"{header}.{payload}.{b64(b'x')}")
    assert cert_server.gets == 0


def test_G9_an_hs256_token_keyed_with_the_public_certificate_is_refused(
    verifier: GoogleIdTokenVerifier, k1: SigningKey
) -> None:
    header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(k1.cert_pem.encode(), signing_input, hashlib.sha256).digest()

    refused(verifier, f"{header}.{payload}.{b64(mac)}")


@pytest.mark.parametrize("header_name", ["jku", "x5u"])
def test_G10_keys_named_in_the_token_header_are_never_fetched(
    verifier: GoogleIdTokenVerifier,
    attacker_key: SigningKey,
    attacker_server: CertServer,
    header_name: str,
) -> None:
    token = attacker_key.sign(claims(), header={header_name: attacker_server.url})

    refused(verifier, token)
    assert attacker_server.gets == 0


# --- G13: claim types ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [False, "true", 1, None])
def test_G13_email_verified_is_true_only_for_the_boolean_true(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, value: object
) -> None:
    assert verifier.verify(k1.sign(claims(email_verified=value))).email_verified is False


def test_G13_the_hosted_domain_is_lower_cased_and_may_be_absent(
    verifier: GoogleIdTokenVerifier, k1: SigningKey
) -> None:
    assert verifier.verify(k1.sign(claims(hd="A.EDU"))).hosted_domain == "a.edu"
    assert verifier.verify(k1.sign(claims(hd=None))).hosted_domain is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"hd": 7},
        {"hd": ["a.edu"]},
        {"hd": ""},
        {"sub": 1001},
        {"sub": ""},
        {"sub": None},
        {"email": None},
        {"email": ["s1@a.edu"]},
        {"iat": "now"},
        {"exp": "later"},
        {"exp": True},
        {"iat": None, "exp": None},
        {"iat": {"$gt": 0}},
    ],
    ids=repr,
)
def test_G13_claims_of_the_wrong_type_are_authentication_errors(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, overrides: dict[str, Any]
) -> None:
    refused(verifier, k1.sign(claims(**overrides)))


# --- G17: the key endpoint is down --------------------------------------------------------


def test_G17_a_failing_certificate_endpoint_with_nothing_cached_is_unavailable(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer
) -> None:
    cert_server.status = 500

    with pytest.raises(UnavailableError) as caught:
        verifier.verify(k1.sign(claims()))

    assert caught.value.code == "identity_provider_unavailable"


def test_G17_a_slow_certificate_endpoint_with_nothing_cached_is_unavailable(
    make_verifier: VerifierFactory, k1: SigningKey, cert_server: CertServer
) -> None:
    cert_server.delay = 2.0
    verifier = make_verifier(fetch_timeout=0.2)
    started = time.perf_counter()

    with pytest.raises(UnavailableError):
        verifier.verify(k1.sign(claims()))

    assert time.perf_counter() - started < 1.5


def test_G17_an_unreachable_certificate_endpoint_is_unavailable(
    make_verifier: VerifierFactory, k1: SigningKey
) -> None:
    verifier = make_verifier(certs_url="http://127.0.0.1:9/certs")

    with pytest.raises(UnavailableError):
        verifier.verify(k1.sign(claims()))


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b"[]", b"{}", b'{"keys": []}', b'{"k1": 7}', b'{"k1": "not a pem"}'],
    ids=["html", "list", "empty", "jwks", "non-string", "non-pem"],
)
def test_G17_an_unusable_certificate_document_is_unavailable_not_trusted(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer, body: bytes
) -> None:
    cert_server.body = body

    with pytest.raises(UnavailableError):
        verifier.verify(k1.sign(claims()))


def test_G17_cached_certificates_keep_sign_in_working_while_the_endpoint_fails(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer, monotonic: Monotonic
) -> None:
    verifier.verify(k1.sign(claims()))
    cert_server.status = 500

    verifier.verify(k1.sign(claims()))  # within max-age: no fetch at all
    assert cert_server.gets == 1

    monotonic.advance(3600)  # expired: the refetch fails, the stale document is served
    verifier.verify(k1.sign(claims()))
    assert cert_server.gets == 2


def test_G17_after_a_failure_the_endpoint_is_retried_only_after_a_pause(
    verifier: GoogleIdTokenVerifier, k1: SigningKey, cert_server: CertServer, monotonic: Monotonic
) -> None:
    cert_server.status = 503
    token = k1.sign(claims())
    with pytest.raises(UnavailableError):
        verifier.verify(token)
    cert_server.status = 200

    with pytest.raises(UnavailableError):
        verifier.verify(token)
    assert cert_server.gets == 1

    monotonic.advance(5)
    assert verifier.verify(token).subject == "1001"
    assert cert_server.gets == 2


# --- G19: junk is refused quickly ----------------------------------------------------------


def _deeply_nested_payload_token() -> str:
    header = b64(json.dumps({"alg": "RS256", "kid": "k1"}).encode())
    return f"{header}.{b64(b'[' * 2500)}.{b64(b'sig')}"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.@@@.###",
        "é.é.é",
        "x" * 20_000,
        ".".join(["x" * 7000] * 3),
        "x" * 3000 + ".y.z",
        f"{b64(b'[1, 2]')}.{b64(b'{}')}.{b64(b'sig')}",
        f"{b64(b'not json')}.{b64(b'{}')}.{b64(b'sig')}",
        f"{b64(b'{}')[:-1]}x.{b64(b'{}')}.{b64(b'sig')}",
        f"{b64(json.dumps({'alg': 'RS256', 'kid': 7}).encode())}.{b64(b'{}')}.{b64(b'sig')}",
        f"{b64(json.dumps({'alg': 'ES256', 'kid': 'k1'}).encode())}.{b64(b'{}')}.{b64(b'sig')}",
    ],
    ids=lambda token: repr(token[:24]),
)
def test_G19_malformed_tokens_are_refused_quickly_without_fetching_keys(
    verifier: GoogleIdTokenVerifier, cert_server: CertServer, token: str
) -> None:
    started = time.process_time()  # the process's own CPU: a busy machine does not fail it

    refused(verifier, token)

    assert time.process_time() - started < 0.05
    assert cert_server.gets == 0


@pytest.mark.parametrize(
    "token",
    [
        _deeply_nested_payload_token(),
        f"{b64(json.dumps({'alg': 'RS256', 'kid': 'k1'}).encode())}.{b64(b'not json')}.{b64(b's')}",
        f"{b64(json.dumps({'alg': 'RS256', 'kid': 'k1'}).encode())}.{b64(b'[]')}.{b64(b's')}",
    ],
    ids=["deeply-nested", "payload-not-json", "payload-list"],
)
def test_G19_a_well_formed_header_over_a_junk_payload_is_an_authentication_error(
    verifier: GoogleIdTokenVerifier, token: str
) -> None:
    refused(verifier, token)


def test_G19_a_non_string_token_is_an_authentication_error(
    verifier: GoogleIdTokenVerifier,
) -> None:
    refused(verifier, cast(str, b"a.b.c"))
    refused(verifier, cast(str, None))


def test_the_verifier_owns_and_closes_its_default_transport() -> None:
    verifier = GoogleIdTokenVerifier(CLIENT_IDS)

    verifier.close()
