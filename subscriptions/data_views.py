"""A subscriber's feed, archive and data: thin views over digest.atom, digest.history
and subscriptions.your_data. The archive and the exports sit behind the manage link;
the feed behind its own random token (subscriptions.feeds)."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_http_methods

from digest import atom, history
from subscriptions import feeds, tokens, your_data
from subscriptions.decorators import token_page
from subscriptions.models import Subscriber

ARCHIVE_PER_PAGE = 20
RESULTS_PER_PAGE = 20
SEARCH_MAX_LENGTH = 200


@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscriber's Atom feed; 304 when the reader has it already, 404 for a token
    that is unknown or revoked (the same answer: which tokens were ever valid is not
    told)."""
    subscriber = feeds.subscriber_for(token)
    if subscriber is None:
        return HttpResponseNotFound("No such feed.", content_type="text/plain")
    state = atom.feed_state(subscriber)
    modified = state.last_modified
    response = get_conditional_response(
        request, etag=state.etag, last_modified=modified and int(modified.timestamp())
    )
    if response is None:
        response = HttpResponse(atom.render(state), content_type=atom.CONTENT_TYPE)
    response.headers["ETag"] = state.etag
    if modified:
        response.headers["Last-Modified"] = http_date(modified.timestamp())
    # The URL is the secret: kept by the reader that asked, never by a shared cache,
    # and always asked again (a 304 costs three small queries).
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _manage_subscriber(token: str) -> Subscriber:
    """The subscriber a manage token names, as the manage page takes it; else 404."""
    try:
        subscriber_id = tokens.read_token(tokens.MANAGE, token)
    except tokens.BadToken:
        raise Http404("This link is not valid.") from None
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status == Subscriber.Status.SUPPRESSED:
        raise Http404("This link is not valid.")
    return subscriber


def _page_number(request: HttpRequest, name: str = "page") -> str:
    return request.GET.get(name, "1")[:8]


def feed_of(subscriber: Subscriber) -> dict:
    return {"feed_url": atom.feed_url(subscriber) if subscriber.feed_token else None}


def manage_extras(subscriber: Subscriber, token: str) -> dict:
    """What the manage page shows of the feed, the archive and the data: the feed URL,
    the last few digests, the links to the rest."""
    return {
        **feed_of(subscriber),
        "recent_digests": history.summaries(history.past_digests(subscriber)[:5]),
        "archive_url": reverse("subscriptions:archive", args=[token]),
        "export_urls": {
            kind: reverse("subscriptions:export", args=[token, kind]) for kind in EXPORTS
        },
    }


@token_page
@require_http_methods(["GET", "HEAD"])
def archive(request: HttpRequest, token: str) -> HttpResponse:
    """Every past digest, newest first, with its web copy; or, with `q`, the papers of
    them whose title or abstract has every word of it."""
    subscriber = _manage_subscriber(token)
    query = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX_LENGTH]
    context = {
        "subscriber": subscriber,
        "query": query,
        "manage_url": reverse("subscriptions:manage", args=[token]),
        "archive_url": reverse("subscriptions:archive", args=[token]),
    }
    if query:
        found = Paginator(history.search(subscriber, query), RESULTS_PER_PAGE)
        page = found.get_page(_page_number(request))
        results = history.found_papers(page.object_list)
        context.update(page=page, results=results, total=found.count, query_words=query.split())
    else:
        digests = Paginator(history.past_digests(subscriber), ARCHIVE_PER_PAGE)
        page = digests.get_page(_page_number(request))
        context.update(page=page, digests=history.summaries(page.object_list))
    return render(request, "subscriptions/archive.html", context)


EXPORTS = {
    "json": ("application/json; charset=utf-8", "json"),
    "bib": ("application/x-bibtex; charset=utf-8", "bib"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}


@token_page
@require_http_methods(["GET", "HEAD"])
def export(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """The subscriber's data as a file: everything (JSON), or the papers they were sent
    (BibTeX, CSV)."""
    if kind not in EXPORTS:
        raise Http404("No such export.")
    subscriber = _manage_subscriber(token)
    content_type, extension = EXPORTS[kind]
    response = HttpResponse(content_type=content_type)
    if kind == "json":
        response.write(your_data.export_json(subscriber))
        name = "paperboy-export"
    elif kind == "bib":
        response.write(your_data.papers_bibtex(subscriber))
        name = "paperboy-papers"
    else:
        your_data.write_papers_csv(subscriber, response)
        name = "paperboy-papers"
    day = timezone.localdate().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{day}.{extension}"'
    return response


def feed_action(subscriber: Subscriber, action: str) -> str | None:
    """A manage page's feed button (renew or revoke), done; what to tell the subscriber,
    or None when `action` is not one of them."""
    if action == "feed_renew":
        had = bool(subscriber.feed_token)
        feeds.renew(subscriber)
        return "renewed" if had else "made"
    if action == "feed_revoke":
        feeds.revoke(subscriber)
        return "revoked"
    return None
