"""Every card route × every demo role, inside and outside the role's scope."""

import pytest
from django.urls import reverse

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.testing import EDITABLE as CAST_EDITABLE
from guanai.testing import VILLAGE_VISIBLE
from guanai.testing import VISIBLE as CAST_VISIBLE

# The school roles and the village ones (儿童主任, 儿童督导员: read and visit, never edit).
VISIBLE = CAST_VISIBLE | VILLAGE_VISIBLE
EDITABLE = CAST_EDITABLE | {role: set() for role in VILLAGE_VISIBLE}
ROLES = list(VISIBLE)
KIDS = ["c31a", "c31b", "c32a", "c41a", "bq31a", "gt"]


@pytest.mark.parametrize("role", ROLES)
def test_visible_to_matches_role_scope(cast, role):
    users, kids = cast["users"], cast["children"]
    seen = set(Child.objects.visible_to(users[role]).values_list("pk", flat=True))
    assert seen == {kids[k].pk for k in VISIBLE[role]}
    editable = set(Child.objects.visible_to(users[role], "change").values_list("pk", flat=True))
    assert editable == {kids[k].pk for k in EDITABLE[role]}


def test_anonymous_sees_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    assert not Child.objects.visible_to(AnonymousUser()).exists()


def test_unknown_action_is_a_programming_error(cast):
    with pytest.raises(ValueError):
        Child.objects.visible_to(cast["users"]["town"], "delete")


def test_ended_role_gives_no_scope(cast):
    import datetime as dt

    teacher = cast["users"]["zx_teacher31"]
    teacher.role_assignments.update(valid_to=dt.date(2020, 1, 1), valid_from=dt.date(2019, 1, 1))
    teacher._active_roles = None
    assert not Child.objects.visible_to(teacher).exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_card_page_scope(client, cast, role, kid):
    client.force_login(cast["users"][role])
    response = client.get(reverse("children:detail", args=[cast["children"][kid].pk]))
    assert response.status_code == (200 if kid in VISIBLE[role] else 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_card_api_scope(client, cast, role, kid):
    client.force_login(cast["users"][role])
    response = client.get(f"/api/v1/children/{cast['children'][kid].pk}")
    assert response.status_code == (200 if kid in VISIBLE[role] else 404)
    history = client.get(f"/api/v1/children/{cast['children'][kid].pk}/history")
    assert history.status_code == (200 if kid in VISIBLE[role] else 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", ["c31a", "c41a", "bq31a"])
def test_edit_page_scope(client, cast, role, kid):
    client.force_login(cast["users"][role])
    response = client.get(reverse("children:edit", args=[cast["children"][kid].pk]))
    if role == "inspector":
        assert response.status_code == 403  # read-only role: refused before any lookup
    elif kid not in VISIBLE[role]:
        assert response.status_code == 404
    else:  # a card one reads but may not change is refused
        assert response.status_code == (200 if kid in EDITABLE[role] else 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", ["c31a", "c41a", "bq31a"])
def test_patch_api_scope(client, cast, role, kid):
    child = cast["children"][kid]
    client.force_login(cast["users"][role])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "village": "新村"},
        content_type="application/json",
    )
    if kid not in VISIBLE[role]:
        assert response.status_code == 404
    elif kid not in EDITABLE[role]:
        assert response.status_code == 403
    else:
        assert response.status_code == 200, response.content
    child.refresh_from_db()
    assert (child.village == "新村") is (kid in EDITABLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_list_page_and_api_show_only_scope(client, cast, role):
    client.force_login(cast["users"][role])
    names = {cast["children"][k].name for k in VISIBLE[role]}
    page = client.get(reverse("children:list"))
    assert page.status_code == 200
    body = page.content.decode()
    for k in KIDS:
        assert (cast["children"][k].name in body) is (cast["children"][k].name in names)
    api = client.get("/api/v1/children").json()
    assert {item["name"] for item in api["items"]} == names
    assert api["count"] == len(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_search_never_leaks_out_of_scope(client, cast, role):
    client.force_login(cast["users"][role])
    outside = [k for k in KIDS if k not in VISIBLE[role]]
    for k in outside:
        child = cast["children"][k]
        for q in (child.name, child.id_number, child.id_number[-4:]):
            response = client.get("/api/v1/children", {"q": q})
            if q == child.id_number and not scope.acts_as(cast["users"][role], "full_id"):
                assert response.status_code == 403  # whole numbers only for full readers
                continue
            assert response.json()["count"] == sum(
                1
                for v in VISIBLE[role]
                if q
                in (
                    cast["children"][v].name,
                    cast["children"][v].id_number,
                    cast["children"][v].id_number[-4:],
                )
            )


@pytest.mark.parametrize("role", ROLES)
def test_home_counts_only_scope(client, cast, role):
    client.force_login(cast["users"][role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["total"] == len(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_only_for_town_admin(client, cast, role):
    client.force_login(cast["users"][role])
    expected = 200 if role == "town" else 403
    for name, args in (
        ("org:schools", []),
        ("accounts:users", []),
        ("accounts:access_log", []),
    ):
        assert client.get(reverse(name, args=args)).status_code == expected, name
    # a school's page (its name and classes) is for whoever manages that school
    managed = 200 if role in ("town", "bq_leader") else 404
    assert client.get(reverse("org:school", args=["HS-BQ"])).status_code == managed


@pytest.mark.parametrize("role", ROLES)
def test_create_page_only_with_classes(client, cast, role):
    client.force_login(cast["users"][role])
    response = client.get(reverse("children:create"))
    if role == "inspector":
        assert response.status_code == 403
    elif role in ("proxy_wang", "zx_counselor", *VILLAGE_VISIBLE):
        assert response.status_code == 403  # no class to add children to
    else:
        assert response.status_code == 200


def test_pages_require_login(client, cast):
    for url in (
        "/",
        "/children/",
        f"/children/{cast['children']['c31a'].pk}/",
        "/org/schools/",
        "/accounts/users/",
        "/accounts/access-log/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/api/v1/children").status_code == 401
