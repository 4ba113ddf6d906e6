"""System checks of our own: the deploy ones run by `manage.py check --deploy`, the
others whenever Django checks (migrate, runserver, `check`), where an error stops it."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(**kwargs: object) -> list[CheckMessage]:
    # Mailbox providers honour one-click unsubscribe (RFC 8058) only for an
    # https List-Unsubscribe URL, and every link in our email starts here.
    if urlsplit(settings.SITE_URL).scheme != "https":
        return [
            Warning(
                f"SITE_URL is {settings.SITE_URL!r}; email links and List-Unsubscribe need https.",
                hint="Set SITE_URL to the public https address of the site.",
                id="paperboy.W001",
            )
        ]
    return []


# Email backends that keep mail on this machine: right for `make run`, never in production.
_LOCAL_EMAIL_BACKENDS = {
    "config.outbox.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@register(deploy=True)
def email_leaves_the_machine(**kwargs: object) -> list[CheckMessage]:
    # The default backend writes every confirmation and digest to local files: a
    # production site with no provider configured would look fine and mail nobody.
    if not settings.DEBUG and settings.EMAIL_BACKEND in _LOCAL_EMAIL_BACKENDS:
        return [
            Error(
                f"DEBUG is off but EMAIL_BACKEND is {settings.EMAIL_BACKEND}: "
                "every email would stay on this machine.",
                hint="Set EMAIL_BACKEND to an anymail provider's backend (with its ANYMAIL_* "
                "settings) or to config.smtp.EmailBackend (SMTP) with EMAIL_HOST.",
                id="paperboy.E005",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def webhooks_are_protected(**kwargs: object) -> list[CheckMessage]:
    # Without the secret anymail accepts unsigned tracking posts from anyone, who could
    # then forge bounces and complaints and get addresses suppressed; so our webhook
    # URLs answer 404 without it, and the provider's reports go unheard. Either way a
    # deployment must choose: the secret, or no delivery reports at all.
    from digest.feedback import unguarded_webhook_routes

    if settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return []
    errors: list[CheckMessage] = []
    if settings.DELIVERY_WEBHOOKS:
        errors.append(
            Error(
                "The delivery webhooks are on but WEBHOOK_SECRET is not set: they answer "
                "404, so bounces and complaints go unheard.",
                hint='Set WEBHOOK_SECRET="user:password" and give the same to the provider\'s '
                "tracking webhook URL, or set DELIVERY_WEBHOOKS=false to run without "
                "delivery reports.",
                id="paperboy.E003",
            )
        )
    if unguarded := unguarded_webhook_routes():
        errors.append(
            Error(
                f"{len(unguarded)} anymail webhook URLs accept reports from anyone "
                f"({', '.join(unguarded[:3])}{', …' if len(unguarded) > 3 else ''}): "
                "WEBHOOK_SECRET is not set.",
                hint="Mount them with digest.feedback.webhook_urlpatterns() and set "
                'WEBHOOK_SECRET="user:password".',
                id="paperboy.E004",
            )
        )
    return errors


# Cache backends whose data lives on one host (or nowhere).
_LOCAL_CACHES = {
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
# Brokers that only processes of one host can share.
_LOCAL_BROKERS = ("filesystem://", "memory://")


@register(Tags.caches)
def shared_broker_has_a_shared_cache(**kwargs: object) -> list[CheckMessage]:
    # Workers on several hosts share a network broker; the rate limits, the live
    # preview's index and every other cached state must then be shared as well.
    backend = settings.CACHES["default"]["BACKEND"]
    broker = settings.CELERY_BROKER_URL
    if backend in _LOCAL_CACHES and not broker.startswith(_LOCAL_BROKERS):
        return [
            Error(
                f"The Celery broker {urlsplit(broker).scheme}:// is shared between hosts, "
                f"but the cache ({backend.rsplit('.', 1)[-1]}) is local to each host.",
                hint="Set REDIS_URL, so every host uses the same Redis as its cache.",
                id="paperboy.E001",
            )
        ]
    return []


@register()
def delivery_lease_outlasts_a_send(**kwargs: object) -> list[CheckMessage]:
    # A digest being handed over is taken back when its lease runs out: a lease shorter
    # than a slow SMTP conversation (each of connect, EHLO, MAIL, RCPT, DATA and the
    # final reply may take EMAIL_TIMEOUT) would resend a digest that is still on its way.
    needed = 6 * settings.EMAIL_TIMEOUT
    if needed >= settings.DELIVERY_LEASE_SECONDS:
        return [
            Error(
                f"DELIVERY_LEASE_SECONDS ({settings.DELIVERY_LEASE_SECONDS}) must exceed six "
                f"times EMAIL_TIMEOUT ({settings.EMAIL_TIMEOUT}), the longest one send can take.",
                id="paperboy.E002",
            )
        ]
    return []


@register(Tags.security)
def proxy_is_counted_for_client_addresses(**kwargs: object) -> list[CheckMessage]:
    # Behind a proxy every request comes from the proxy's address unless the proxy's
    # X-Forwarded-For entry is read: then all visitors share one address and its rate
    # limits, so one person's signups lock everyone out, and consent records keep the
    # proxy's address. (BEHIND_TLS_PROXY is what sets SECURE_PROXY_SSL_HEADER.)
    if settings.SECURE_PROXY_SSL_HEADER and settings.TRUSTED_PROXY_COUNT == 0:
        return [
            Warning(
                "BEHIND_TLS_PROXY is on but TRUSTED_PROXY_COUNT is 0: every visitor has the "
                "proxy's address, and shares its rate limits with everyone else.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies that append to "
                "X-Forwarded-For (1 for one load balancer or reverse proxy).",
                id="paperboy.W003",
            )
        ]
    return []
