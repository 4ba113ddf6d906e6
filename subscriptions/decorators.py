"""What every page reached by a signed link needs: the link is its password."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def token_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never stored by a browser or a shared cache (`Cache-Control: no-store`), and the
    URL never sent on as a Referer (`Referrer-Policy: no-referrer`): a paper link on the
    manage page would hand its token to the paper's site.

    Without a Referer, a browser sends `Origin: null` with the page's own form posts,
    which Django's CSRF check refuses; those views are csrf_exempt, which costs
    nothing here: a forged post would need the signed token in the URL, and whoever
    has it can act anyway.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped
