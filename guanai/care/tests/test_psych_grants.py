"""A psychology grant opens one child's 心理关爱 record (issue #19): a teacher whose access
request a leader approved reads that child's observations, sessions and questionnaires — on the
page and in the API — for reading only and until the grant ends; every reading is logged with
the grant's reference. Another child, another section, a refused or an expired grant open
nothing. An inspector's emergency opening reads the same, logged as 紧急查看."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from guanai.accounts import access_requests as svc
from guanai.accounts.models import (
    AccessAction,
    AccessKind,
    AccessLog,
    AccessRequest,
    AccessRequestStatus,
)
from guanai.care import services
from guanai.care.models import Session

WHAT = "上课常发呆，说想妈妈"
OTHER = "和同学打架后不吃饭"
NOTES = "谈话半小时，情绪好转"


@pytest.fixture
def records(users, kids):
    counselor = users["zx_counselor"]
    return {
        "mine": services.file_observation(
            child=kids["c31a"], by=users["zx_teacher31"], level="watch", what=WHAT
        ),
        "session": services.add_session(
            child=kids["c31a"], by=counselor, notes=NOTES, level="watch"
        ),
        "other": services.file_observation(
            child=kids["c31b"], by=counselor, level="watch", what=OTHER
        ),
    }


def _grant(users, child, kind="psych", *, approve=True):
    made = svc.request_access(
        user=users["zx_teacher31"], child=child, kind=kind, reason="家访前需要了解孩子的心理状况"
    )
    note = "" if approve else "请先与心理辅导老师沟通"
    return svc.decide(request=made, by=users["zx_leader"], approve=approve, note=note)


def _page(client, child):
    return client.get(reverse("care:child", args=[child.pk]))


def test_a_granted_teacher_reads_the_childs_record_and_each_reading_is_logged(
    client, users, kids, records
):
    teacher, child = users["zx_teacher31"], kids["c31a"]
    client.force_login(teacher)
    assert _page(client, child).status_code == 404  # before any grant: nothing
    grant = _grant(users, child)

    page = _page(client, child)
    text = page.content.decode()
    assert page.status_code == 200
    assert WHAT in text and NOTES in text and OTHER not in text
    assert f"已获准查看（访问申请第 {grant.pk} 号）：只能阅读" in text
    assert "保存辅导记录" not in text  # reading only: no session form
    row = AccessLog.objects.get(user=teacher, child=child)
    assert row.action == AccessAction.VIEW_GRANTED
    assert row.detail == f"查看心理关爱记录（访问申请第 {grant.pk} 号）"
    _page(client, child)
    assert AccessLog.objects.filter(user=teacher, action=AccessAction.VIEW_GRANTED).count() == 2


def test_a_grant_never_writes_a_session(client, users, kids, records):
    child = kids["c31a"]
    _grant(users, child)
    client.force_login(users["zx_teacher31"])
    posted = client.post(
        reverse("care:child", args=[child.pk]), {"notes": "我也想记一笔", "level": "normal"}
    )
    assert posted.status_code == 403
    api = client.post(
        "/api/v1/psych/sessions",
        {"child": child.pk, "notes": "我也想记一笔", "level": "normal"},
        content_type="application/json",
    )
    assert api.status_code == 403
    # notes are encrypted at rest: compared after reading
    assert "我也想记一笔" not in [s.notes for s in Session.objects.all()]


def test_a_grant_opens_its_child_only_and_only_for_psychology(client, users, kids, records):
    # a live grant of another section (her role reads health already: made by hand)
    AccessRequest.objects.create(
        user=users["zx_teacher31"],
        child=kids["c31a"],
        school=kids["c31a"].school,
        kind=AccessKind.HEALTH,
        reason="了解健康状况",
        hours=24,
        status=AccessRequestStatus.APPROVED,
        decided_by=users["zx_leader"],
        decided_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(hours=24),
    )
    client.force_login(users["zx_teacher31"])
    assert _page(client, kids["c31a"]).status_code == 404  # not a psychology grant
    _grant(users, kids["c31a"])
    assert _page(client, kids["c31a"]).status_code == 200
    assert _page(client, kids["c31b"]).status_code == 404  # her class, but not granted
    other = client.get(f"/api/v1/psych/observations/{records['other'].pk}")
    assert other.status_code == 403
    assert client.get(f"/api/v1/psych/observations?child={kids['c31b'].pk}").status_code == 403
    assert client.get("/api/v1/psych/observations").status_code == 403  # no unit of her own


def test_a_refused_grant_opens_nothing(client, users, kids, records):
    _grant(users, kids["c31a"], approve=False)
    client.force_login(users["zx_teacher31"])
    assert _page(client, kids["c31a"]).status_code == 404
    assert client.get(f"/api/v1/psych/observations/{records['mine'].pk}").status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.VIEW_GRANTED).exists()


def test_an_expired_grant_opens_nothing(client, users, kids, records, clock):
    grant = _grant(users, kids["c31a"])
    client.force_login(users["zx_teacher31"])
    clock.move_to(grant.expires_at)
    client.force_login(users["zx_teacher31"])
    assert _page(client, kids["c31a"]).status_code == 404
    listed = client.get(f"/api/v1/psych/observations?child={kids['c31a'].pk}")
    assert listed.status_code == 403


def test_the_api_reads_the_granted_child_and_logs_each_reading(client, users, kids, records):
    teacher, child = users["zx_teacher31"], kids["c31a"]
    grant = _grant(users, child)
    client.force_login(teacher)
    listed = client.get(f"/api/v1/psych/observations?child={child.pk}")
    assert listed.status_code == 200
    assert [o["what"] for o in listed.json()["items"]] == [WHAT]
    sessions = client.get(f"/api/v1/psych/sessions?child={child.pk}").json()["items"]
    assert [s["notes"] for s in sessions] == [NOTES]
    assert client.get(f"/api/v1/psych/screenings?child={child.pk}").json()["count"] == 0
    one = client.get(f"/api/v1/psych/observations/{records['mine'].pk}")
    assert one.status_code == 200 and one.json()["what"] == WHAT
    details = list(
        AccessLog.objects.filter(user=teacher, child=child)
        .order_by("id")
        .values_list("action", "detail")
    )
    ref = f"访问申请第 {grant.pk} 号"
    assert details == [
        (AccessAction.VIEW_GRANTED, f"查看心理记录：心理观察（{ref}）"),
        (AccessAction.VIEW_GRANTED, f"查看心理记录：辅导记录（{ref}）"),
        (AccessAction.VIEW_GRANTED, f"查看心理记录：心理测评（{ref}）"),
        (AccessAction.VIEW_GRANTED, f"查看心理记录：心理观察（{ref}）"),
    ]


def test_an_emergency_opening_reads_the_record_logged_as_emergency(client, users, kids, records):
    inspector, child = users["inspector"], kids["c31a"]
    client.force_login(inspector)
    assert _page(client, child).status_code == 404
    assert client.get(f"/api/v1/psych/observations?child={child.pk}").status_code == 403
    grant = svc.break_glass(user=inspector, child=child, reason="督导检查中发现孩子情绪异常")
    client.force_login(inspector)
    text = _page(client, child).content.decode()
    assert WHAT in text and f"紧急查看中（紧急查看第 {grant.pk} 号）" in text
    listed = client.get(f"/api/v1/psych/observations?child={child.pk}")
    assert [o["what"] for o in listed.json()["items"]] == [WHAT]
    readings = AccessLog.objects.filter(user=inspector, child=child, detail__contains="心理")
    assert [r.action for r in readings] == [AccessAction.EMERGENCY] * 2
    assert all(f"紧急查看第 {grant.pk} 号" in r.detail for r in readings)
    assert _page(client, kids["bq31a"]).status_code == 404  # another child: nothing


def test_a_reader_by_role_is_logged_as_before_even_with_a_grant_elsewhere(
    client, users, kids, records
):
    client.force_login(users["zx_counselor"])
    assert _page(client, kids["c31a"]).status_code == 200
    row = AccessLog.objects.get(user=users["zx_counselor"])
    assert (row.action, row.detail) == (AccessAction.VIEW_SENSITIVE, "查看心理关爱记录")
