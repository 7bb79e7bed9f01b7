"""代理家长: the register with the §22 declaration, logins scoped to the assigned children,
assignments with dates and a limit, matching help — services, pages and /api/v1/proxy-parents,
in and out of scope for every demo role."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanai.accounts.models import Role, RoleAssignment, User
from guanai.children.access import REDUCED, card_access
from guanai.children.models import Child, ChildAssignment
from guanai.pairing.models import ProxyParent
from guanai.pairing.proxies import (
    assign_child,
    end_assignment,
    register_proxy_parent,
    retire_proxy_parent,
    suggest_children,
    suggest_proxies,
    update_proxy_parent,
)
from guanai.pairing.responsibility import Invalid
from guanai.testing import VISIBLE, make_child

ROLES = list(VISIBLE)
API = "/api/v1/proxy-parents"
TODAY = timezone.localdate
DETAILS = {"name": "李阿姨", "phone": "138 1234 5678", "kind": "volunteer", "village": "虎山村"}


def register(school, by=None, **changes):
    args = {
        "school": school,
        "data": DETAILS,
        "declared": True,
        "declared_on": TODAY(),
        "username": "proxy_li",
        "password": "guanai-demo",
        "by": by,
    }
    return register_proxy_parent(**(args | changes))


@pytest.fixture
def proxies(cast, users):
    zx, bq = cast["schools"]["zx"], cast["schools"]["bq"]
    return {
        "li": register(zx, by=users["zx_leader"]),
        "zhao": register(
            bq,
            by=users["bq_leader"],
            data={"name": "赵伯", "phone": "13912340000", "kind": "cadre", "village": "板桥村"},
            username="proxy_zhao",
        ),
    }


def flash(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- services ------------------------------------------------------------------------------------


def test_registering_creates_a_login_with_the_proxy_role_and_the_declaration(cast, users):
    proxy = register(cast["schools"]["zx"], by=users["zx_leader"])
    assert (proxy.phone, proxy.declared, proxy.declared_on) == ("13812345678", True, TODAY())
    assert proxy.declaration_recorded_by == users["zx_leader"]
    user = User.objects.get(username="proxy_li")
    assert user.check_password("guanai-demo") and user.display_name == "李阿姨"
    assert user.role_codes() == {Role.PROXY_PARENT}
    assert card_access(user) == REDUCED
    assert not Child.objects.visible_to(user).exists()
    assert proxy.history.first().history_user == users["zx_leader"]


def test_an_existing_teacher_keeps_her_login(cast, users):
    proxy = register(cast["schools"]["zx"], username="zx_counselor", password="")
    assert proxy.user == users["zx_counselor"]
    assert users["zx_counselor"].role_assignments.filter(role=Role.PROXY_PARENT).exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"declared": False}, "declared"),
        ({"declared_on": None}, "declared_on"),
        ({"declared_on": dt.date(2999, 1, 1)}, "declared_on"),
        ({"data": DETAILS | {"phone": "12345"}}, "phone"),
        ({"data": DETAILS | {"phone": ""}}, "phone"),
        ({"data": DETAILS | {"name": " "}}, "name"),
        ({"data": DETAILS | {"kind": "boss"}}, "kind"),
        ({"data": DETAILS | {"village": "村" * 41}}, "village"),
        ({"password": "short"}, "password"),
        ({"username": ""}, "username"),
        ({"username": "a b"}, "username"),
        ({"username": "town"}, "username"),
    ],
)
def test_registering_refuses_bad_input_naming_the_field(cast, changes, field):
    with pytest.raises(Invalid) as exc:
        register(cast["schools"]["zx"], **changes)
    assert field in exc.value.errors
    assert not ProxyParent.objects.exists()
    assert not User.objects.filter(username="proxy_li").exists()


def test_a_login_is_registered_once(cast, proxies):
    with pytest.raises(Invalid, match="已登记为代理家长"):
        register(cast["schools"]["zx"])


def test_assigned_children_are_the_whole_scope_on_a_reduced_card(cast, proxies):
    kids, li = cast["children"], proxies["li"]
    assign_child(proxy=li, child=kids["c31b"], valid_from=TODAY(), valid_to=None, by=None)
    user = User.objects.get(pk=li.user_id)
    assert set(Child.objects.visible_to(user).values_list("name", flat=True)) == {"单小明"}
    assert not Child.objects.visible_to(user, "change").exists()


def test_a_future_assignment_gives_no_scope_yet(cast, proxies):
    li = proxies["li"]
    tomorrow = TODAY() + dt.timedelta(days=1)
    assign_child(
        proxy=li, child=cast["children"]["c31b"], valid_from=tomorrow, valid_to=None, by=None
    )
    assert not Child.objects.visible_to(User.objects.get(pk=li.user_id)).exists()


def test_the_limit_per_proxy_parent_is_a_setting(cast, proxies, settings):
    settings.GUANAI_PROXY_MAX_CHILDREN = 2
    kids, li = cast["children"], proxies["li"]
    first = assign_child(proxy=li, child=kids["c31a"], valid_from=TODAY(), valid_to=None, by=None)
    assign_child(proxy=li, child=kids["c31b"], valid_from=TODAY(), valid_to=None, by=None)
    with pytest.raises(Invalid, match="已代理 2 名儿童，已达上限"):
        assign_child(proxy=li, child=kids["c32a"], valid_from=TODAY(), valid_to=None, by=None)
    end_assignment(assignment=first, by=None)
    assign_child(proxy=li, child=kids["c32a"], valid_from=TODAY(), valid_to=None, by=None)
    settings.GUANAI_PROXY_MAX_CHILDREN = 3
    extra = make_child(cast["classes"]["c41"], name="第四个")
    assign_child(proxy=li, child=extra, valid_from=TODAY(), valid_to=None, by=None)
    with pytest.raises(Invalid, match="已达上限"):
        assign_child(
            proxy=li,
            child=make_child(cast["classes"]["c41"], name="第五个"),
            valid_from=TODAY(),
            valid_to=None,
            by=None,
        )


def test_the_default_limit_is_three(cast, proxies, settings):
    del settings.GUANAI_PROXY_MAX_CHILDREN
    c41 = cast["classes"]["c41"]
    for i in range(3):
        child = make_child(c41, name=f"孩子{i}")
        assign_child(proxy=proxies["li"], child=child, valid_from=TODAY(), valid_to=None, by=None)
    with pytest.raises(Invalid, match="已代理 3 名儿童"):
        assign_child(
            proxy=proxies["li"],
            child=cast["children"]["c31a"],
            valid_from=TODAY(),
            valid_to=None,
            by=None,
        )


@pytest.mark.parametrize(
    "kid, valid_to, field",
    [
        ("bq31a", None, "child"),  # another school
        ("c31a", dt.date(2000, 1, 1), "valid_to"),
    ],
)
def test_assigning_refuses_what_the_rules_forbid(cast, proxies, kid, valid_to, field):
    with pytest.raises(Invalid) as exc:
        assign_child(
            proxy=proxies["li"],
            child=cast["children"][kid],
            valid_from=TODAY(),
            valid_to=valid_to,
            by=None,
        )
    assert field in exc.value.errors


def test_the_same_child_twice_in_one_period_is_refused(cast, proxies):
    kid = cast["children"]["c31a"]
    assign_child(proxy=proxies["li"], child=kid, valid_from=TODAY(), valid_to=None, by=None)
    with pytest.raises(Invalid, match="已由 李阿姨 代理"):
        assign_child(proxy=proxies["li"], child=kid, valid_from=TODAY(), valid_to=None, by=None)


def test_suggestions_put_the_childs_village_first_and_skip_full_proxies(cast, proxies, settings):
    zx = cast["schools"]["zx"]
    far = register(
        zx,
        data={"name": "外村老师", "phone": "13700000000", "kind": "teacher", "village": "石门村"},
        username="proxy_far",
    )
    kid = cast["children"]["c32a"]  # 虎山村
    got = suggest_proxies(kid, ProxyParent.objects.all())
    assert [(s.proxy.name, s.same_village) for s in got] == [("李阿姨", True), ("外村老师", False)]
    settings.GUANAI_PROXY_MAX_CHILDREN = 1
    assign_child(
        proxy=proxies["li"],
        child=cast["children"]["c31a"],
        valid_from=TODAY(),
        valid_to=None,
        by=None,
    )
    assert [s.proxy for s in suggest_proxies(kid, ProxyParent.objects.all())] == [far]


def test_children_suggested_to_a_proxy_live_in_their_village_and_have_none(cast, proxies, users):
    li = proxies["li"]
    scope = Child.objects.visible_to(users["zx_leader"])
    # 张三 and 李四 have proxy_wang already; 王五 is not left-behind.
    assert [c.name for c in suggest_children(li, scope)] == ["单小明"]
    ChildAssignment.objects.filter(user=users["proxy_wang"]).delete()
    make_child(cast["classes"]["c31"], name="石门娃", village="石门村")
    # 双留守 first, then by class
    assert [c.name for c in suggest_children(li, scope)] == ["张三", "李四", "单小明"]


def test_retiring_ends_the_children_and_the_role(cast, proxies):
    li = proxies["li"]
    assign_child(
        proxy=li, child=cast["children"]["c31a"], valid_from=TODAY(), valid_to=None, by=None
    )
    with pytest.raises(Invalid):
        retire_proxy_parent(proxy=li, reason=" ", by=None)
    retire_proxy_parent(proxy=li, reason="搬走了", by=None)
    user = User.objects.get(pk=li.user_id)
    assert not Child.objects.visible_to(user).exists()
    assert user.role_codes() == set()
    li.refresh_from_db()
    assert (li.active, li.end_reason) == (False, "搬走了")
    with pytest.raises(Invalid, match="已退出"):
        assign_child(
            proxy=li, child=cast["children"]["c31b"], valid_from=TODAY(), valid_to=None, by=None
        )


def test_updating_details_keeps_history(proxies, users):
    update_proxy_parent(
        proxy=proxies["li"], data=DETAILS | {"village": "石门村"}, by=users["zx_leader"]
    )
    proxies["li"].refresh_from_db()
    assert proxies["li"].village == "石门村"
    assert proxies["li"].history.first().history_change_reason == "修改代理家长信息"


# --- pages ---------------------------------------------------------------------------------------

REGISTER_READERS = {
    "town": {"李阿姨", "赵伯"},
    "inspector": {"李阿姨", "赵伯"},
    "zx_leader": {"李阿姨"},
    "zx_grade3": {"李阿姨"},
    "zx_teacher31": {"李阿姨"},
    "zx_counselor": {"李阿姨"},
    "bq_leader": {"赵伯"},
    "proxy_wang": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_register_page_scope(client, users, proxies, role):
    client.force_login(users[role])
    response = client.get(reverse("pairing:proxies"))
    assert response.status_code == 200
    assert {p.name for p in response.context["page"].object_list} == REGISTER_READERS[role]
    detail = client.get(reverse("pairing:proxy_detail", args=[proxies["li"].pk]))
    assert detail.status_code == (200 if "李阿姨" in REGISTER_READERS[role] else 404)


def test_a_proxy_parent_reads_only_their_own_entry(client, proxies):
    client.force_login(proxies["li"].user)
    names = {p.name for p in client.get(reverse("pairing:proxies")).context["page"].object_list}
    assert names == {"李阿姨"}
    assert client.get(reverse("pairing:proxy_detail", args=[proxies["zhao"].pk])).status_code == 404


def test_register_masks_phones_in_the_list(client, users, proxies):
    client.force_login(users["zx_teacher31"])
    body = client.get(reverse("pairing:proxies")).content.decode()
    assert "138****5678" in body and "13812345678" not in body
    detail = client.get(reverse("pairing:proxy_detail", args=[proxies["li"].pk])).content.decode()
    assert "13812345678" not in detail
    client.force_login(users["zx_leader"])
    detail = client.get(reverse("pairing:proxy_detail", args=[proxies["li"].pk])).content.decode()
    assert "13812345678" in detail


def test_register_suggests_proxies_for_a_child(client, users, proxies, cast):
    client.force_login(users["zx_leader"])
    kid = cast["children"]["c32a"]
    response = client.get(reverse("pairing:proxies"), {"child": kid.pk})
    assert [s.proxy.name for s in response.context["suggestions"]] == ["李阿姨"]
    assert "同村" in response.content.decode()
    bq_kid = cast["children"]["bq31a"]
    assert client.get(reverse("pairing:proxies"), {"child": bq_kid.pk}).status_code == 404


def register_form(**changes):
    data = {
        "school": "HS-ZX",
        "name": "新代理",
        "phone": "13611112222",
        "kind": "teacher",
        "village": "虎山村",
        "username": "proxy_new",
        "password": "guanai-demo",
        "declared": "on",
        "declared_on": TODAY().isoformat(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    "role, status",
    [
        ("zx_leader", 302),
        ("town", 302),
        ("zx_teacher31", 403),
        ("zx_grade3", 403),
        ("inspector", 403),
        ("proxy_wang", 403),
        ("bq_leader", 422),  # HS-ZX is not hers to choose
    ],
)
def test_register_page_scope_for_writes(client, users, cast, role, status):
    client.force_login(users[role])
    response = client.post(reverse("pairing:proxy_create"), register_form())
    assert response.status_code == status
    assert ProxyParent.objects.filter(name="新代理").exists() is (status == 302)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"declared": None}, "须记录本人的声明"),
        ({"declared_on": ""}, "请填写声明日期"),
        ({"declared_on": "2026-02-30"}, "日期格式应为"),
        ({"phone": "12345"}, "不是 11 位手机号"),
        ({"name": ""}, "请填写姓名"),
        ({"kind": "boss"}, "请选择身份"),
        ({"password": "short"}, "新账号的初始密码至少 8 位"),
        ({"username": "town"}, "镇级账号"),
    ],
)
def test_register_page_bad_input_names_the_field(client, users, cast, changes, message):
    client.force_login(users["zx_leader"])
    response = client.post(reverse("pairing:proxy_create"), register_form(**changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ProxyParent.objects.exists()


def test_the_new_proxy_logs_in_and_sees_only_their_children(client, users, cast):
    client.force_login(users["zx_leader"])
    response = client.post(reverse("pairing:proxy_create"), register_form())
    proxy = ProxyParent.objects.get(name="新代理")
    assert response.url == reverse("pairing:proxy_detail", args=[proxy.pk])
    client.post(
        reverse("pairing:proxy_assign", args=[proxy.pk]),
        {"child": cast["children"]["c31b"].pk, "valid_from": TODAY().isoformat()},
    )
    fresh = Client()
    login = fresh.post(
        reverse("accounts:login"), {"username": "proxy_new", "password": "guanai-demo"}
    )
    assert login.status_code == 302
    names = {c.name for c in fresh.get(reverse("children:list")).context["page"].object_list}
    assert names == {"单小明"}
    mine = fresh.get(reverse("pairing:my_children"))
    assert [a.child.name for a in mine.context["rows"]] == ["单小明"]
    card = fresh.get(reverse("children:detail", args=[cast["children"]["c31b"].pk]))
    assert card.status_code == 200 and card.context["reduced"]
    other = fresh.get(reverse("children:detail", args=[cast["children"]["c31a"].pk]))
    assert other.status_code == 404


@pytest.mark.parametrize(
    "role, status",
    [
        ("zx_leader", 302),
        ("town", 302),
        ("zx_teacher31", 403),
        ("inspector", 403),
        ("bq_leader", 404),
        ("proxy_wang", 404),
    ],
)
def test_assign_page_scope(client, users, cast, proxies, role, status):
    client.force_login(users[role])
    response = client.post(
        reverse("pairing:proxy_assign", args=[proxies["li"].pk]),
        {"child": cast["children"]["c31b"].pk, "valid_from": TODAY().isoformat()},
    )
    assert response.status_code == status
    assigned = ChildAssignment.objects.filter(user=proxies["li"].user).exists()
    assert assigned is (status == 302)


def test_assign_page_bad_input(client, users, cast, proxies, settings):
    url = reverse("pairing:proxy_assign", args=[proxies["li"].pk])
    client.force_login(users["zx_leader"])
    missing = client.post(url, {"valid_from": TODAY().isoformat()})
    assert missing.status_code == 422 and "请选择儿童" in missing.content.decode()
    bad_date = client.post(url, {"child": cast["children"]["c31a"].pk, "valid_from": "x"})
    assert bad_date.status_code == 422 and "日期格式应为" in bad_date.content.decode()
    bq_kid = client.post(url, {"child": cast["children"]["bq31a"].pk, "valid_from": "2026-09-01"})
    assert bq_kid.status_code == 404
    settings.GUANAI_PROXY_MAX_CHILDREN = 1
    ok = {"child": cast["children"]["c31a"].pk, "valid_from": TODAY().isoformat()}
    assert client.post(url, ok).status_code == 302
    full = client.post(url, ok | {"child": cast["children"]["c31b"].pk})
    assert full.status_code == 422 and "已达上限" in full.content.decode()


def test_detail_suggests_children_of_the_village(client, users, proxies):
    client.force_login(users["zx_leader"])
    response = client.get(reverse("pairing:proxy_detail", args=[proxies["li"].pk]))
    assert [c.name for c in response.context["suggested"]] == ["单小明"]
    found = client.get(reverse("pairing:proxy_detail", args=[proxies["li"].pk]), {"q": "zs"})
    assert [c.name for c in found.context["found"]] == ["张三"]


def test_end_assignment_and_retire_from_the_pages(client, users, cast, proxies):
    a = assign_child(
        proxy=proxies["li"],
        child=cast["children"]["c31a"],
        valid_from=TODAY(),
        valid_to=None,
        by=None,
    )
    url = reverse("pairing:proxy_assignment_end", args=[a.pk])
    client.force_login(users["bq_leader"])
    assert client.post(url).status_code == 404
    client.force_login(users["zx_teacher31"])
    assert client.post(url).status_code == 403
    client.force_login(users["zx_leader"])
    response = client.post(url)
    assert response.status_code == 302 and "已结束 张三 的代理" in flash(response)
    again = client.post(url)
    assert "该代理已结束" in flash(again)
    retire = reverse("pairing:proxy_retire", args=[proxies["li"].pk])
    missing = client.post(retire, {"reason": ""})
    assert missing.status_code == 422 and "请填写退出原因" in missing.content.decode()
    assert client.post(retire, {"reason": "搬走了"}).status_code == 302
    assert not ProxyParent.objects.get(pk=proxies["li"].pk).active


def test_edit_page(client, users, proxies):
    url = reverse("pairing:proxy_edit", args=[proxies["li"].pk])
    client.force_login(users["zx_teacher31"])
    assert client.get(url).status_code == 403
    client.force_login(users["bq_leader"])
    assert client.get(url).status_code == 404
    client.force_login(users["zx_leader"])
    assert client.get(url).status_code == 200
    bad = client.post(url, DETAILS | {"phone": "1"})
    assert bad.status_code == 422 and "不是 11 位手机号" in bad.content.decode()
    assert client.post(url, DETAILS | {"name": "李桂花"}).status_code == 302
    assert ProxyParent.objects.get(pk=proxies["li"].pk).name == "李桂花"


@pytest.mark.parametrize("role", ROLES)
def test_my_children_page_is_for_proxy_parents(client, users, role):
    client.force_login(users[role])
    response = client.get(reverse("pairing:my_children"))
    assert response.status_code == (200 if role == "proxy_wang" else 404)
    if role == "proxy_wang":
        assert {a.child.name for a in response.context["rows"]} == {"张三", "李四"}


def test_my_children_page_logs_the_guardian_phones_it_shows(client, users, cast):
    from guanai.accounts.models import AccessLog

    client.force_login(users["proxy_wang"])
    page = client.get(reverse("pairing:my_children")).content.decode()
    assert 'href="tel:13912345678"' in page
    logs = AccessLog.objects.filter(action="view_sensitive", username="proxy_wang")
    kids = cast["children"]
    assert {log.child_id for log in logs} == {kids["c31a"].pk, kids["c32a"].pk}


def test_register_page_pins_its_query_count(client, users, cast, django_assert_max_num_queries):
    zx = cast["schools"]["zx"]
    for i in range(15):
        proxy = register(
            zx,
            data=DETAILS | {"name": f"代理{i}"},
            username=f"p{i}",
        )
        assign_child(
            proxy=proxy,
            child=make_child(cast["classes"]["c41"], name=f"娃{i}"),
            valid_from=TODAY(),
            valid_to=None,
            by=None,
        )
    client.force_login(users["zx_leader"])
    client.get(reverse("pairing:proxies"))
    # 9, plus the proxy-parent due list (rules of the schools, one query per rule group, one
    # listing the children with a proxy parent)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("pairing:proxies"))
    assert {p.load for p in response.context["page"].object_list} == {1}


# --- API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_list_scope(users, proxies, role):
    body = api(users[role]).get(API).json()
    assert {i["name"] for i in body["items"]} == REGISTER_READERS[role]
    resp = api(users[role]).get(f"{API}/{proxies['li'].pk}")
    assert resp.status_code == (200 if "李阿姨" in REGISTER_READERS[role] else 404)


def test_api_item_shape_and_masking(users, proxies, cast):
    assign_child(
        proxy=proxies["li"],
        child=cast["children"]["c31a"],
        valid_from=TODAY(),
        valid_to=None,
        by=None,
    )
    item = api(users["zx_leader"]).get(API).json()["items"][0]
    assert item | {"id": 0} == {
        "id": 0,
        "name": "李阿姨",
        "phone": "13812345678",
        "kind": "volunteer",
        "village": "虎山村",
        "address": "",
        "school": "HS-ZX",
        "username": "proxy_li",
        "active": True,
        "declared_on": TODAY().isoformat(),
        "declaration_recorded_by": "刘校长",
        "children": 1,
    }
    teacher = api(users["zx_teacher31"]).get(API).json()["items"][0]
    assert teacher["phone"] == "138****5678"
    own = api(proxies["li"].user).get(f"{API}/{proxies['li'].pk}").json()
    assert own["phone"] == "13812345678"
    client = api(users["town"])
    assert client.get(API, {"school": "HS-BQ"}).json()["count"] == 1
    assert client.get(API, {"village": "板桥"}).json()["items"][0]["name"] == "赵伯"
    assert client.get(API, {"kind": "cadre"}).json()["count"] == 1
    assert client.get(API, {"kind": "boss"}).status_code == 422
    assert Client().get(API).status_code == 401


def test_api_list_pins_its_query_count(users, cast, proxies, django_assert_max_num_queries):
    for i in range(10):
        register(cast["schools"]["zx"], data=DETAILS | {"name": f"代理{i}"}, username=f"p{i}")
    client = api(users["zx_leader"])
    client.get(API)
    with django_assert_max_num_queries(9):
        assert client.get(API).json()["count"] == 11


def api_body(**changes):
    body = {
        "school": "HS-ZX",
        "name": "接口代理",
        "phone": "13611112222",
        "kind": "cadre",
        "username": "proxy_api",
        "password": "guanai-demo",
        "declared": True,
        "declared_on": TODAY().isoformat(),
    }
    return body | changes


@pytest.mark.parametrize(
    "role, status",
    [
        ("zx_leader", 201),
        ("town", 201),
        ("zx_teacher31", 403),
        ("inspector", 403),
        ("bq_leader", 404),
        ("proxy_wang", 404),
    ],
)
def test_api_create_scope(users, cast, role, status):
    resp = api(users[role]).post(API, api_body(), content_type="application/json")
    assert resp.status_code == status, resp.content
    if status == 201:
        assert resp.json()["username"] == "proxy_api"
        assert RoleAssignment.objects.filter(user__username="proxy_api", role="proxy_parent")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"declared": False}, "declared"),
        ({"declared_on": "2026-13-01"}, "declared_on"),
        ({"phone": "123"}, "phone"),
        ({"kind": "boss"}, "kind"),
        ({"name": ""}, "name"),
        ({"password": ""}, "password"),
        ({"extra": 1}, "extra"),
    ],
)
def test_api_create_bad_body_names_the_field(users, cast, changes, field):
    resp = api(users["zx_leader"]).post(API, api_body(**changes), content_type="application/json")
    assert resp.status_code == 422, resp.content
    assert field in {d["field"] for d in resp.json()["detail"]}
    assert not ProxyParent.objects.exists()


def test_api_assignments(users, cast, proxies, settings):
    li = proxies["li"]
    url = f"{API}/{li.pk}/assignments"
    leader = api(users["zx_leader"])
    body = {"child": cast["children"]["c31a"].pk, "valid_from": TODAY().isoformat()}
    assert (
        api(users["bq_leader"]).post(url, body, content_type="application/json").status_code == 404
    )
    assert (
        api(users["zx_teacher31"]).post(url, body, content_type="application/json").status_code
        == 403
    )
    assert (
        api(users["inspector"]).post(url, body, content_type="application/json").status_code == 403
    )
    outside = body | {"child": cast["children"]["bq31a"].pk}
    assert leader.post(url, outside, content_type="application/json").status_code == 404
    resp = leader.post(url, body, content_type="application/json")
    assert resp.status_code == 201
    assert (resp.json()["child_name"], resp.json()["current"]) == ("张三", True)
    again = leader.post(url, body, content_type="application/json")
    assert again.status_code == 422 and again.json()["detail"][0]["field"] == "child"
    for bad in ({}, {"child": "x"}, body | {"valid_from": "x"}, body | {"extra": 1}):
        assert leader.post(url, bad, content_type="application/json").status_code == 422
    listed = api(users["zx_teacher31"]).get(url).json()
    assert [i["child_name"] for i in listed["items"]] == ["张三"]
    assert api(users["bq_leader"]).get(url).status_code == 404
    aid = resp.json()["id"]
    assert api(users["zx_teacher31"]).post(f"{url}/{aid}/end").status_code == 403
    ended = leader.post(f"{url}/{aid}/end")
    assert ended.status_code == 200 and ended.json()["current"] is False
    assert leader.post(f"{url}/{aid}/end").status_code == 422
    assert leader.post(f"{API}/{proxies['zhao'].pk}/assignments/{aid}/end").status_code == 404


def test_api_suggestions(users, cast, proxies):
    kid = cast["children"]["c32a"]
    resp = api(users["zx_leader"]).get(f"{API}/suggestions", {"child": kid.pk})
    assert [p["name"] for p in resp.json()] == ["李阿姨"]
    assert api(users["bq_leader"]).get(f"{API}/suggestions", {"child": kid.pk}).status_code == 404
    assert api(users["zx_leader"]).get(f"{API}/suggestions", {"child": "x"}).status_code == 422


def test_register_mine_shows_the_proxies_of_my_children(client, users, cast, proxies):
    assign_child(
        proxy=proxies["li"],
        child=cast["children"]["c32a"],
        valid_from=TODAY(),
        valid_to=None,
        by=None,
    )
    client.force_login(users["zx_teacher31"])
    mine = client.get(reverse("pairing:proxies"), {"mine": "1"}).context["page"].object_list
    assert list(mine) == []  # 李四 is in 三年级(2)班, not hers
    Child.objects.filter(pk=cast["children"]["c32a"].pk).update(
        responsible_teacher=users["zx_teacher31"]
    )
    mine = client.get(reverse("pairing:proxies"), {"mine": "1"}).context["page"].object_list
    assert [p.name for p in mine] == ["李阿姨"]


def test_api_assignments_list_pins_its_query_count(
    users, cast, proxies, settings, django_assert_max_num_queries
):
    settings.GUANAI_PROXY_MAX_CHILDREN = 20
    for i in range(10):
        child = make_child(cast["classes"]["c41"], name=f"娃{i}")
        assign_child(proxy=proxies["li"], child=child, valid_from=TODAY(), valid_to=None, by=None)
    client = api(users["zx_leader"])
    url = f"{API}/{proxies['li'].pk}/assignments"
    client.get(url)
    with django_assert_max_num_queries(9):
        assert client.get(url).json()["count"] == 10
