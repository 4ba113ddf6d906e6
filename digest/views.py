"""The web copy of a digest (the same page the email shows, at a signed link), and the
public status page of the sources."""

from csp.decorators import csp_update
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from digest import compose, health, sending
from digest.models import Delivery
from subscriptions import tokens
from subscriptions.decorators import token_page


# The email's HTML carries its styles inline (email programs need them); no script.
@csp_update({"style-src": ["'unsafe-inline'"]})
@token_page
@require_http_methods(["GET", "HEAD"])
def web_copy(request: HttpRequest, token: str) -> HttpResponse:
    try:
        delivery_id = tokens.read_token(tokens.WEB_COPY, token)
    except tokens.BadToken as error:
        context = {"message": str(error)}
        return render(request, "subscriptions/bad_link.html", context, status=400)
    delivery = (
        Delivery.objects.select_related("subscriber")
        .filter(pk=delivery_id, status__in=sending.DONE)
        .first()
    )
    if delivery is None:
        raise Http404("No such digest.")
    return HttpResponse(compose.web_copy_html(delivery))


# Public: what anyone may know of the sources, for a minute at most.
@cache_control(max_age=60, public=True)
@require_http_methods(["GET", "HEAD"])
def status(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(request, "digest/status.html", {"sources": health.status_rows(now), "now": now})


@cache_control(max_age=60, public=True)
@require_http_methods(["GET", "HEAD"])
def status_json(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    return JsonResponse({"checked_at": now, "sources": health.status_rows(now)})
