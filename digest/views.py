"""The web copy of a digest (the same page the email shows, at a signed link), the
reader's "more / less like this" links and the page listing what they marked, and the
public status page of the sources."""

from csp.decorators import csp_update
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from digest import compose, health, likes, sending
from digest.models import Delivery, Feedback
from subscriptions import tokens
from subscriptions.decorators import token_page
from subscriptions.models import Subscriber


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


def _bad_link(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "subscriptions/bad_link.html", {"message": message}, status=status)


def _previous(text: str) -> int | None:
    """The value an undo puts back, as the answer page's form gave it."""
    return {"1": 1, "-1": -1}.get(text)


@csrf_exempt  # the signed link is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def feedback_link(request: HttpRequest, token: str, choice: str) -> HttpResponse:
    """A "more / less like this" link of a digest. GET (a person, or a mail gateway
    opening every link) only asks, with a button; the button's POST records, and its
    answer can undo it."""
    if choice not in likes.VALUES:
        raise Http404("No such choice.")
    try:
        link = likes.read_link(token)
    except tokens.BadToken as error:
        return _bad_link(request, str(error))
    except LookupError as error:
        return _bad_link(request, str(error), status=404)
    value = likes.VALUES[choice]
    context = {
        "paper": link.paper,
        "choice": choice,
        "label": Feedback.Value(value).label,
        "manage_url": _manage_urls(link) if link.from_email else None,
    }
    if request.method != "POST":
        context["current"] = likes.current(link.subscriber, link.paper)
        return render(request, "digest/feedback_confirm.html", context)
    if request.POST.get("action") == "undo":
        likes.undo(link, _previous(request.POST.get("previous", "")))
        context["current"] = likes.current(link.subscriber, link.paper)
        return render(request, "digest/feedback_confirm.html", {**context, "undone": True})
    previous = likes.record(link, value)
    return render(request, "digest/feedback_recorded.html", {**context, "previous": previous or ""})


def _manage_urls(link: likes.Link) -> dict[str, str]:
    token = tokens.make_token(tokens.MANAGE, link.subscriber.pk)
    return {
        "manage": reverse("subscriptions:manage", args=[token]),
        "feedback": reverse("manage_feedback", args=[token]),
    }


@csrf_exempt  # the signed token is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def manage_feedback(request: HttpRequest, token: str) -> HttpResponse:
    """What the reader marked "more like this" and "less like this", each removable."""
    try:
        subscriber_id = tokens.read_token(tokens.MANAGE, token)
    except tokens.BadToken as error:
        return _bad_link(request, str(error))
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status == Subscriber.Status.SUPPRESSED:
        return _bad_link(request, "This link is not valid.")
    removed = 0
    if request.method == "POST":
        ids = [int(n) for n in request.POST.getlist("remove") if n.isdigit() and len(n) < 19]
        removed = likes.remove(subscriber, ids)
    given = likes.given_by(subscriber)
    context = {
        "subscriber": subscriber,
        "more": given[Feedback.Value.MORE],
        "less": given[Feedback.Value.LESS],
        "removed": removed,
        "manage_url": reverse("subscriptions:manage", args=[token]),
    }
    return render(request, "digest/feedback_list.html", context)
