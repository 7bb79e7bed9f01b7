"""动态管理 pages: transfer, roll-over (preview, job, result), counts on a date; scope and bad
input."""

import datetime as dt

import pytest
from django.urls import reverse

from guanai.children.models import Child
from guanai.jobs.models import Job
from guanai.screening.models import Rollover, Transition
from guanai.testing import SUITE_TODAY, make_class

ALL = [
    "town",
    "inspector",
    "zx_leader",
    "zx_grade3",
    "zx_teacher31",
    "zx_counselor",
    "bq_leader",
    "proxy_wang",
]
MANAGERS = {"town", "zx_leader", "bq_leader"}
TODAY = SUITE_TODAY


def test_leader_transfers_a_child_on_the_page(client, cast, users, kids):
    client.force_login(users["zx_leader"])
    found = client.get(reverse("screening:transfers"), {"q": "张三"}).content.decode()
    assert "办理转学" in found
    url = reverse("screening:transfer", args=[kids["c31a"].pk])
    page = client.get(url).content.decode()
    assert "板桥小学" in page and "虎山镇中心小学 三年级(2)班" not in page  # other schools only
    response = client.post(
        url,
        {
            "destination": "town",
            "to_class": cast["classes"]["bq31"].pk,
            "on": TODAY.isoformat(),
            "reason": "随父母返乡就近入学",
        },
    )
    assert response.status_code == 302
    child = Child.objects.get(pk=kids["c31a"].pk)
    assert child.school == cast["schools"]["bq"]
    listing = client.get(reverse("screening:transfers")).content.decode()
    assert "随父母返乡就近入学" in listing
    # the child has left the leader's school: no second transfer from here
    assert client.get(url).status_code == 404


def test_transfer_out_of_town_on_the_page(client, cast, users, kids):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("screening:transfer", args=[kids["c41a"].pk]),
        {
            "destination": "out",
            "on": "2026年9月1日" if TODAY >= dt.date(2026, 9, 1) else "",
            "reason": "随父母到外省就读",
        },
    )
    if TODAY >= dt.date(2026, 9, 1):
        assert response.status_code == 302
        assert Child.objects.get(pk=kids["c41a"].pk).enrolment == "transferred"
    else:
        assert response.status_code == 422


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"destination": "town", "to_class": "", "reason": "转学"}, "请选择转入的班级"),
        ({"destination": "town", "reason": ""}, "请填写转学原因"),
        ({"destination": "town", "on": "2026-02-30", "reason": "转学"}, "不存在"),
        ({"destination": "town", "on": "下周", "reason": "转学"}, "无法识别"),
        (
            {
                "destination": "town",
                "on": (TODAY + dt.timedelta(days=2)).isoformat(),
                "reason": "转学",
            },
            "不能晚于今天",
        ),
        ({"destination": "town", "to_class": "c31", "reason": "转学"}, "选择"),
    ],
)
def test_transfer_page_bad_input(client, cast, users, kids, data, message):
    client.force_login(users["zx_leader"])
    payload = {"to_class": cast["classes"]["bq31"].pk, "on": TODAY.isoformat()} | data
    if payload.get("to_class") == "c31":
        payload["to_class"] = cast["classes"]["c31"].pk  # own school: not a choice
    response = client.post(reverse("screening:transfer", args=[kids["c31a"].pk]), payload)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Transition.objects.exists()


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("kid", ["c31a", "bq31a"])
def test_transfer_pages_scope(client, cast, users, kids, role, kid):
    client.force_login(users[role])
    listing = client.get(reverse("screening:transfers")).status_code
    page = client.get(reverse("screening:transfer", args=[kids[kid].pk])).status_code
    if role == "inspector" or role not in MANAGERS:
        assert (listing, page) == (403, 403)
    else:
        allowed = role == "town" or (role == "zx_leader") == (kid == "c31a")
        assert (listing, page) == (200, 200 if allowed else 404)


def test_rollover_preview_then_job(client, cast, users, kids):
    make_class(cast["schools"]["zx"], 6, 1)
    client.force_login(users["zx_leader"])
    url = reverse("screening:rollover")
    page = client.get(url, {"school": "HS-ZX"}).content.decode()
    assert "预览" in page and "四年级" in page and "执行升级" in page
    refused = client.post(url, {"school": "HS-ZX", "top_grade": "6"})
    assert refused.status_code == 422 and "请勾选确认" in refused.content.decode()
    response = client.post(url, {"school": "HS-ZX", "top_grade": "6", "confirm": "on"})
    job = Job.objects.get(kind="school_rollover")
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.status == "succeeded" and job.result["promoted"] == 4
    rollover = Rollover.objects.get()
    detail = client.get(reverse("screening:rollover_detail", args=[rollover.pk])).content.decode()
    assert "王老师" in detail and "四年级(1)班" in detail
    assert Child.objects.get(pk=kids["c31a"].pk).school_class.grade == 4
    again = client.get(url, {"school": "HS-ZX"}).content.decode()
    assert "不能再次升级" in again and "执行升级" not in again
    twice = client.post(url, {"school": "HS-ZX", "top_grade": "6", "confirm": "on"})
    assert twice.status_code == 422 and Rollover.objects.count() == 1


def test_rollover_bad_date(client, cast, users):
    client.force_login(users["zx_leader"])
    response = client.post(
        reverse("screening:rollover"),
        {
            "school": "HS-ZX",
            "top_grade": "6",
            "confirm": "on",
            "on": (TODAY + dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 422 and "不能晚于今天" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("role", ALL)
def test_rollover_page_scope(client, cast, users, role):
    client.force_login(users[role])
    zx = client.get(reverse("screening:rollover"), {"school": "HS-ZX"}).status_code
    if role == "inspector" or role not in MANAGERS:
        assert zx == 403
    elif role == "bq_leader":
        assert zx == 404
    else:
        assert zx == 200


@pytest.mark.parametrize("role", ALL)
def test_rollover_result_scope(client, cast, users, role):
    from guanai.screening.transitions import roll_over_school

    r = roll_over_school(school=cast["schools"]["zx"], by=users["zx_leader"], on=TODAY)
    client.force_login(users[role])
    status = client.get(reverse("screening:rollover_detail", args=[r.pk])).status_code
    assert status == (
        200
        if role in {"town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}
        else 404
    )


@pytest.mark.parametrize("role", ALL)
def test_counts_page_scope(client, cast, users, role):
    from guanai.testing import VISIBLE

    client.force_login(users[role])
    body = client.get(reverse("screening:counts")).content.decode()
    zx_kids = len([k for k in VISIBLE[role] if k in ("c31a", "c31b", "c32a", "c41a")])
    if role in ("town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"):
        assert (
            f'data-school="HS-ZX"><td>虎山镇中心小学</td><td class="text-end" data-count="enrolled">{zx_kids}<'
            in body
        )
    else:
        assert "HS-ZX" not in body


def test_counts_page_bad_date(client, cast, users):
    client.force_login(users["town"])
    assert client.get(reverse("screening:counts"), {"on": "2026-13-40"}).status_code == 422
    future = (TODAY + dt.timedelta(days=5)).isoformat()
    assert client.get(reverse("screening:counts"), {"on": future}).status_code == 422
    assert client.get(reverse("screening:counts"), {"on": "2020-01-01"}).status_code == 200
