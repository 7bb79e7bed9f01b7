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
