"""The visitor's address (issue 11, finding 10): only a real IP address from the
trusted proxy's entry counts, and a proxy left uncounted is warned about."""

import pytest
from django.core.checks import Warning as CheckWarning
from django.test import Client

from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "grace@example.com",
    "interests": "anomaly detection\n",
    "frequency": "daily",
    "send_hour": "7",
    "time_zone": "UTC",
    "website": "",
}


@pytest.mark.parametrize(
    "garbage", ["not-an-ip", "999.1.1.1", "1.2.3.4:8080", "fe80::1%eth0", "' OR 1=1 --"]
)
def test_a_garbage_forwarded_for_is_the_proxys_address_and_shares_its_limit(settings, garbage):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGNUP_RATE_LIMIT_PER_HOUR = 1
    client = Client(REMOTE_ADDR="10.0.0.1")

    first = client.post("/", SIGNUP, HTTP_X_FORWARDED_FOR=garbage, follow=True)

    assert first.status_code == 200  # the check-your-inbox page, not a database error
    assert first.redirect_chain == [("/check-your-inbox/", 302)]
    assert Subscriber.objects.get().unconfirmed_signup["ip"] == "10.0.0.1"
    # Another piece of garbage is still the proxy's address: the limit holds.
    second = client.post(
        "/", {**SIGNUP, "email": "b@example.com"}, HTTP_X_FORWARDED_FOR=f"{garbage}x"
    )
    assert second.status_code == 429
    # A real visitor behind the same proxy is counted apart.
    assert client.post("/", SIGNUP, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 302


def test_the_live_preview_answers_a_garbage_forwarded_for(settings, ingested_papers):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PREVIEW_RATE_LIMIT_PER_HOUR = 1
    client = Client()

    first = client.get(
        "/preview.json", {"interests": "anomaly detection"}, HTTP_X_FORWARDED_FOR="x"
    )
    second = client.get(
        "/preview.json", {"interests": "anomaly detection"}, HTTP_X_FORWARDED_FOR="y"
    )

    assert (first.status_code, second.status_code) == (200, 429)


def _proxy_warnings():
    from digest.checks import proxy_is_counted_for_client_addresses

    return [m for m in proxy_is_counted_for_client_addresses() if isinstance(m, CheckWarning)]


def test_a_tls_proxy_with_no_proxy_counted_is_warned_about(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # BEHIND_TLS_PROXY
    settings.TRUSTED_PROXY_COUNT = 0

    [warning] = _proxy_warnings()

    assert warning.id == "paperboy.W003"
    assert "TRUSTED_PROXY_COUNT is 0" in warning.msg
    settings.TRUSTED_PROXY_COUNT = 1
    assert _proxy_warnings() == []
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.TRUSTED_PROXY_COUNT = 0
    assert _proxy_warnings() == []
