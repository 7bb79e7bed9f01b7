"""Security headers (issue #10): a strict CSP on every response, pages without inline script,
no-store on whatever a signed-in user receives, HSTS and the proxy's HTTPS header when
GUANAI_HTTPS is on."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from guanai.middleware import CONTENT_SECURITY_POLICY
from guanai.testing import DEMO_PASSWORD

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
# Templates rendered to PDF by WeasyPrint, never served to a browser.
NOT_PAGES = {"contacts/letters_pdf.html"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def page_urls(cast) -> list[str]:
    child = cast["children"]["c31a"]
    return [
        reverse("home"),
        reverse("help"),
        reverse("children:list"),
        reverse("children:detail", args=[child.pk]),
        reverse("contacts:index"),
        f"{reverse('contacts:new')}?child={child.pk}",
        reverse("contacts:coverage"),
        reverse("screening:index"),
        reverse("screening:stale"),
        reverse("pairing:list"),
        reverse("pairing:responsibility"),
        reverse("pairing:proxies"),
        "/api/v1/docs",
    ]


def test_policy_allows_only_this_site_and_no_inline_script():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'self'"


def test_every_page_carries_the_csp_and_no_store(client, cast):
    client.force_login(cast["users"]["zx_leader"])
    for url in page_urls(cast):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert response["Cache-Control"] == "no-store, private", url


def test_pages_run_no_inline_script(client, cast):
    client.force_login(cast["users"]["zx_leader"])
    for url in page_urls(cast):
        body = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(body), url
        assert not HANDLER.search(body), (url, HANDLER.search(body))
        assert re.search(r'<script src="/static/', body), url


@pytest.mark.parametrize(
    "template",
    sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if str(p.relative_to(TEMPLATES)) not in NOT_PAGES
    ),
)
def test_no_template_holds_inline_script_or_handlers(template):
    text = (TEMPLATES / template).read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not HANDLER.search(text), HANDLER.search(text)
    assert "javascript:" not in text


def test_htmx_may_not_eval_or_inject_styles(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("home")).content.decode()
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", body)
    assert meta and json.loads(meta.group(1)) == {
        "allowEval": False,
        "includeIndicatorStyles": False,
    }


def test_api_answers_are_not_stored(client, cast):
    token = client.post(
        "/api/v1/auth/token",
        {"username": "zx_teacher31", "password": DEMO_PASSWORD},
        content_type="application/json",
    ).json()["token"]
    response = client.get("/api/v1/children", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    client.force_login(cast["users"]["zx_teacher31"])
    assert client.get("/api/v1/children")["Cache-Control"] == "no-store, private"


def test_anonymous_and_static_answers_keep_their_own_caching(client, cast):
    health = client.get(reverse("healthz"))
    assert "Cache-Control" not in health
    assert health["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    client.force_login(cast["users"]["zx_teacher31"])
    static = client.get("/static/js/site.js")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")


def test_hsts_on_https_requests(client, cast, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert "Strict-Transport-Security" not in client.get(reverse("healthz"))
    response = client.get(reverse("healthz"), HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def settings_under(tmp_path, **env) -> dict:
    """The settings a fresh process reads from this environment."""
    code = (
        "import json, django; from django.conf import settings as s; django.setup();"
        "print(json.dumps({'hsts': s.SECURE_HSTS_SECONDS, 'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        "'proxy': s.SECURE_PROXY_SSL_HEADER, 'cookie': s.SESSION_COOKIE_SECURE}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("GUANAI_")}
    run_env = {
        **base,
        "DJANGO_SETTINGS_MODULE": "guanai.settings",
        "GUANAI_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**run_env, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(django_settings.BASE_DIR).parent,
    )
    return json.loads(out.stdout)


def test_https_setting_turns_on_hsts_and_trusts_the_proxy_only_when_there_is_one(tmp_path):
    assert settings_under(tmp_path) == {"hsts": 0, "sub": False, "proxy": None, "cookie": False}
    assert settings_under(tmp_path, GUANAI_HTTPS="1") == {
        "hsts": 31536000,
        "sub": False,
        "proxy": None,
        "cookie": True,
    }
    assert settings_under(tmp_path, GUANAI_HTTPS="1", GUANAI_PROXY_COUNT="1")["proxy"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]
    assert settings_under(tmp_path, GUANAI_PROXY_COUNT="1")["proxy"] is None
