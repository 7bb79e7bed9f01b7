"""Response headers every page and API answer carries (security issue #10).

Django 5.2 has no Content-Security-Policy of its own. The policy lets the browser run only the
scripts served from this site (the vendored Bootstrap, HTMX, ECharts and guanai/static/js):
no inline script, no handler attribute, no eval, so text that slipped into a page or an upload
cannot run with a teacher's session. Styles may stay inline (Bootstrap's components and a few
templates set them); they cannot run code.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(DIRECTIVES)


def security_headers(get_response: Callable[[HttpRequest], HttpResponse]):
    """The CSP on every response, and `Cache-Control: no-store, private` on every response to
    a signed-in user (session or API token) that does not set its own: pages and API answers
    carry children's personal data, which must not stay in a shared browser's or a proxy's
    cache. Static files never get here (WhiteNoise answers them first)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store, private"
        return response

    return middleware
