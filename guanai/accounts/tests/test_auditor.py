"""The audit role (审计员, 三权分立): the auditor of a town reads the access log of that town —
filtered, exported, its chain checked — and nothing else; his own readings are on the log; a
town administrator can neither make himself auditor nor manage the auditor's account."""

import io
import itertools
import re
import subprocess
import sys

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from guanai.accounts import access_requests as svc
from guanai.accounts.middleware import AUDITOR_API, AUDITOR_PAGES, SESSION_FREE
from guanai.accounts.models import AccessAction, AccessLog, Role, RoleAssignment, User
from guanai.accounts.services import log_access
from guanai.api import api
from guanai.org.models import Town
from guanai.testing import make_school, make_user


def _read(cast, user="zx_teacher31", child="c31a", action=AccessAction.VIEW_SENSITIVE, n=1):
    for i in range(n):
        log_access(
            request=None,
            user=cast["users"][user],
            action=action,
            child=cast["children"][child] if child else None,
            detail=f"档卡页查看 {i}",
        )


@pytest.fixture
def elsewhere():
    """Another town with its own school, child reader and log rows."""
    town = Town.objects.create(name="别的镇")
    school = make_school("OT-1", "别的镇小学", town=town)
    reader = make_user("ot_leader", Role.SCHOOL_LEADER, school=school)
    log_access(
        request=None, user=reader, action=AccessAction.EXPORT, school=school, detail="别镇导出"
    )
    return reader


# --- reading the log -----------------------------------------------------------------------


def test_the_auditor_reads_his_towns_log_with_filters(client, cast, auditor, elsewhere):
    _read(cast, n=2)
    _read(cast, user="zx_leader", child="c32a", action=AccessAction.EXPORT)
    client.force_login(auditor)
    url = reverse("accounts:access_log")
    page = client.get(url).content.decode()
    assert "共 3 条" in page and "别镇导出" not in page
    assert "李四" in client.get(url, {"child": "李四"}).content.decode()
    assert "共 1 条" in client.get(url, {"user": "zx_leader"}).content.decode()
    assert "共 1 条" in client.get(url, {"user": "刘校长"}).content.decode()  # by name too
    assert "共 1 条" in client.get(url, {"action": "export"}).content.decode()
    assert (
        "共 0 条"
        not in client.get(url, {"since": "2026-11-29", "until": "2026-11-29"}).content.decode()
    )
    assert "没有符合条件" in client.get(url, {"since": "2026-11-30"}).content.decode()


def test_every_reading_of_the_log_is_itself_logged(client, cast, auditor):
    _read(cast)
    client.force_login(auditor)
    client.get(reverse("accounts:access_log"), {"child": "张三"})
    own = AccessLog.objects.get(action=AccessAction.VIEW_LOG)
    assert own.username == "auditor" and own.detail == "查看访问日志（学生 张三）"
    # and the auditor sees his own readings on the next one
    page = client.get(reverse("accounts:access_log")).content.decode()
    assert "查看访问日志（学生 张三）" in page


def test_the_auditor_exports_the_filtered_log_with_its_hashes(client, cast, auditor):
    _read(cast, n=3)
    client.force_login(auditor)
    response = client.get(reverse("accounts:access_log"), {"export": "xlsx"})
    assert response.status_code == 200
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert "孙审计" in rows[0][0] and rows[1][-1] == "本条哈希"
    body = rows[2:]
    assert len(body) == 3 and all(r[8] == p[9] for p, r in itertools.pairwise(body))
    export = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert export.username == "auditor" and export.detail == "导出访问日志 3 条"


def test_the_page_checks_the_chain_on_request(client, cast, auditor):
    _read(cast, n=2)
    client.force_login(auditor)
    page = client.get(reverse("accounts:access_log"), {"verify": "1"}).content.decode()
    assert "审计日志完整：2 条" in page and "最后一条的哈希" in page
    assert AccessLog.objects.filter(
        action=AccessAction.VIEW_LOG, detail="核对访问日志哈希链"
    ).exists()


def test_a_broken_chain_is_shown_to_the_auditor(client, cast, auditor, monkeypatch):
    from guanai.accounts import audit

    _read(cast, n=2)
    monkeypatch.setattr(
        audit,
        "verify",
        lambda: audit.Verdict(1, 2, "审计日志编号 2 的内容被改动过：与它的哈希不符"),
    )
    client.force_login(auditor)
    page = client.get(reverse("accounts:access_log"), {"verify": "1"}).content.decode()
    assert "alert-danger" in page and "编号 2 的内容被改动过" in page and "请立即报告" in page


# --- and nothing else ----------------------------------------------------------------------


