"""FcmNotifier's behaviour over the fake FCM service: batching, per-token outcomes, retries."""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from firebase_admin import messaging  # type: ignore[import-untyped]

from ams_adapters.fcm import FcmNotifier
from ams_adapters.fcm.outcomes import retry_after_seconds
from ams_adapters.fcm.payload import MAX_PAYLOAD_BYTES, collapse_id
from ams_core.domain import (
    InstitutionId,
    Notification,
    NotificationId,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    UnavailableError,
)
from tests.adapters.fcm import fake_fcm as fcm
from tests.adapters.fcm.fake_fcm import FakeFcm

AT = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)


def notification(
    key: str = "class-cancelled:S-1", *, body: str = "CS101 is cancelled"
) -> Notification:
    return Notification(
        id=NotificationId("N-1"),
        institution_id=InstitutionId("inst-a"),
        kind="class_cancelled",
        title="Class cancelled",
        body=body,
        recipients=(Recipient(RecipientKind.SECTION, "CS-A"),),
        idempotency_key=key,
        created_at=AT,
        data={"session_id": "S-1"},
    )


def devices(*tokens: str) -> list[PushToken]:
    return [
        PushToken(
            institution_id=InstitutionId("inst-a"),
            token=token,
            platform=PushPlatform.ANDROID,
            owner_email="student@college.example",
            registered_at=AT,
        )
        for token in tokens
    ]


def many(count: int) -> list[PushToken]:
    return devices(*(f"token-{n:05d}" for n in range(count)))


@pytest.fixture
def notifier(app: Any, fake_fcm: FakeFcm) -> FcmNotifier:
    return FcmNotifier(app, sleep=fake_fcm.sleep)


