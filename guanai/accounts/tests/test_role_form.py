"""The role form: dates a date input accepts, Bootstrap fields, plain Chinese messages."""

import datetime as dt
import re

from django import forms
from django.urls import reverse
from django.utils import translation

from guanai.accounts.models import RoleAssignment
from guanai.testing import SUITE_TODAY, make_user


def test_every_date_input_writes_iso_dates_in_chinese():
    with translation.override("zh-hans"):
        assert forms.DateInput().format_value(dt.date(2026, 12, 5)) == "2026-12-05"
        assert forms.DateField().clean("2026/12/05") == dt.date(2026, 12, 5)
        assert forms.DateField().clean("2026年12月5日") == dt.date(2026, 12, 5)


def test_add_role_form_fills_today_as_iso_and_is_styled(client, users, cast):
    someone = make_user("li_teacher", "subject_teacher", school=cast["schools"]["zx"])
    client.force_login(users["town"])
    html = client.get(reverse("accounts:user_edit", args=[someone.pk])).content.decode()
    add_form = html[html.index('action="' + reverse("accounts:role_add", args=[someone.pk])) :]
    valid_from = re.search(r'<input[^>]*name="valid_from"[^>]*>', add_form).group(0)
    assert f'value="{SUITE_TODAY.isoformat()}"' in valid_from
    assert 'type="date"' in valid_from and "form-control" in valid_from
    assert re.search(r'<select[^>]*name="role"[^>]*class="form-select"', add_form) or re.search(
        r'<select[^>]*class="form-select"[^>]*name="role"', add_form
    )
    assert "一年级" in add_form  # the grade is picked by name, not typed as a number


def test_role_added_with_the_prefilled_date(client, users, cast):
    someone = make_user("li_teacher", "subject_teacher", school=cast["schools"]["zx"])
    client.force_login(users["town"])
    response = client.post(
        reverse("accounts:role_add", args=[someone.pk]),
        {
            "role": "grade_leader",
            "school": cast["schools"]["zx"].pk,
            "grade": "4",
            "valid_from": SUITE_TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    ra = RoleAssignment.objects.get(user=someone, role="grade_leader")
    assert (ra.role, ra.grade, ra.valid_from) == ("grade_leader", 4, SUITE_TODAY)


def test_role_form_messages_name_the_field(client, users, cast):
    someone = make_user("li_teacher", "subject_teacher", school=cast["schools"]["zx"])
    client.force_login(users["town"])
    response = client.post(
        reverse("accounts:role_add", args=[someone.pk]), {"role": "", "valid_from": "明天"}
    )
    text = response.content.decode()
    assert "请选择角色" in text
    assert "起始日期应为日期，如 2026-11-29" in text
    assert "这个字段是必填项" not in text and "输入一个有效的日期" not in text


def test_town_admin_makes_a_village_childrens_director_in_the_page(client, users, cast):
    """儿童主任 holds a village of the town (no school); the village is written as people
    write it and named with 村; without a village the form says so in Chinese."""
    someone = make_user("yang", "subject_teacher", school=cast["schools"]["zx"])
    client.force_login(users["town"])
    url = reverse("accounts:role_add", args=[someone.pk])
    base = {"role": "village_director", "valid_from": SUITE_TODAY.isoformat()}
    refused = client.post(url, base)
    assert refused.status_code == 422 and "儿童主任需要填写所在的村" in refused.content.decode()
    response = client.post(url, base | {"village": " 枫树 ", "school": cast["schools"]["zx"].pk})
    assert response.status_code == 302
    ra = RoleAssignment.objects.get(user=someone, role="village_director")
    assert (ra.village, ra.school_id, ra.town_id) == (
        "枫树村",
        None,
        users["town"].active_roles()[0].town_id,
    )
    assert ra.unit_label.endswith("枫树村")
    supervisor = client.post(
        url,
        {"role": "child_supervisor", "village": "枫树", "valid_from": SUITE_TODAY.isoformat()},
    )
    assert supervisor.status_code == 302
    assert RoleAssignment.objects.get(user=someone, role="child_supervisor").village == ""


def test_a_class_teacher_holds_no_village(client, users, cast):
    someone = make_user("li2", "subject_teacher", school=cast["schools"]["zx"])
    client.force_login(users["town"])
    klass = cast["children"]["c31a"].school_class
    client.post(
        reverse("accounts:role_add", args=[someone.pk]),
        {
            "role": "class_teacher",
            "school_class": klass.pk,
            "village": "枫树",
            "valid_from": SUITE_TODAY.isoformat(),
        },
    )
    assert RoleAssignment.objects.get(user=someone, role="class_teacher").village == ""
