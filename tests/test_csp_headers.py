"""config/csp.py builds the usual Content-Security-Policy once: every response gets
the headers django-csp's own middleware would give it, whether the policy is the
usual one, a view's own (csp_update), a report-only one, changed settings, an
excluded path or a debug page."""

import pytest
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory

from config.csp import CSPMiddleware

pytestmark = pytest.mark.django_db

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path="/", response=None, nonce=False):
    middleware = middleware_class(lambda request: response or HttpResponse("page"))
    request = RequestFactory().get(path)
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)
    answer = middleware.process_response(request, middleware.get_response(request))
    return {name: answer.get(name) for name in HEADERS}, request


def _both(**kwargs) -> dict:
    ours = _headers(CSPMiddleware, **kwargs)[0]
    assert ours == _headers(DjangoCSPMiddleware, **kwargs)[0]
    return ours


def _updated() -> HttpResponse:
    return csp_update({"style-src": ["'unsafe-inline'"]})(lambda request: HttpResponse())(None)


def test_the_usual_policy_is_django_csps_and_built_once(monkeypatch):
    middleware = CSPMiddleware(lambda request: HttpResponse())
    built = []
    monkeypatch.setattr("config.csp.build_policy", lambda **kw: built.append(kw) or "p")
    for _ in range(3):
        request = RequestFactory().get("/")
        middleware.process_request(request)
        middleware.process_response(request, HttpResponse())

    assert len(built) == 2  # the policy and the report-only one, once
    monkeypatch.undo()
    headers = _both()
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_a_views_own_policy_a_nonce_and_an_exemption_are_django_csps():
    assert "'unsafe-inline'" in _both(response=_updated())["Content-Security-Policy"]
    _both(nonce=True)  # a nonce used (none in this site's policy): django-csp's work
    exempt = csp_exempt()(lambda request: HttpResponse())(None)
    assert _both(response=exempt)["Content-Security-Policy"] is None


def test_changed_settings_report_only_and_excluded_paths_are_django_csps(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "EXCLUDE_URL_PREFIXES": ["/outside"],
        "DIRECTIVES": {"default-src": ["'none'"]},
    }
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}

    headers = _both()
    assert headers["Content-Security-Policy"] == "default-src 'none'"
    assert "img-src 'self'" in headers["Content-Security-Policy-Report-Only"]
    assert _both(path="/outside/page")["Content-Security-Policy"] is None


def test_debug_pages_are_left_alone_as_django_csp_does(settings):
    settings.DEBUG = True
    assert _both(response=HttpResponse(status=404))["Content-Security-Policy"] is None
    assert _both(response=HttpResponse(status=200))["Content-Security-Policy"]


def test_the_site_sends_the_policy_and_a_late_nonce_is_refused(settings):
    page = Client().get("/")
    assert "default-src 'self'" in page["Content-Security-Policy"]
    _, request = _headers(CSPMiddleware)
    with pytest.raises(Exception, match="not available after the CSP header"):
        str(request.csp_nonce)