@pytest.fixture
def sdk_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every list of messages handed to ``messaging.send_each_async``."""
    sizes: list[int] = []
    real = messaging.send_each_async

    def spy(messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(messages))
        return real(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each_async", spy)
    return sizes


# batching


def test_1234_devices_go_out_in_three_sdk_calls_of_500_500_and_234(
    notifier: FcmNotifier, fake_fcm: FakeFcm, sdk_batches: list[int]
) -> None:
    report = notifier.send(notification(), many(1234))

    assert sdk_batches == [500, 500, 234]
    assert (report.delivered, report.failed) == (1234, 0)
    assert len(fake_fcm.messages) == 1234


def test_501_devices_never_reach_the_sdk_in_one_call(
    notifier: FcmNotifier, sdk_batches: list[int]
) -> None:
    notifier.send(notification(), many(501))

    assert sdk_batches == [500, 1]


def test_a_batch_size_over_500_is_refused(app: Any) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        FcmNotifier(app, batch_size=501)


def test_a_smaller_batch_size_is_honoured(
    app: Any, fake_fcm: FakeFcm, sdk_batches: list[int]
) -> None:
    FcmNotifier(app, batch_size=2, sleep=fake_fcm.sleep).send(notification(), many(5))

    assert sdk_batches == [2, 2, 1]


def test_no_devices_makes_no_sdk_call(notifier: FcmNotifier, sdk_batches: list[int]) -> None:
    assert notifier.send(notification(), []).delivered == 0
    assert sdk_batches == []


# the message


def test_the_encoded_message_carries_event_id_kind_tag_and_collapse_id(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    notifier.send(notification("class-cancelled:S-1"), devices("token-a"))

    [message] = fake_fcm.messages
    short = collapse_id("class-cancelled:S-1")
    assert message["token"] == "token-a"
    assert "fid" not in message
    assert message["notification"] == {"title": "Class cancelled", "body": "CS101 is cancelled"}
    assert message["data"] == {
        "session_id": "S-1",
        "event_id": "class-cancelled:S-1",
        "kind": "class_cancelled",
    }
    assert message["android"]["notification"]["tag"] == short
    assert message["apns"]["headers"]["apns-collapse-id"] == short
    assert message["webpush"]["notification"]["tag"] == short
    assert len(short) <= 64
    assert short != collapse_id("class-cancelled:S-2")


def test_sending_changes_no_warning_filter_and_lets_no_deprecation_warning_out(
    notifier: FcmNotifier,
) -> None:
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notifier.send(notification(), devices("token-a", "token-b"))
    assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []
    assert warnings.filters == before


def test_a_payload_over_4096_bytes_is_refused_before_sending(
    notifier: FcmNotifier, fake_fcm: FakeFcm, caplog: pytest.LogCaptureFixture
) -> None:
    huge = notification(body="x" * MAX_PAYLOAD_BYTES)

    report = notifier.send(huge, devices("token-a", "token-b"))

    assert (report.delivered, report.failed, report.dead_tokens) == (0, 2, ())
    assert fake_fcm.messages == []
    assert fake_fcm.sleeps == []
    assert any(r.levelno == logging.ERROR and "4096" in r.getMessage() for r in caplog.records)


def test_reserved_data_keys_are_refused_before_sending(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    bad = replace(notification(), data={"google.sent_time": "1"})

    report = notifier.send(bad, devices("token-a"))

    assert (report.delivered, report.failed) == (0, 1)
    assert fake_fcm.messages == []


# per-token outcomes


def test_an_unregistered_token_is_reported_dead_and_the_others_delivered(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.answer("token-b", fcm.unregistered())

    report = notifier.send(notification(), devices("token-a", "token-b", "token-c"))

    assert (report.delivered, report.failed, report.dead_tokens) == (2, 1, ("token-b",))
    assert fake_fcm.sent_to("token-b") == 1  # never retried
    assert fake_fcm.sleeps == []


def test_an_invalid_token_is_reported_dead(notifier: FcmNotifier, fake_fcm: FakeFcm) -> None:
    fake_fcm.answer("token-b", fcm.invalid_token())

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert (report.delivered, report.failed, report.dead_tokens) == (1, 1, ("token-b",))


def test_a_bad_request_about_the_token_field_is_reported_dead(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.answer("token-b", fcm.bad_request("message.token"))

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert report.dead_tokens == ("token-b",)


def test_a_bad_request_about_our_payload_fails_keeps_the_token_and_logs_an_error(
    notifier: FcmNotifier, fake_fcm: FakeFcm, caplog: pytest.LogCaptureFixture
) -> None:
    fake_fcm.answer("token-b", fcm.bad_request("message.data[0].value"))

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert (report.delivered, report.failed, report.dead_tokens) == (1, 1, ())
    assert fake_fcm.sent_to("token-b") == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "payload" in errors[0].getMessage()


def test_a_sender_id_mismatch_is_reported_dead(notifier: FcmNotifier, fake_fcm: FakeFcm) -> None:
    fake_fcm.answer("token-a", fcm.sender_id_mismatch())

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert (report.delivered, report.failed, report.dead_tokens) == (1, 1, ("token-a",))


def test_a_third_party_auth_error_fails_keeps_the_token_and_logs_one_error(
    notifier: FcmNotifier, fake_fcm: FakeFcm, caplog: pytest.LogCaptureFixture
) -> None:
    for token in ("token-a", "token-b"):
        fake_fcm.answer(token, fcm.third_party_auth())

    report = notifier.send(notification(), devices("token-a", "token-b", "token-c"))

    assert (report.delivered, report.failed, report.dead_tokens) == (1, 2, ())
    # Not retried by the notifier (google-auth itself re-sends a 401 after refreshing the
    # access token, which is why the fake may see the request more than once).
    assert fake_fcm.sleeps == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "APNs" in errors[0].getMessage()


def test_every_token_dead_is_a_report_not_an_outage(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    for token in ("token-a", "token-b"):
        fake_fcm.answer(token, fcm.unregistered())

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert (report.delivered, report.failed) == (0, 2)
    assert set(report.dead_tokens) == {"token-a", "token-b"}


# retries


def test_a_429_with_retry_after_is_retried_after_that_delay_for_only_the_failed_tokens(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.answer("token-b", fcm.quota_exceeded(retry_after="7"), fcm.ok())

    report = notifier.send(notification(), devices("token-a", "token-b", "token-c"))

    assert (report.delivered, report.failed) == (3, 0)
    assert fake_fcm.sleeps == [7.0]
    assert [m["token"] for m in fake_fcm.messages[3:]] == ["token-b"]
    assert [fake_fcm.sent_to(t) for t in ("token-a", "token-b", "token-c")] == [1, 2, 1]


def test_a_retry_after_longer_than_the_cap_waits_only_the_cap(app: Any, fake_fcm: FakeFcm) -> None:
    notifier = FcmNotifier(app, max_backoff_seconds=30, sleep=fake_fcm.sleep)
    fake_fcm.answer("token-a", fcm.quota_exceeded(retry_after="3600"), fcm.ok())

    notifier.send(notification(), devices("token-a"))

    assert fake_fcm.sleeps == [30]


def test_a_503_then_success_is_delivered_and_successful_tokens_are_never_resent(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.answer("token-b", fcm.unavailable(), fcm.internal(), fcm.ok())

    report = notifier.send(notification(), devices("token-a", "token-b", "token-c"))

    assert (report.delivered, report.failed) == (3, 0)
    assert fake_fcm.sleeps == [0.5, 1.0]  # exponential backoff
    assert [m["token"] for m in fake_fcm.messages[3:]] == ["token-b", "token-b"]
    assert len(fake_fcm.delivered) == 3


def test_transient_failures_left_after_the_attempts_are_counted_failed_when_some_got_through(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.answer("token-b", fcm.unavailable())

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert (report.delivered, report.failed, report.dead_tokens) == (1, 1, ())
    assert fake_fcm.sent_to("token-b") == 3


def test_everything_down_raises_unavailable_error_after_the_attempts(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.down = True

    with pytest.raises(UnavailableError):
        notifier.send(notification(), devices("token-a", "token-b"))

    assert fake_fcm.sleeps == [0.5, 1.0]
    assert fake_fcm.delivered == []


def test_every_device_rate_limited_raises_unavailable_error(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    for token in ("token-a", "token-b"):
        fake_fcm.answer(token, fcm.quota_exceeded())

    with pytest.raises(UnavailableError):
        notifier.send(notification(), devices("token-a", "token-b"))


def test_a_mix_of_dead_and_unreachable_devices_is_reported_not_raised(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.answer("token-a", fcm.unregistered())
    fake_fcm.answer("token-b", fcm.unavailable())

    report = notifier.send(notification(), devices("token-a", "token-b"))

    assert (report.delivered, report.failed, report.dead_tokens) == (0, 2, ("token-a",))


def test_a_notification_that_raised_is_sent_again_in_full_next_time(
    notifier: FcmNotifier, fake_fcm: FakeFcm
) -> None:
    fake_fcm.down = True
    with pytest.raises(UnavailableError):
        notifier.send(notification(), devices("token-a"))
    fake_fcm.down = False

    assert notifier.send(notification(), devices("token-a")).delivered == 1


def test_retry_after_as_an_http_date_is_understood() -> None:
    response = SimpleNamespace(headers={"Retry-After": "Mon, 16 Nov 2026 03:30:12 GMT"})
    error = SimpleNamespace(http_response=response)

    assert retry_after_seconds(error, now=AT) == 12.0


# idempotency and threads


def test_concurrent_sends_of_one_key_push_it_once(notifier: FcmNotifier, fake_fcm: FakeFcm) -> None:
    start = threading.Barrier(4)
    reports = []

    def send() -> None:
        start.wait()
        reports.append(notifier.send(notification(), devices("token-a", "token-b")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.delivered for r in reports] == [2, 2, 2, 2]
    assert len(fake_fcm.messages) == 2


def test_only_the_last_keys_are_remembered(app: Any, fake_fcm: FakeFcm) -> None:
    notifier = FcmNotifier(app, sleep=fake_fcm.sleep, remembered_keys=2)
    for key in ("k1", "k2", "k3", "k1"):
        notifier.send(notification(key), devices("token-a"))

    assert [m["data"]["event_id"] for m in fake_fcm.messages] == ["k1", "k2", "k3", "k1"]
