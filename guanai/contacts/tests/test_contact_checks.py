"""What a logged contact must hold (page and API alike): a home visit, a call or a video call
says whom it reached and what was found or said; no contact is later than now (a follow-up
date, a plan, may be)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from guanai.contacts.models import Contact

from .test_pages import form_data

URL = "/api/v1/contacts"
NOW = dt.datetime(2026, 11, 29, 10, 0)  # the suite's clock, Shanghai


def api_body(child, **over):
    data = {
        "child": child.pk,
        "kind": "home_visit",
        "at": "2026-11-28T15:30:00",
        "with_whom": "祖母 张奶奶",
        "notes": "",
        "findings": {"study": {"level": "normal", "text": ""}},
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def post(client, data):
    return client.post(URL, data, content_type="application/json")


def fields(response) -> dict[str, str]:
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


@pytest.fixture
def teacher(client, users):
    client.force_login(users["zx_teacher31"])
    return users["zx_teacher31"]


@pytest.mark.parametrize("kind", ["home_visit", "phone", "video"])
def test_an_empty_visit_or_call_is_refused_naming_the_fields(client, teacher, kids, kind):
    response = post(client, api_body(kids["c31a"], kind=kind, with_whom="", findings={}))
    assert response.status_code == 422
    got = fields(response)
    assert "请填写见到或联系了谁" in got["with_whom"]
    assert "请至少记下一个方面的情况（学习、生活、心理、安全），或填写情况记录" in got["notes"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "over",
    [
        {"findings": {"safety": {"level": "watch"}}},  # a level alone is a finding
        {"findings": {"life": {"text": "奶奶腿脚不便"}}},
        {"findings": {}, "notes": "电话没人接，明天再打"},
    ],
)
def test_a_visit_with_one_finding_or_a_note_is_saved(client, teacher, kids, over):
    assert post(client, api_body(kids["c31a"], **over)).status_code == 201


def test_a_letter_or_a_meeting_need_not_say_more(client, teacher, kids):
    for kind in ("letter", "meeting", "message", "family_call"):
        response = post(client, api_body(kids["c31a"], kind=kind, with_whom="", findings={}))
        assert response.status_code == 201, (kind, response.content)


def test_the_page_refuses_an_empty_visit_at_the_fields(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    empty = {"with_whom": "", "study_level": "", "study_text": "", "safety_level": ""}
    empty |= {"safety_text": "", "notes": ""}
    response = client.post(reverse("contacts:new"), form_data(cast["children"]["c31a"], **empty))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "请填写见到或联系了谁" in errors["with_whom"][0]
    assert "请至少记下一个方面的情况" in errors["notes"][0]
    html = response.content.decode()
    assert "请填写见到或联系了谁" in html and "请至少记下一个方面的情况" in html
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("at", "saved"),
    [
        ("2026-11-29T09:59:00", True),
        ("2026-11-29T10:00:00", True),
        ("2026-11-29T10:04:00", True),  # a clock a few minutes ahead
        ("2026-11-29T11:00:00", False),  # later today: not yet happened
        ("2026-11-30T09:00:00", False),
    ],
)
def test_a_contact_later_than_now_is_refused(client, teacher, kids, at, saved):
    response = post(client, api_body(kids["c31a"], at=at, notes="见到奶奶"))
    assert response.status_code == (201 if saved else 422), response.content
    if not saved:
        message = fields(response)["at"]
        assert message.startswith("联系时间不能晚于现在（2026-11-29 10:0"), message


def test_the_page_refuses_a_time_later_today(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    later = (timezone.localtime() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("contacts:new"), form_data(cast["children"]["c31a"], at=later))
    assert response.status_code == 200
    [message] = response.context["form"].errors["at"]
    assert message.startswith("联系时间不能晚于现在（2026-11-29 10:0"), message
    assert not Contact.objects.exists()


def test_a_follow_up_date_may_be_in_the_future(client, teacher, kids):
    response = post(client, api_body(kids["c31a"], notes="x", follow_up_by="2026-12-20"))
    assert response.status_code == 201
