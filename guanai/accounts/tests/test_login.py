"""Login page, lockout per (username, address), session expiry."""

from django.conf import settings
from django.urls import reverse

from guanai.testing import DEMO_PASSWORD


def post_login(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_page_is_chinese(client, db):
    body = client.get(reverse("accounts:login")).content.decode()
    assert "登录" in body and "用户名" in body and "密码" in body


def test_login_lands_on_home_with_scope_counts(client, cast):
    response = post_login(client, "zx_teacher31", DEMO_PASSWORD)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.context["total"] == 2
    assert "单留守" in home.content.decode()


def test_wrong_password_message_in_chinese(client, cast):
    response = post_login(client, "zx_teacher31", "wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_five_failures_lock_that_username_at_that_address(client, cast):
    for _ in range(5):
        post_login(client, "zx_teacher31", "wrong", ip="10.0.0.9")
    locked = post_login(client, "zx_teacher31", DEMO_PASSWORD, ip="10.0.0.9")
    assert locked.status_code == 429
    assert "锁定 15 分钟" in locked.content.decode()


def test_lockout_never_locks_a_whole_school_behind_one_router(client, cast):
    for _ in range(5):
        post_login(client, "zx_teacher31", "wrong", ip="10.0.0.9")
    # a colleague on the same router still logs in
    assert post_login(client, "zx_leader", DEMO_PASSWORD, ip="10.0.0.9").status_code == 302
    # and the teacher herself from another address
    client.logout()
    assert post_login(client, "zx_teacher31", DEMO_PASSWORD, ip="10.0.0.7").status_code == 302


def test_four_failures_then_success_resets(client, cast):
    for _ in range(4):
        post_login(client, "zx_teacher31", "wrong")
    assert post_login(client, "zx_teacher31", DEMO_PASSWORD).status_code == 302


def test_session_expires_when_idle(client, cast):
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    post_login(client, "zx_teacher31", DEMO_PASSWORD)
    session = client.session
    session.set_expiry(-1)
    session.save()
    assert client.get(reverse("home")).status_code == 302


def test_token_endpoint_is_locked_out_too(client, cast):
    for _ in range(5):
        client.post(
            "/api/v1/auth/token",
            {"username": "town", "password": "x"},
            content_type="application/json",
        )
    response = client.post(
        "/api/v1/auth/token",
        {"username": "town", "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code in (403, 429)
    assert "锁定" in response.json()["detail"]


def test_logout(client, cast):
    post_login(client, "zx_teacher31", DEMO_PASSWORD)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302
