"""Signup, confirmation and unsubscribe pages. Thin: the rules are in services."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscriptions import ratelimit, services, tokens
from subscriptions.forms import SignupForm


def _client_ip(request: HttpRequest) -> str | None:
    """The visitor's address; behind N trusted proxies, the Nth from the right
    in X-Forwarded-For (entries further left are whatever the client sent)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def _bad_link(request: HttpRequest, error: tokens.BadToken) -> HttpResponse:
    return render(request, "subscriptions/bad_link.html", {"message": str(error)}, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        ip = _client_ip(request)
        if not ratelimit.allow(f"signup-ip:{ip}", settings.SIGNUP_RATE_LIMIT_PER_HOUR, 3600):
            return render(request, "subscriptions/rate_limited.html", status=429)
        if form.is_valid():
            if not form.is_bot():
                services.sign_up(
                    services.SignupRequest(
                        email=form.cleaned_data["email"],
                        interests=form.cleaned_data["interests"],
                        frequency=form.cleaned_data["frequency"],
                        time_zone=form.cleaned_data["time_zone"],
                        send_hour=form.cleaned_data["send_hour"],
                        ip=ip,
                        user_agent=request.headers.get("User-Agent", ""),
                    )
                )
            # The same answer for every address, known or not.
            return redirect("subscriptions:check_inbox")
    context = {"form": form, "time_zones": SignupForm.time_zone_names()}
    return render(request, "subscriptions/signup.html", context)


def check_inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "subscriptions/check_inbox.html")


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners open links, people press buttons.
    try:
        subscriber_id = tokens.read_token(tokens.CONFIRM, token)
        if request.method != "POST":
            return render(request, "subscriptions/confirm.html")
        subscriber = services.confirm(subscriber_id, tokens.issued_at(token))
    except tokens.BadToken as error:
        return _bad_link(request, error)
    return render(request, "subscriptions/confirmed.html", {"subscriber": subscriber})


@csrf_exempt  # RFC 8058: mail providers POST here with no cookies and no token.
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirm button and changes nothing; POST unsubscribes, answering 200."""
    try:
        subscriber_id = tokens.read_token(tokens.UNSUBSCRIBE, token)
    except tokens.BadToken as error:
        return _bad_link(request, error)
    if request.method != "POST":
        return render(request, "subscriptions/unsubscribe.html")
    services.unsubscribe(subscriber_id)
    return render(request, "subscriptions/unsubscribed.html")
