"""Small things a new user notices (issue #12): a favicon, quiet logs for refused pages, no
blank page for a GET of a form's action, no action offered to who cannot take it."""

import logging

from django.urls import reverse


def test_favicon_is_linked_and_served(client, users):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.ico"
    icon = client.get("/static/favicon.ico")
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an .ico file
    client.force_login(users["zx_teacher31"])
    page = client.get("/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page


def test_refused_and_missing_pages_log_one_line_without_traceback(client, users, caplog):
    client.force_login(users["zx_teacher31"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("accounts:users")).status_code == 403
        assert client.get("/children/999999/").status_code == 404
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == [
        "Forbidden (Permission denied): /accounts/users/",
        "Not Found: /children/999999/",
    ]
    assert all(r.exc_info is None for r in records)


def test_get_of_the_proposal_action_goes_to_the_proposal_form(client, users):
    client.force_login(users["zx_teacher31"])
    response = client.get(reverse("pairing:propose"), follow=True)
    assert response.redirect_chain[0] == ("/pairing/#propose", 302)
    assert "请选择学校或班级，再点“提出结对建议”" in response.content.decode()
    assert 'id="propose"' in response.content.decode()
    client.force_login(users["inspector"])
    assert client.get(reverse("pairing:propose")).status_code == 403


def test_read_only_inspector_is_not_sent_to_screen(client, users, cast):
    from guanai.screening.services import open_campaign

    open_campaign(school=cast["schools"]["zx"], term=None, by=users["zx_leader"])
    client.force_login(users["zx_teacher31"])
    assert "去摸排" in client.get(reverse("screening:index")).content.decode()
    client.force_login(users["inspector"])
    page = client.get(reverse("screening:index")).content.decode()
    assert "去摸排" not in page and "查看" in page


def test_no_template_comment_spans_lines():
    """Django's {# … #} is one line only: one spread over lines is printed on the page as
    text (it was, once, above the dashboard's coverage panels). Longer comments use
    {% comment %}."""
    from pathlib import Path

    import guanai

    root = Path(guanai.__file__).parent / "templates"
    spread = []
    for path in root.rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.count("{#") != line.count("#}"):
                spread.append(f"{path.relative_to(root)}:{number}")
    assert list(root.rglob("*.html")) and spread == []
