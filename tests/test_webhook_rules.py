"""Outgoing webhooks' pure rules, without a database: Standard Webhooks signatures as the
`standardwebhooks` library verifies them, where an endpoint may point, and the backoff."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from kilas.partners import signing
from kilas.partners.urls import UrlRefused, check_url
from kilas.partners.webhooks import LONGEST_RETRY, retry_delay


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=500), endpoint=st.integers(1, 10**9), event=st.integers(1, 10**12))
def test_what_kilas_signs_the_standard_webhooks_library_verifies(
    text: str, endpoint: int, event: int
) -> None:
    secret = signing.new_secret()
    now = int(time.time())
    message_id = signing.message_id(endpoint, event)
    body = json.dumps({"type": "complaint.submitted", "data": {"text": text}}).encode()
    headers = signing.headers(secret, message_id, now, body)
    assert headers["webhook-id"] == message_id and headers["webhook-timestamp"] == str(now)
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    stale = signing.headers(secret, message_id, now - 3600, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, stale)


def test_the_signature_is_the_specifications_example() -> None:
    # The Standard Webhooks specification's own test vector (its README, "Signature scheme").
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    at = datetime.fromtimestamp(1614265330, tz=UTC)
    assert Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, body.decode()) == signature


@pytest.mark.parametrize(
    "url",
    [
        "https://mitra.example.org/hooks/kilas",
        "https://1.1.1.1:8443/hook",
        "https://lapor.go.id/api/kilas?x=1",
    ],
)
def test_public_https_urls_are_accepted_in_production(url: str) -> None:
    assert check_url(url, production=True) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mitra.example.org/hook", "https"),
        ("https://127.0.0.1/hook", "not a public address"),
        ("https://10.1.2.3/hook", "not a public address"),
        ("https://192.168.0.10/hook", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::1]/hook", "not a public address"),
        ("https://[fd00::1]/hook", "not a public address"),
        ("https://localhost/hook", "not a public host"),
        ("https://metadata.google.internal/x", "not a public host"),
        ("https://user:pass@mitra.example.org/hook", "credentials"),
        ("https:///hook", "names a host"),
        ("https://mitra.example.org:99999/hook", "not a URL"),
        ("javascript:alert(1)", "https"),
        ("", "1 to 2000"),
        ("https://mitra.example.org/" + "a" * 2000, "1 to 2000"),
    ],
)
def test_what_production_refuses(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused, match=reason):
        check_url(url, production=True)


def test_development_lets_a_local_receiver_be_tried() -> None:
    assert check_url("http://127.0.0.1:8900/hook", production=False)
    assert check_url("http://localhost/hook", production=False)
    with pytest.raises(UrlRefused):
        check_url("ftp://127.0.0.1/hook", production=False)


def test_retries_back_off_to_an_hour_with_jitter() -> None:
    assert retry_delay(1) == timedelta(seconds=5)
    assert retry_delay(2) == timedelta(seconds=10)
    assert retry_delay(5) == timedelta(seconds=80)
    assert retry_delay(30) == LONGEST_RETRY
    assert retry_delay(1000) == LONGEST_RETRY
    assert retry_delay(3, jitter=0.5) == timedelta(seconds=10)


def test_every_backoff_stops_doubling_at_its_longest_wait() -> None:
    # The channel inbox and the reply outbox share the rule; any KILAS_*_MAX_ATTEMPTS is safe.
    from kilas.intake.replies import retry_delay as reply_delay
    from kilas.intake.worker import retry_delay as inbox_delay

    for delay in (inbox_delay, reply_delay):
        assert delay(2) == 2 * delay(1)
        assert delay(10_000) == timedelta(hours=1)
