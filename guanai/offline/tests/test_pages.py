"""The offline app's shell, notice and service worker (issue #18)."""

import json
import re
from pathlib import Path

import pytest

from guanai.offline import views


@pytest.mark.parametrize("who", [None, "zx_teacher31", "proxy_wang", "inspector"])
def test_the_app_shell_opens_for_anyone_and_holds_no_personal_data(client, cast, who):
    if who:
        client.force_login(cast["users"][who])
    response = client.get("/offline/app/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "离线家访" in html
    assert 'rel="manifest"' in html and "/static/offline/app.js" in html
    for child in cast["children"].values():
        assert child.name not in html
    assert "csrftoken" in response.cookies  # the app's POSTs read it from the cookie
    assert "<script>" not in html  # the CSP allows no inline script


def test_the_notice_says_there_is_no_network(client, db):
    response = client.get("/offline/notice/")
    assert response.status_code == 200
    assert "现在没有网络" in response.content.decode()


def test_the_service_worker_may_control_the_whole_site_and_caches_the_shell(client, db):
    response = client.get("/offline/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("text/javascript")
    text = response.content.decode()
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", text).group(1))
    assert "/offline/app/" in shell and "/offline/notice/" in shell
    assert "/static/vendor/bootstrap.min.css" in shell and "/static/offline/app.js" in shell
    assert all(url.startswith("/") for url in shell)  # nothing fetched from outside
    assert '"guanai-offline-" + VERSION' in text and views.shell_version() in text
    for url in shell:  # every file of the shell is there to cache
        assert client.get(url).status_code == 200, url


def test_the_manifest_names_the_app_and_its_icons(client, db):
    from django.contrib.staticfiles import finders

    manifest = json.loads(Path(finders.find("offline/manifest.webmanifest")).read_bytes())
    assert manifest["name"] == "关爱" and manifest["start_url"] == "/offline/app/"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_the_service_worker_and_notice_neither_read_nor_extend_the_session(
    client, cast, django_assert_num_queries
):
    client.force_login(cast["users"]["zx_teacher31"])
    key = client.cookies["sessionid"].value
    for url in ("/offline/sw.js", "/offline/notice/"):
        with django_assert_num_queries(0):  # no session read, no session saved
            response = client.get(url)
        assert response.status_code == 200
        assert response.cookies.get("sessionid") is None or (
            response.cookies["sessionid"].value == key
        )
    assert client.get("/api/v1/offline/key").status_code == 200  # still logged in
