"""django-csp's middleware, with the site's usual policy built once.

For every response django-csp deep-copies the policy settings (`dataclasses.asdict`)
and joins each directive again: ~0.1 ms, a quarter of what the signup page costs.
A response that asks for nothing of its own (no `csp_update`, `csp_replace` or
`csp_override` on its view) on a request that used no nonce gets the same headers
every time, so those are built once per settings object and kept; any other
response is django-csp's own work. The headers set are the same in every case:
tests/test_csp_headers.py compares them with django-csp's.
"""

from csp import middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What django-csp's decorators put on a response, for its own policy.
_PER_RESPONSE = tuple(
    f"_csp_{part}{ro}" for part in ("config", "update", "replace") for ro in ("", "_ro")
)


class CSPMiddleware(middleware.CSPMiddleware):
    def __init__(self, get_response) -> None:
        super().__init__(get_response)
        # The settings objects the headers were built from (kept, and compared by
        # identity: tests' override_settings brings others), and the headers.
        self._built: tuple[tuple, tuple[str, str]] = ((), ("", ""))

    def _usual(self) -> tuple[str, str]:
        """The policy and the report-only policy of the settings in force."""
        policies = (
            getattr(settings, "CONTENT_SECURITY_POLICY", None),
            getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None),
        )
        built_for, headers = self._built
        if len(built_for) != 2 or any(a is not b for a, b in zip(built_for, policies, strict=True)):
            headers = (build_policy(), build_policy(report_only=True))
            self._built = (policies, headers)
        return headers

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # django-csp leaves the debug pages alone
        policies = zip(
            (HEADER, HEADER_REPORT_ONLY),
            self._usual(),
            ("_csp_exempt", "_csp_exempt_ro"),
            ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
            strict=True,
        )
        for header, policy, exempt, setting in policies:
            if not policy or header in response or getattr(response, exempt, False):
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES")
            if not request.path_info.startswith(tuple(prefixes or ())):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
