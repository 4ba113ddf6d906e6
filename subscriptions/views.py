"""Signup, confirmation, manage and unsubscribe pages. Thin: the rules are in services."""

import secrets
import threading
from collections.abc import Sequence
from dataclasses import asdict, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from digest import recent, seeds
from digest.matching import like
from subscriptions import (
    csrf,
    data_views,
    mailed_to,
    ratelimit,
    seed_import,
    services,
    tokens,
    your_data,
)
from subscriptions.decorators import token_page
from subscriptions.forms import (
    LinkRequestForm,
    ManageForm,
    PreferencesForm,
    SignupForm,
    parse_interest_lines,
)
from subscriptions.models import Subscriber
from subscriptions.visitors import client_ip


def _bad_link(request: HttpRequest, error: tokens.BadToken) -> HttpResponse:
    return render(request, "subscriptions/bad_link.html", {"message": str(error)}, status=400)


def _preferences(form: PreferencesForm) -> dict:
    data = form.cleaned_data
    return {
        "interests": data["interests"],
        "frequency": data["frequency"],
        "time_zone": data["time_zone"],
        "send_hour": data["send_hour"],
        "categories": data["categories"],
    }


def _too_many(request: HttpRequest, action: str, per_hour: int) -> bool:
    return not ratelimit.allow(f"{action}-ip:{client_ip(request)}", per_hour, 3600)


def _budgeted_matches(
    request: HttpRequest,
    interests: Sequence[str],
    categories: Sequence[str],
    subscriber_id: int | None = None,
) -> recent.RecentMatches | None:
    """The live preview's matches, or None once this visitor's CPU budget is spent.

    Each preview is charged the CPU time it really took, on the shared cache: a usual
    one costs milliseconds, the worst (30 one-letter interests over 3,000 papers,
    most of a second) spends the hour's budget in a few dozen requests, so one
    visitor keeps at most PREVIEW_CPU_SECONDS_PER_HOUR of a web process busy.
    """
    key = f"preview-ip:{client_ip(request)}"
    if not ratelimit.within_budget(key, settings.PREVIEW_CPU_SECONDS_PER_HOUR):
        return None
    return _charged_matches(key, interests, categories, subscriber_id)


def _charged_matches(
    key: str, interests: Sequence[str], categories: Sequence[str], subscriber_id: int | None = None
) -> recent.RecentMatches:
    """The preview's matches, and for a known reader (the manage page) what their model
    suggests beside them (`suggested`), charged to the visitor's CPU budget together."""
    recent.recent_index()  # built once for everyone: not charged to whoever comes first
    with ratelimit.charged_cpu(key, 3600):
        found = recent.recent_matches(interests, categories)
        if subscriber_id is not None:
            found = replace(
                found, suggested=recent.suggestions_for(subscriber_id, interests, categories)
            )
        return found


def _preview_of(
    request: HttpRequest, form: PreferencesForm, subscriber_id: int | None = None
) -> dict:
    """The no-JavaScript preview button's context: the matches of the interests typed
    so far (and, for a known reader, what their model suggests), or `preview_refused`
    once the budget is spent."""
    if "interests" in form.errors or not form.data.get("interests", "").strip():
        return {}
    interests = parse_interest_lines(form.data["interests"])
    found = _budgeted_matches(request, interests, form.data.getlist("categories"), subscriber_id)
    return {"preview_refused": True} if found is None else {"preview": found}


# The signup page as every visitor first gets it, rendered once per process: in two
# halves around the place of the CSRF token (a random mark the template cannot hold).
_blank_signup_lock = threading.Lock()
_blank_signup: tuple[bytes, bytes] | None = None


def _render_blank_signup() -> tuple[bytes, bytes]:
    """The empty signup form's page, rendered without a request: no context processor
    runs, so nothing of any visitor's (session, user, messages) can be in it; the
    CSRF token's place is cut out, to be filled for each visitor."""
    mark = f"csrf{secrets.token_hex(16)}"
    context = {"form": SignupForm(), "time_zones": SignupForm.time_zone_names()}
    page = render_to_string("subscriptions/signup.html", {**context, "csrf_token": mark})
    before, token_place, after = page.partition(mark)
    if not token_place or mark in after:
        raise RuntimeError("the signup page must hold exactly one {% csrf_token %}")
    return before.encode(), after.encode()


