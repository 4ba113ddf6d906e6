"""Deployment checks of our own, run by `manage.py check --deploy`."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


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


@register(Tags.security, deploy=True)
def webhooks_are_protected(**kwargs: object) -> list[CheckMessage]:
    # Without the secret anymail accepts unsigned tracking posts from anyone, who
    # could then forge bounces and complaints and get addresses suppressed.
    uses_esp = settings.EMAIL_BACKEND.startswith("anymail.backends.")
    if uses_esp and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return [
            Warning(
                "An anymail ESP sends the email but WEBHOOK_SECRET is not set.",
                hint='Set WEBHOOK_SECRET="user:password" and give the same to the ESP\'s '
                "tracking webhook URL.",
                id="paperboy.W002",
            )
        ]
    return []
