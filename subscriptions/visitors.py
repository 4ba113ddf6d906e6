"""Who is asking: the visitor's IP address, for rate limits, the consent record and the
admin login lock (django-axes)."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address; behind N trusted proxies, the Nth from the right
    in X-Forwarded-For (entries further left are whatever the client sent).

    An entry that is not an IP address falls back to REMOTE_ADDR (the proxy's): it
    then shares the proxy's limits rather than opening a fresh limit per request, and
    never reaches the database's inet column. Also django-axes' client address.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    if proxies and len(forwarded) >= proxies and (address := _ip_address(forwarded[-proxies])):
        return address
    return _ip_address(request.META.get("REMOTE_ADDR", ""))


def _ip_address(text: str) -> str | None:
    """`text` as an IP address in its canonical form, or None when it is none."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A zone ("fe80::1%eth0") means nothing off the proxy's own link.
    return None if getattr(address, "scope_id", None) else str(address)