def _signup_page(request: HttpRequest) -> HttpResponse:
    """The empty signup form, the same bytes for everyone but this visitor's CSRF token
    (csrf.get_token: the cookie set or renewed as `{% csrf_token %}` would). Rendered again
    each time with DEBUG on, so template edits show."""
    global _blank_signup
    if _blank_signup is None or settings.DEBUG:
        with _blank_signup_lock:
            if _blank_signup is None or settings.DEBUG:
                _blank_signup = _render_blank_signup()
    before, after = _blank_signup
    return HttpResponse(b"".join((before, csrf.get_token(request).encode(), after)))


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _signup_page(request)
    if _too_many(request, "signup", settings.SIGNUP_RATE_LIMIT_PER_HOUR):
        return render(request, "subscriptions/rate_limited.html", status=429)
    form = SignupForm(request.POST or None)
    valid = form.is_valid()
    preview = {}
    if "preview" in request.POST:
        preview = _preview_of(request, form)
    elif valid:
        if not form.is_bot():
            services.sign_up(
                services.SignupRequest(
                    email=form.cleaned_data["email"],
                    **_preferences(form),
                    ip=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            )
        # The same answer for every address, known or not.
        return _to_check_inbox(form.cleaned_data["email"])
    context = {"form": form, "time_zones": SignupForm.time_zone_names(), **preview}
    return render(request, "subscriptions/signup.html", context)


def _too_many_previews() -> JsonResponse:
    return JsonResponse({"error": "Too many previews; try again later."}, status=429)


def _paper_json(paper: recent.PreviewPaper | None) -> dict | None:
    return paper and {"title": paper.title, "url": paper.url, "matched": list(paper.matched)}


def _preview_answer(
    request: HttpRequest, data: QueryDict, subscriber_id: int | None = None
) -> JsonResponse:
    """The live preview of the interests in `data`: how many recent papers they match,
    the first few, and each interest's own feedback; or what is wrong with them. For a
    known reader (the manage page), what their model suggests beside them too."""
    # The hit counted and the CPU budget read together: one round trip (_budgeted_matches).
    key = f"preview-ip:{client_ip(request)}"
    allowed, within_budget = ratelimit.allow_within_budget(
        key, settings.PREVIEW_RATE_LIMIT_PER_HOUR, 3600, settings.PREVIEW_CPU_SECONDS_PER_HOUR
    )
    if not allowed:
        return _too_many_previews()
    text = data.get("interests", "")
    limit = PreferencesForm.base_fields["interests"].max_length
    if len(text) > limit:
        message = f"At most {limit:,} characters of interests, please (these have {len(text):,})."
        return JsonResponse({"errors": [message]}, status=400)
    try:
        interests = parse_interest_lines(text)
    except ValidationError as error:
        return JsonResponse({"errors": error.messages}, status=400)
    if not within_budget:
        return _too_many_previews()
    found = _charged_matches(key, interests, data.getlist("categories")[:20], subscriber_id)
    return JsonResponse(
        {
            "suggested": [
                {"title": s.title, "url": s.url, "reason": s.reason} for s in found.suggested
            ],
            "days": found.days,
            "total": found.total,
            "papers": [_paper_json(p) for p in found.papers],
            "interests": [
                {
                    "interest": line.interest,
                    "matches": line.matches,
                    "example": _paper_json(line.example),
                    "warning": line.warning,
                    "suggestion": line.suggestion,
                    "note": line.note,
                }
                for line in found.interests
            ],
        }
    )


@require_http_methods(["GET", "HEAD", "POST"])
def preview_matches(request: HttpRequest) -> JsonResponse:
    """The signup page's live preview. The page POSTs (with its CSRF token): a long
    list of interests does not fit in a URL; a GET still answers a short one."""
    return _preview_answer(request, request.POST if request.method == "POST" else request.GET)


@csrf_exempt  # the signed token is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["POST"])
def manage_preview(request: HttpRequest, token: str) -> JsonResponse:
    """The manage page's live preview, behind the page's own signed link: the page has
    no CSRF token to send."""
    try:
        subscriber_id = tokens.read_token(tokens.MANAGE, token)
    except tokens.BadToken as error:
        return JsonResponse({"error": str(error)}, status=400)
    return _preview_answer(request, request.POST, subscriber_id)


def _to_check_inbox(typed_email: str) -> HttpResponse:
    """The redirect to "check your inbox", which will name the address typed: only what
    the visitor gave, whatever we know of it (mailed_to)."""
    response = redirect("subscriptions:check_inbox")
    mailed_to.remember(response, typed_email)
    return response


@never_cache  # it names an address: never kept by a browser or a shared cache
def check_inbox(request: HttpRequest) -> HttpResponse:
    context = {"mailed_to": mailed_to.recall(request)}
    return render(request, "subscriptions/check_inbox.html", context)


def _confirm_page(request: HttpRequest, subscriber_id: int, changed: bool = False) -> HttpResponse:
    try:
        confirmation = services.confirmation_of(subscriber_id)
    except tokens.BadToken as error:
        return _bad_link(request, error)
    context = {
        "confirmation": confirmation,
        "changed": changed,
        "seed_lines": seed_lines(confirmation.preferences.interests),
    }
    return render(request, "subscriptions/confirm.html", context, status=409 if changed else 200)


@csrf_exempt  # the signed token is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the signup asks for and a button: mail scanners open links,
    people press buttons. POST confirms what the page showed."""
    try:
        subscriber_id = tokens.read_token(tokens.CONFIRM, token)
        if request.method != "POST":
            return _confirm_page(request, subscriber_id)
        shown = request.POST.get("signup")
        subscriber = services.confirm(subscriber_id, tokens.issued_at(token), shown)
    except services.SignupChanged:
        return _confirm_page(request, subscriber_id, changed=True)
    except tokens.BadToken as error:
        return _bad_link(request, error)
    context = {"subscriber": subscriber, **data_views.feed_of(subscriber)}
    return render(request, "subscriptions/confirmed.html", context)


@csrf_exempt  # RFC 8058: mail providers POST here with no cookies and no token.
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the buttons (unsubscribe, or pause, or weekly instead) and changes
    nothing. POST unsubscribes, answering 200, unless it carries a `choice` the page
    offered instead: the RFC 8058 one-click POST of a mail program carries none."""
    try:
        subscriber_id = tokens.read_token(tokens.UNSUBSCRIBE, token)
    except tokens.BadToken as error:
        return _bad_link(request, error)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if request.method != "POST":
        context = {"subscriber": subscriber, "offered": services.instead_of_leaving(subscriber)}
        return render(request, "subscriptions/unsubscribe.html", context)
    choice = request.POST.get("choice", "")
    if services.stay_instead(subscriber, choice):
        return render(
            request,
            "subscriptions/instead_of_leaving.html",
            {"subscriber": subscriber, "choice": choice, "now": timezone.now()},
        )
    services.unsubscribe(subscriber_id)
    return render(request, "subscriptions/unsubscribed.html")


def seed_lines(interests: Sequence[str]) -> list[dict]:
    """Each like line of `interests` with its paper's title and link (stored papers
    only: one query, never arXiv), for pages that list a subscriber's choices."""
    papers = seeds.titles(interests)
    found = []
    for interest in interests:
        for canonical in like.seed_ids([interest]):  # none for other (or broken) lines
            paper = papers.get(canonical)
            found.append(
                {
                    "line": interest,
                    "title": paper.title if paper else "",
                    "url": (paper and paper.abs_url) or f"https://arxiv.org/abs/{canonical}",
                }
            )
    return found


def _manage_page(
    request: HttpRequest,
    subscriber: Subscriber,
    form: ManageForm | None = None,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    """The manage page; without a form, one filled with the subscriber's choices."""
    token = request.resolver_match.kwargs["token"]
    context = {
        **data_views.manage_extras(subscriber, token),
        "subscriber": subscriber,
        "form": form or ManageForm(initial=_initial(subscriber)),
        "time_zones": ManageForm.time_zone_names(),
        "next_digest": subscriber.next_digest_at,
        "preview_url": reverse("subscriptions:manage_preview", args=[token]),
        "feedback_url": reverse("manage_feedback", args=[token]),
        "feedback_count": subscriber.reader_feedback.count(),
        "seed_lines": seed_lines([interest.text for interest in subscriber.interests.all()]),
        **extra,
    }
    return render(request, "subscriptions/manage.html", context, status=status)


@csrf_exempt  # the signed token is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """Change interests and schedule, pause, unsubscribe, or delete everything."""
    try:
        subscriber_id = tokens.read_token(tokens.MANAGE, token)
    except tokens.BadToken as error:
        return _bad_link(request, error)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status == Subscriber.Status.SUPPRESSED:
        return _bad_link(request, tokens.BadToken("This link is not valid."))
    if request.method != "POST":
        return _manage_page(request, subscriber)
    action = request.POST.get("action", "save")
    if action == "unsubscribe":
        services.unsubscribe(subscriber.pk)
        return render(request, "subscriptions/unsubscribed.html")
    if action == "delete":
        if request.POST.get("confirm_delete") != "yes":
            return _manage_page(request, subscriber, status=400, delete_error=True)
        services.delete_everything(subscriber, by="subscriber")
        return render(request, "subscriptions/deleted.html")
    feed_done = data_views.feed_action(subscriber, action)
    if feed_done:
        return _manage_page(request, subscriber, feed_done=feed_done)
    if action == "import":
        return _import(request, subscriber)
    if action == "import_seeds":
        return _import_seeds(request, subscriber)
    form = ManageForm(request.POST)
    if "preview" in request.POST:
        return _manage_page(request, subscriber, form, **_preview_of(request, form, subscriber.pk))
    if not form.is_valid():
        return _manage_page(request, subscriber, form)
    preferences = services.Preferences(
        **_preferences(form),
        paused_until=form.cleaned_data["paused_until"],
        digest_length=form.cleaned_data["digest_length"],
    )
    services.update_preferences(subscriber, preferences)
    subscriber.refresh_from_db()
    return _manage_page(request, subscriber, saved=True)


def _import(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """The manage page's import: interests from a text file or a Paperboy export."""
    upload = request.FILES.get("file")
    if not ratelimit.allow(f"import:{subscriber.pk}", your_data.IMPORTS_PER_HOUR, 3600):
        return render(request, "subscriptions/rate_limited.html", status=429)
    if upload is None:
        return _manage_page(request, subscriber, status=400, import_errors=["Choose a file."])
    try:
        your_data.check_size(upload.size)  # before reading it
        imported = your_data.import_file(
            subscriber, upload.read(), replace_all=request.POST.get("mode") == "replace"
        )
    except your_data.ImportRefused as refused:
        return _manage_page(request, subscriber, status=400, import_errors=refused.messages)
    subscriber.refresh_from_db()
    return _manage_page(request, subscriber, imported=imported)


def _import_seeds(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """The manage page's "papers like these": a BibTeX or Zotero CSV file's arXiv papers
    added as like: lines (subscriptions/seed_import.py)."""
    upload = request.FILES.get("file")
    if not ratelimit.allow(f"import:{subscriber.pk}", your_data.IMPORTS_PER_HOUR, 3600):
        return render(request, "subscriptions/rate_limited.html", status=429)
    if upload is None:
        return _manage_page(request, subscriber, status=400, seed_errors=["Choose a file."])
    try:
        seed_import.check_size(upload.size)  # before reading it
        imported = seed_import.import_library(subscriber, upload.read())
    except seed_import.LibraryRefused as refused:
        return _manage_page(request, subscriber, status=400, seed_errors=refused.messages)
    subscriber.refresh_from_db()
    return _manage_page(request, subscriber, seeds_imported=imported)


def _initial(subscriber: Subscriber) -> dict:
    """The manage form's values: the subscriber's preferences, interests one per line."""
    preferences = services.preferences_of(subscriber)
    return {**asdict(preferences), "interests": "\n".join(preferences.interests)}


@require_http_methods(["GET", "HEAD", "POST"])
def request_link(request: HttpRequest) -> HttpResponse:
    """ "Send me my link": the same answer whether the address is known or not."""
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST":
        if _too_many(request, "link", settings.LINK_REQUEST_RATE_LIMIT_PER_HOUR):
            return render(request, "subscriptions/rate_limited.html", status=429)
        if form.is_valid():
            if not form.cleaned_data.get("website"):
                services.request_manage_link(form.cleaned_data["email"])
            return _to_check_inbox(form.cleaned_data["email"])
    return render(request, "subscriptions/request_link.html", {"form": form})
