"""The offline phone app's pages: the app shell (/offline/app/), the notice a page that needs
the server shows without a connection (/offline/notice/), and the service worker
(/offline/sw.js, scope "/"). See docs/offline.md.

The shell carries no personal data — the children come from the packet API, kept encrypted in
the phone's IndexedDB — so it may be cached by the service worker and opened without a login
(the app then says to log in). The service worker's cache name carries a digest of the shell's
files: a changed file makes a new cache and the old one is dropped.
"""

import hashlib
import json
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

# The static files of the shell, cached by the service worker at install.
SHELL_STATIC = [
    "vendor/bootstrap.min.css",
    "offline/app.css",
    "offline/app.js",
    "offline/register.js",
    "offline/manifest.webmanifest",
    "offline/icon.svg",
    "offline/icon-192.png",
    "offline/icon-512.png",
]


@cache
def shell_version() -> str:
    """A digest of the shell's templates and static files: the service worker's cache version."""
    from django.template.loader import get_template

    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        path = finders.find(name)
        digest.update(Path(path).read_bytes() if path else name.encode())
    for name in ("offline/app.html", "offline/notice.html", "offline/sw.js"):
        digest.update(Path(get_template(name).origin.name).read_bytes())
    return digest.hexdigest()[:12]


class _UntouchedSession(SessionBase):
    """Stands in for the login session in a view whose answer is the same for everyone: the
    session cookie goes back unchanged, and nothing is read or written — the request neither
    counts as activity against the idle limit nor races the app's own requests to save the
    session (the browser fetches the service worker alongside them)."""

    def load(self) -> dict:
        return {}

    def save(self, must_create: bool = False) -> None:
        return None

    def exists(self, session_key: str) -> bool:
        return True

    def create(self) -> None:
        return None

    def delete(self, session_key: str | None = None) -> None:
        return None


def sessionless(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key:
            request.session = _UntouchedSession(key)
        return view(request, *args, **kwargs)

    return wrapped


def shell_urls() -> list[str]:
    return [
        reverse("offline:app"),
        reverse("offline:notice"),
        *(static(name) for name in SHELL_STATIC),
    ]


@ensure_csrf_cookie
def app(request: HttpRequest) -> HttpResponse:
    """The app shell: the children and the outbox are filled in by offline/app.js."""
    return render(request, "offline/app.html")


@sessionless
def notice(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker in place of a page that needs the server."""
    return render(request, "offline/notice.html")


@sessionless
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker script, served from /offline/ with the right to control "/": it
    answers every page, so a page that needs the server shows a notice offline instead of a
    browser error."""
    response = render(
        request,
        "offline/sw.js",
        {
            "version": shell_version(),
            "shell": json.dumps(shell_urls()),
            "app_url": reverse("offline:app"),
            "notice_url": reverse("offline:notice"),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
