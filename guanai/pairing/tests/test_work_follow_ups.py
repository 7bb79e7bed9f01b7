"""我的待办 lists the follow-ups promised on visits and calls (待跟进), the overdue marked."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from guanai.contacts.models import Contact


def _follow_up(child, by, *, days: int) -> Contact:
    return Contact.objects.create(
        child=child,
        kind="phone",
        at=timezone.now() - dt.timedelta(days=10),
        by=by,
        with_whom="奶奶",
        notes="奶奶腿疼，下周再问",
        follow_up_by=timezone.localdate() + dt.timedelta(days=days),
    )


def test_my_to_do_lists_overdue_follow_ups(client, users, kids):
    teacher = users["zx_teacher31"]
    _follow_up(kids["c31a"], teacher, days=-3)
    _follow_up(kids["c31b"], teacher, days=5)
    done = _follow_up(kids["c31b"], teacher, days=-1)
    done.follow_up_done_at = timezone.now()
    done.save()
    client.force_login(teacher)
    response = client.get(reverse("pairing:work"))
    page = response.content.decode()
    assert '<div class="num" data-count="follow_ups">2</div>' in page
    assert "已逾期 1" in page and "待跟进（2）" in page
    assert [c.child.name for c in response.context["follow_ups"]] == ["张三", "单小明"]


def test_a_leader_sees_a_teachers_follow_ups_in_her_to_do(client, users, kids):
    teacher = users["zx_teacher31"]
    _follow_up(kids["c31a"], teacher, days=-3)
    client.force_login(users["zx_grade3"])
    response = client.get(reverse("pairing:person_work", args=[teacher.pk]))
    assert response.status_code == 200
    assert [c.child.name for c in response.context["follow_ups"]] == ["张三"]