def _pages(resolver: URLResolver | None = None, prefix: str = "", ns: str = ""):
    """Every page route as (name, path) with its parameters filled in (ids: 1)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith(("api/", "django-admin/")):
                continue
            inner = f"{ns}{entry.namespace}:" if entry.namespace else ns
            yield from _pages(entry, route, inner)
        elif isinstance(entry, URLPattern):
            path = "/" + re.sub(
                r"<(?:(\w+):)?(\w+)>", lambda m: "x" if m[1] in ("str", "slug") else "1", route
            )
            yield f"{ns}{entry.name}", path.replace("^", "").replace("$", "")


PAGES = sorted(set(_pages()))
ALLOWED = AUDITOR_PAGES | SESSION_FREE | {"home"}  # SESSION_FREE: no data on them


def _api_routes():
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return sorted((method, route) for route, ops in schema["paths"].items() for method in ops)


def test_the_walk_reaches_the_apps_pages():
    names = {name for name, _ in PAGES}
    assert {"children:detail", "contacts:index", "stats:dashboard", "accounts:users"} <= names
    assert len(PAGES) > 100


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_auditor_reaches_no_page_but_the_log(
    client, cast, auditor, records, auditor_lock, method
):
    client.force_login(auditor)
    opened = []
    for name, path in PAGES:
        if name in ALLOWED:
            continue
        status = getattr(client, method)(path).status_code
        if status not in (403, 404, 405):
            opened.append((name, path, status))
    assert opened == []
    assert client.get("/").url == reverse("accounts:access_log")


def test_the_auditor_reaches_no_api_route_but_his_tokens_and_the_emergency_list(
    client,
    cast,
    auditor,
    records,
    auditor_lock,
):
    client.force_login(auditor)
    opened = []
    for method, route in _api_routes():
        url = records.url(route)
        response = client.generic(method.upper(), url, data="{}", content_type="application/json")
        if url.startswith(AUDITOR_API):
            continue
        if response.status_code != 403:
            opened.append((method, route, response.status_code))
    assert opened == []
    assert client.get("/api/v1/auth/emergency-access").status_code == 200


def test_a_token_of_the_auditor_opens_no_child_either(client, cast, auditor, auditor_lock):
    from guanai.accounts.models import ApiToken

    key = ApiToken.issue(auditor)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/children", headers=headers).status_code == 403
    assert client.get("/api/v1/auth/tokens", headers=headers).status_code == 200


def test_the_scope_gives_the_auditor_no_child_even_without_the_lock(cast, auditor):
    from guanai.children.models import Child

    assert not Child.objects.visible_to(auditor, "view").exists()
    assert not svc.may_request(auditor)


# --- separation of duties ------------------------------------------------------------------


def test_a_town_admin_cannot_make_anyone_auditor(client, cast):
    users = cast["users"]
    client.force_login(users["town"])
    url = reverse("accounts:role_add", args=[users["zx_teacher31"].pk])
    response = client.post(url, {"role": "auditor", "valid_from": "2026-11-29"})
    assert response.status_code == 422
    response = client.post(
        reverse("accounts:role_add", args=[users["town"].pk]),
        {"role": "auditor", "valid_from": "2026-11-29"},
    )
    assert response.status_code == 422  # nor himself
    assert not RoleAssignment.objects.filter(role=Role.AUDITOR).exists()
    form = client.get(reverse("accounts:user_new")).content.decode()
    assert "审计员" not in form


def test_a_town_admin_cannot_manage_the_auditors_account(client, cast, auditor):
    client.force_login(cast["users"]["town"])
    assert "孙审计" not in client.get(reverse("accounts:users")).content.decode()
    assert client.get(reverse("accounts:user_edit", args=[auditor.pk])).status_code == 404
    reset = client.post(
        reverse("accounts:user_edit", args=[auditor.pk]),
        {"username": "auditor", "password": "takeover-123", "is_active": "on"},
    )
    assert reset.status_code == 404


def test_a_town_admin_reads_the_log_but_cannot_change_it(cast):
    from django.db import IntegrityError, transaction

    _read(cast)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLog.objects.update(detail="改过")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLog.objects.all().delete()


def test_the_command_line_makes_and_ends_an_auditor(cast, capsys):
    call_command("audit", "auditor", "sj", "--town", "虎山镇", "--name", "钱审计")
    out = capsys.readouterr().out
    assert "已设立 钱审计 为虎山镇的审计员" in out and "初始密码" in out
    user = User.objects.get(username="sj")
    assert user.is_auditor_only and user.role_assignments.get().town == cast["town_obj"]
    call_command("audit", "auditor", "sj", "--town", "虎山镇", "--end")
    assert not User.objects.get(username="sj").active_roles()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["zx_leader", "--town", "虎山镇"], "已有其他角色"),
        (["sj", "--town", "没有这个镇"], "没有名为“没有这个镇”的镇"),
        (["nobody", "--town", "虎山镇", "--end"], "不是虎山镇的审计员"),
    ],
)
def test_the_command_line_refuses_what_would_break_the_separation(cast, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        call_command("audit", "auditor", *args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not RoleAssignment.objects.filter(role=Role.AUDITOR).exists()


def test_the_auditors_menu_is_the_log(client, cast, auditor):
    client.force_login(auditor)
    context = client.get(reverse("accounts:access_log")).context
    assert context["is_auditor_only"] and context["reads_access_log"]
    assert context["reviews_emergencies"] and not context["decides_access"]


def test_the_cli_is_wired(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "guanai", "audit", "auditor", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and "--town" in out.stdout
