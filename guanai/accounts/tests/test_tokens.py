"""API tokens expire, die with the credentials they were issued under, and can be listed and
revoked by their owner and by the town administrator (security issue #10)."""

import datetime as dt

import pyotp
import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command
from django.urls import reverse

from guanai.accounts.models import ApiToken, Role, User
from guanai.accounts.services import confirm_totp, start_totp_enrolment
from guanai.testing import DEMO_PASSWORD, make_school, make_town, make_user


class QuickPBKDF2Hasher(PBKDF2PasswordHasher):
    iterations = 2


def issue(client, username="zx_leader", password=DEMO_PASSWORD, **extra) -> str:
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password, **extra},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def children(client, token: str):
    return client.get("/api/v1/children", **bearer(token))


def test_token_expires_after_thirty_days_by_default(client, cast, clock):
    token = issue(client)
    assert children(client, token).status_code == 200
    clock.shift(dt.timedelta(days=29))
    assert children(client, token).status_code == 200
    clock.shift(dt.timedelta(days=1, seconds=1))
    response = children(client, token)
    assert response.status_code == 401 and "过期" in response.json()["detail"]


def test_token_days_come_from_the_setting(client, cast, clock, settings):
    settings.GUANAI_TOKEN_DAYS = 2
    response = client.post(
        "/api/v1/auth/token",
        {"username": "zx_leader", "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    token, expires = response.json()["token"], response.json()["expires_at"]
    issued = ApiToken.objects.get()
    assert dt.datetime.fromisoformat(expires) == pytest.approx(
        issued.expires_at, abs=dt.timedelta(seconds=1)
    )
    assert issued.expires_at - issued.created_at == pytest.approx(
        dt.timedelta(days=2), abs=dt.timedelta(seconds=5)
    )
    clock.shift(dt.timedelta(days=2, minutes=1))
    assert children(client, token).status_code == 401


def test_password_change_on_the_page_kills_tokens(client, cast):
    token = issue(client, "zx_teacher31")
    teacher = cast["users"]["zx_teacher31"]
    client.force_login(cast["users"]["town"])
    client.post(
        reverse("accounts:user_edit", args=[teacher.pk]),
        {"username": "zx_teacher31", "password": "new-pass-2026", "is_active": "on"},
    )
    client.logout()
    response = children(client, token)
    assert response.status_code == 401 and "密码已修改" in response.json()["detail"]
    assert children(client, issue(client, "zx_teacher31", "new-pass-2026")).status_code == 200


def test_changepassword_command_kills_tokens(client, cast, monkeypatch):
    token = issue(client)
    monkeypatch.setattr(
        changepassword.Command, "_get_pass", lambda self, prompt="": "cli-pass-2026"
    )
    call_command("changepassword", "zx_leader", stdout=None)
    assert children(client, token).status_code == 401


def test_admin_set_password_form_kills_tokens(client, cast):
    token = issue(client)
    user = User.objects.get(username="zx_leader")
    form = AdminPasswordChangeForm(
        user,
        {"password1": "admin-set-2026", "password2": "admin-set-2026", "usable_password": "true"},
    )
    assert form.is_valid(), form.errors
    form.save()
    assert children(client, token).status_code == 401


def test_password_hash_upgrade_at_login_keeps_tokens(client, cast, settings):
    token = issue(client)
    # A newer preferred hasher: the next password check re-hashes, which is no password change.
    settings.PASSWORD_HASHERS = [
        "guanai.accounts.tests.test_tokens.QuickPBKDF2Hasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = User.objects.get(username="zx_leader").password
    assert User.objects.get(username="zx_leader").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="zx_leader").password != old_hash
    assert children(client, token).status_code == 200


def test_deactivation_kills_tokens_for_good(client, cast):
    token = issue(client, "zx_teacher31")
    teacher = cast["users"]["zx_teacher31"]
    client.force_login(cast["users"]["town"])
    edit = reverse("accounts:user_edit", args=[teacher.pk])
    client.post(edit, {"username": "zx_teacher31"})  # 启用 unticked
    client.post(edit, {"username": "zx_teacher31", "is_active": "on"})  # back the next day
    client.logout()
    response = children(client, token)
    assert response.status_code == 401 and "停用" in response.json()["detail"]


def test_totp_enrolment_kills_tokens(client, cast):
    token = issue(client, "town")
    secret, _uri = start_totp_enrolment(user=cast["users"]["town"])
    assert children(client, token).status_code == 200  # enrolment started, not confirmed
    assert confirm_totp(user=cast["users"]["town"], code=pyotp.TOTP(secret).now())
    response = children(client, token)
    assert response.status_code == 401 and "动态口令" in response.json()["detail"]


def test_owner_lists_and_revokes_tokens_through_the_api(
    client, cast, django_assert_max_num_queries
):
    first = issue(client, name="数据上报脚本")
    second = issue(client)
    issue(client, "zx_teacher31")
    children(client, first)
    # 6: the auditor lock asks once whether the token's holder is an auditor (middleware.py)
    with django_assert_max_num_queries(6):
        listed = client.get("/api/v1/auth/tokens", **bearer(second)).json()
    assert listed["count"] == 2
    item = listed["items"][0]
    assert set(item) == {"id", "name", "created_at", "last_used_at", "expires_at"}
    assert item["name"] == "数据上报脚本" and item["last_used_at"]
    assert first not in str(listed) and ApiToken.digest(first) not in str(listed)

    theirs = ApiToken.objects.get(user__username="zx_teacher31")
    url = f"/api/v1/auth/tokens/{theirs.pk}"
    assert client.delete(url, **bearer(second)).status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{item['id']}", **bearer(second)).status_code == 204
    response = children(client, first)
    assert response.status_code == 401 and "撤销" in response.json()["detail"]
    assert client.get("/api/v1/auth/tokens", **bearer(second)).json()["count"] == 1


def test_unknown_token_is_refused_in_chinese(client, cast):
    response = children(client, "not-a-token")
    assert response.status_code == 401 and "令牌" in response.json()["detail"]


def test_owner_lists_and_revokes_tokens_on_the_account_page(client, cast):
    token = issue(client, name="统计导出")
    issue(client, "zx_teacher31")
    leader = cast["users"]["zx_leader"]
    client.force_login(leader)
    page = client.get(reverse("accounts:account"))
    body = page.content.decode()
    assert "统计导出" in body and token not in body and ApiToken.digest(token) not in body
    assert "我的账号" in client.get(reverse("home")).content.decode()  # reachable from the menu
    theirs = ApiToken.objects.get(user__username="zx_teacher31")
    assert client.post(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 404
    mine = ApiToken.objects.get(user=leader)
    assert client.post(reverse("accounts:token_revoke", args=[mine.pk])).status_code == 302
    assert children(client.__class__(), token).status_code == 401
    assert "没有有效的 API 令牌" in client.get(reverse("accounts:account")).content.decode()


def test_town_admin_revokes_tokens_of_people_he_manages(client, cast):
    token = issue(client, "zx_teacher31", name="班级同步")
    teacher = cast["users"]["zx_teacher31"]
    outsider = make_user(
        "sm_leader",
        Role.SCHOOL_LEADER,
        school=make_school("SM-ZX", "石门镇中心小学", town=make_town("石门镇")),
    )
    their_token = issue(client, "sm_leader")
    client.force_login(cast["users"]["town"])
    page = client.get(reverse("accounts:user_edit", args=[teacher.pk])).content.decode()
    assert "班级同步" in page and token not in page
    row = ApiToken.objects.get(user=teacher)
    other = ApiToken.objects.get(user=outsider)
    denied = reverse("accounts:user_token_revoke", args=[outsider.pk, other.pk])
    assert client.post(denied).status_code == 404
    mismatched = reverse("accounts:user_token_revoke", args=[teacher.pk, other.pk])
    assert client.post(mismatched).status_code == 404
    ok = reverse("accounts:user_token_revoke", args=[teacher.pk, row.pk])
    assert client.post(ok).status_code == 302
    client.logout()
    assert children(client, token).status_code == 401
    assert children(client, their_token).status_code == 200
    row.refresh_from_db()
    assert row.revoked_by == cast["users"]["town"] and row.revoked_reason == "admin"
