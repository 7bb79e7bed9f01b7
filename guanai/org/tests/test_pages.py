"""Schools and classes in the pages: rename, close and reopen, in scope only."""

import re

from django.urls import reverse

from guanai.org.models import School, SchoolClass, Town
from guanai.testing import assert_scoped, make_class


def test_add_class_form_defaults_to_first_grade(client, users):
    client.force_login(users["town"])
    html = client.get(reverse("org:school", args=["HS-ZX"])).content.decode()
    assert re.search(r'<option value="1" selected>一年级</option>', html)
    assert '<option value="0" selected>' not in html


def test_school_pages_are_scoped_to_who_manages_the_school(client, users):
    assert_scoped(
        client,
        users,
        lambda name: reverse("org:school", args=["HS-ZX"]),
        allowed={"town", "zx_leader"},
        denied={"bq_leader", "inspector", "zx_teacher31", "zx_grade3", "proxy_wang"},
    )


def test_town_and_leader_rename_a_school_others_cannot(client, users, cast):
    url = reverse("org:school_rename", args=["HS-ZX"])
    client.force_login(users["zx_leader"])
    client.post(url, {"name": " 虎山镇中心完小 "})
    assert School.objects.get(code="HS-ZX").name == "虎山镇中心完小"
    for name in ("bq_leader", "inspector", "zx_teacher31"):
        client.force_login(users[name])
        assert client.post(url, {"name": "改坏了"}).status_code == 404
    assert School.objects.get(code="HS-ZX").name == "虎山镇中心完小"


def test_rename_class_keeps_children_and_refuses_a_taken_number(client, users, cast):
    c31 = cast["classes"]["c31"]
    client.force_login(users["zx_leader"])
    response = client.post(reverse("org:class_edit", args=[c31.pk]), {"grade": 3, "class_no": 2})
    assert response.status_code == 200
    assert "虎山镇中心小学已有三年级(2)班" in response.content.decode()
    client.post(reverse("org:class_edit", args=[c31.pk]), {"grade": 3, "class_no": 5})
    c31.refresh_from_db()
    assert (c31.grade, c31.class_no) == (3, 5)
    assert c31.children.count() == 2


def test_class_edit_is_scoped(client, users, cast):
    c31 = cast["classes"]["c31"]
    assert_scoped(
        client,
        users,
        lambda name: reverse("org:class_edit", args=[c31.pk]),
        allowed={"town", "zx_leader"},
        denied={"bq_leader", "inspector", "zx_teacher31", "zx_grade3", "zx_counselor"},
    )


def test_closing_a_class_with_children_is_refused_saying_how_many(client, users, cast):
    c31 = cast["classes"]["c31"]
    client.force_login(users["zx_leader"])
    response = client.post(reverse("org:class_active", args=[c31.pk]), {"active": "0"}, follow=True)
    text = response.content.decode()
    assert "三年级(1)班还有 2 名在读学生，不能停用" in text
    assert "改为其他班级" in text
    c31.refresh_from_db()
    assert c31.active


def test_an_empty_class_is_closed_and_reopened_never_deleted(client, users, cast):
    empty = make_class(cast["schools"]["zx"], 1, 3)
    client.force_login(users["town"])
    client.post(reverse("org:class_active", args=[empty.pk]), {"active": "0"})
    empty.refresh_from_db()
    assert not empty.active
    page = client.get(reverse("org:school", args=["HS-ZX"])).content.decode()
    assert "已停用" in page
    client.post(reverse("org:class_active", args=[empty.pk]), {"active": "1"})
    empty.refresh_from_db()
    assert empty.active
    assert SchoolClass.objects.filter(pk=empty.pk).exists()


def test_closing_a_school_is_for_the_town_and_refused_with_children(client, users, cast):
    url = reverse("org:school_active", args=["HS-BQ"])
    client.force_login(users["bq_leader"])
    assert client.post(url, {"active": "0"}).status_code == 403
    client.force_login(users["town"])
    text = client.post(url, {"active": "0"}, follow=True).content.decode()
    assert "板桥小学还有 1 名在读学生，不能停用" in text
    assert School.objects.get(code="HS-BQ").active
    new = School.objects.create(code="HS-NEW", name="新建小学", town=cast["town_obj"])
    client.post(reverse("org:school_active", args=[new.code]), {"active": "0"})
    new.refresh_from_db()
    assert not new.active


def test_town_renames_its_town(client, users, cast):
    client.force_login(users["town"])
    client.post(reverse("org:town_rename", args=[cast["town_obj"].pk]), {"name": "龙山镇"})
    assert Town.objects.get(pk=cast["town_obj"].pk).name == "龙山镇"
    client.force_login(users["zx_leader"])
    response = client.post(reverse("org:town_rename", args=[cast["town_obj"].pk]), {"name": "x"})
    assert response.status_code == 403


def test_school_list_shows_names_not_codes(client, users):
    client.force_login(users["town"])
    text = client.get(reverse("org:schools")).content.decode()
    body = re.sub(r"<[^>]+>", " ", text)
    assert "虎山镇中心小学" in body and "HS-ZX" not in body


def test_duplicate_school_code_says_so_in_plain_chinese(client, users):
    client.force_login(users["town"])
    response = client.post(
        reverse("org:schools"), {"code": "HS-ZX", "name": "重复", "active": "on"}
    )
    text = response.content.decode()
    assert "已有学校的学校代码是“HS-ZX”，请换一个" in text
    assert "已存在" not in text


def test_too_long_school_name_names_the_field(client, users):
    client.force_login(users["town"])
    response = client.post(
        reverse("org:schools"), {"code": "HS-L", "name": "长" * 61, "active": "on"}
    )
    assert "学校名称最多 60 个字（现在 61 个）" in response.content.decode()
