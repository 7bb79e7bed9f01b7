"""独居 / 脱离监护 alerts computed from the card, listed to the school's leaders and the town,
resolved with what was done."""

import datetime as dt

import pytest
from django.utils import timezone

from guanai.children.models import Guardian, Parent
from guanai.protection.alerts import REASONS, alert_for
from guanai.testing import make_child

from .conftest import client_for

URL = "/api/v1/alerts"


@pytest.fixture
def alone(cast):
    """张独 of HS-ZX 3-1: both parents away, no guardian on the card."""
    child = make_child(cast["classes"]["c31"], name="张独", birth=dt.date(2016, 9, 1))
    Guardian.objects.filter(child=child).delete()
    return child


def test_rules(cast, kids, alone):
    c31 = cast["classes"]["c31"]
    assert alert_for(alone) == "none"
    assert alert_for(kids["c31a"]) is None  # grandmother at home
    assert alert_for(kids["c31b"]) is None  # father at home
    minor = make_child(c31, name="小监护", **{"guardian.age": "15", "guardian.relation": "哥哥"})
    assert alert_for(minor) == "minor"
    weak = make_child(c31, name="弱监护")
    Guardian.objects.filter(child=weak).update(capacity="poor")
    assert alert_for(weak) == "incapable"
    parent = make_child(c31, name="父监护", **{"guardian.relation": "母亲"})
    assert alert_for(parent) == "away_parent"
    unknown = make_child(c31, name="未摸排", **{"mother.status": ""})
    Guardian.objects.filter(child=unknown).delete()
    assert alert_for(unknown) is None  # not screened yet: nothing to say


@pytest.mark.clock("2032-09-01")
def test_a_sixteenth_birthday_ends_the_alert(alone):
    assert alert_for(alone) is None
    assert alert_for(alone, today=dt.date(2032, 8, 31)) == "none"


@pytest.mark.parametrize(
    "login, status, count",
    [
        ("town", 200, 1),
        ("zx_leader", 200, 1),
        ("bq_leader", 200, 0),
        ("inspector", 403, 0),
        ("zx_grade3", 403, 0),
        ("zx_teacher31", 403, 0),
        ("zx_counselor", 403, 0),
        ("zx_subject", 403, 0),
        ("proxy_wang", 403, 0),
    ],
)
def test_who_reads_alerts(staff, alone, login, status, count):
    r = client_for(staff[login]).get(URL)
    assert r.status_code == status
    if status == 200:
        assert r.json()["count"] == count
        if count:
            assert r.json()["items"][0]["reason_label"] == REASONS["none"]


def test_resolve_until_the_facts_change(staff, alone):
    Parent.objects.filter(child=alone).update(updated_at=timezone.now() - dt.timedelta(days=3))
    leader = client_for(staff["zx_leader"])
    r = leader.post(f"{URL}/{alone.pk}/resolve", {"action": " "}, content_type="application/json")
    assert r.json()["detail"][0]["msg"] == "采取的措施不能为空"
    r = leader.post(
        f"{URL}/{alone.pk}/resolve",
        {"action": "已联系村儿童主任，孩子暂住姑姑家"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["resolved_by"] == "刘校长"
    assert leader.get(URL).json()["count"] == 0
    assert leader.get(URL + "/resolved").json()["count"] == 1
    again = leader.post(
        f"{URL}/{alone.pk}/resolve", {"action": "x"}, content_type="application/json"
    )
    assert again.status_code == 404
    Parent.objects.get(child=alone, relation="father").save()  # the father's facts edited
    assert leader.get(URL).json()["count"] == 1


@pytest.mark.parametrize("login, status", [("bq_leader", 404), ("zx_teacher31", 403)])
def test_resolving_outside_scope(staff, alone, login, status):
    r = client_for(staff[login]).post(
        f"{URL}/{alone.pk}/resolve", {"action": ""}, content_type="application/json"
    )
    assert r.status_code == status
