"""Town administrators manage schools, classes, users and role assignments in pages."""

import datetime as dt

from django.urls import reverse

from guanai.accounts.models import AccessLog, RoleAssignment, User
from guanai.children.models import Child
from guanai.org.models import School, SchoolClass


def test_add_school_and_class(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.post(reverse("org:schools"), {"code": "HS-XT", "name": "新塘小学"})
    assert response.status_code == 302
    school = School.objects.get(code="HS-XT")
    assert school.town == cast["town_obj"]
    response = client.post(reverse("org:school", args=["HS-XT"]), {"grade": 2, "class_no": 1})
    assert response.status_code == 302
    assert SchoolClass.objects.filter(school=school, grade=2, class_no=1).exists()


def test_duplicate_class_is_refused_in_chinese(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.post(reverse("org:school", args=["HS-ZX"]), {"grade": 3, "class_no": 1})
    assert response.status_code == 200
    assert "该班级已存在" in response.content.decode()


def test_bad_class_number_is_refused(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.post(reverse("org:school", args=["HS-ZX"]), {"grade": 3, "class_no": 0})
    assert response.status_code == 200
    assert not SchoolClass.objects.filter(class_no=0).exists()


def test_create_user_with_class_teacher_role_gives_scope(client, cast):
    client.force_login(cast["users"]["town"])
    c32 = cast["classes"]["c32"]
    response = client.post(
        reverse("accounts:user_new"),
        {
            "username": "zx_teacher32",
            "display_name": "李老师",
            "password": "s3cret-pass",
            "is_active": "on",
            "role": "class_teacher",
            "school_class": c32.pk,
            "valid_from": "2026-09-01",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="zx_teacher32")
    assert set(Child.objects.visible_to(user).values_list("name", flat=True)) == {"李四"}


def test_adding_a_role_widens_scope(client, cast):
    client.force_login(cast["users"]["town"])
    teacher = cast["users"]["zx_teacher31"]
    response = client.post(
        reverse("accounts:role_add", args=[teacher.pk]),
        {
            "role": "class_teacher",
            "school_class": cast["classes"]["c32"].pk,
            "valid_from": "2026-09-01",
        },
    )
    assert response.status_code == 302
    teacher = User.objects.get(pk=teacher.pk)
    assert "李四" in set(Child.objects.visible_to(teacher).values_list("name", flat=True))


def test_role_without_unit_is_refused(client, cast):
    client.force_login(cast["users"]["town"])
    user = cast["users"]["proxy_wang"]
    response = client.post(
        reverse("accounts:role_add", args=[user.pk]),
        {"role": "grade_leader", "school": cast["schools"]["zx"].pk, "valid_from": "2026-09-01"},
    )
    assert response.status_code == 422
    assert "年级" in response.content.decode()
    response = client.post(
        reverse("accounts:role_add", args=[user.pk]),
        {"role": "class_teacher", "valid_from": "2026-09-01", "valid_to": "2026-01-01"},
    )
    assert response.status_code == 422


def test_ending_a_role_keeps_the_row_and_removes_scope(client, cast):
    client.force_login(cast["users"]["town"])
    teacher = cast["users"]["zx_teacher31"]
    ra = teacher.role_assignments.get()
    ra.valid_from = dt.date(2025, 9, 1)
    ra.save()
    response = client.post(reverse("accounts:role_end", args=[teacher.pk, ra.pk]))
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(pk=ra.pk).exists()
    teacher = User.objects.get(pk=teacher.pk)
    assert (
        not Child.objects.visible_to(teacher)
        .filter(school_class__class_no=1, school_class__grade=3)
        .exclude(responsible_teacher=teacher)
        .exists()
    )


def test_new_user_needs_password(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.post(reverse("accounts:user_new"), {"username": "nopass"})
    assert response.status_code == 200
    assert "初始密码" in response.content.decode()


def test_access_log_lists_and_filters(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    client.get(reverse("children:detail", args=[child.pk]), {"show_id": "1"})
    client.force_login(cast["users"]["zx_leader"])
    client.get(reverse("children:detail", args=[child.pk]), {"show_id": "1"})
    # each card view: the full ID number, and the phones the card shows in full
    assert AccessLog.objects.count() == 4
    client.force_login(cast["users"]["town"])
    page = client.get(reverse("accounts:access_log"), {"user": "zx_teacher31"}).context["page"]
    assert [log.username for log in page.object_list] == ["zx_teacher31"] * 2
    page = client.get(reverse("accounts:access_log"), {"child": "张三"}).context["page"]
    assert len(page.object_list) == 4
    response = client.get(reverse("accounts:access_log"), {"since": "昨天"})
    body = response.content.decode()
    assert response.status_code == 200 and "起始日期" in body and "未按此日期筛选" in body
