"""GET /api/v1/offline/packet and /api/v1/offline/key (issue #18): each role's own children,
only what a visit needs, never an ID number, 学籍号, health or psychology, one access-log row
per fetch; the key belongs to the login session."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.contacts.models import Contact

SECRET_WORDS = ["哮喘", "智力残疾", "情绪低落", "低保户", "心理观察"]


@pytest.fixture
def filled(cast):
    """Cards holding every sensitive field, and contacts by the teacher and by the town."""
    kids, users = cast["children"], cast["users"]
    Child.objects.filter(pk__in=[k.pk for k in kids.values()]).update(
        health="哮喘",
        disability="智力残疾",
        psych_summary="情绪低落",
        assistance="低保户",
        student_no_masked="G43112120170302****",
        address="虎山村1组12号",
    )
    now = timezone.now()
    for kid in ("c31a", "c32a"):
        Contact.objects.create(
            child=kids[kid],
            by=users["town"],
            kind="home_visit",
            at=now - dt.timedelta(days=3),
            notes="镇里的记录：离异后抑郁",
            psych_level="watch",
            psych_text="心理观察",
            follow_up_by=dt.date(2026, 12, 5),
        )
    Contact.objects.create(
        child=kids["c31a"],
        by=users["proxy_wang"],
        kind="meeting",
        at=now - dt.timedelta(days=1),
        notes="王叔叔的记录",
        follow_up_by=dt.date(2026, 12, 1),
    )
    return cast


def get(client, user):
    client.force_login(user)
    return client.get("/api/v1/offline/packet")


def names(data):
    return {c["name"] for c in data["children"]}


def assert_nothing_sensitive(data, kids):
    # The form's finding areas name "psych" as a field to fill in, not data held.
    text = json.dumps({k: v for k, v in data.items() if k != "finding_areas"}, ensure_ascii=False)
    for word in SECRET_WORDS:
        assert word not in text, word
    for key in ("id_number", "student_no", "health", "disability", "psych", "assistance"):
        assert key not in text, key
    for kid in kids.values():
        assert kid.id_number_masked[:6] not in text  # no ID number, masked or not
    assert "G431121" not in text


def test_class_teacher_gets_her_class_with_phones_and_the_notes_she_may_read(client, filled):
    kids, users = filled["children"], filled["users"]
    response = get(client, users["zx_teacher31"])
    assert response.status_code == 200
    data = response.json()
    assert names(data) == {"张三", kids["c31b"].name} and data["count"] == 2
    c31a = next(c for c in data["children"] if c["id"] == kids["c31a"].pk)
    assert c31a["class_name"] == "三年级(1)班"
    assert c31a["village"] == "虎山村" and c31a["group"] == "1组"
    assert c31a["address"] == "虎山村1组12号"
    assert c31a["guardian"] == {"name": "张奶奶", "relation": "祖母", "phone": "13912345678"}
    assert {"relation": "父亲", "name": "张父", "phone": "13812345678"} in c31a["parents"]
    # The class teacher reads the notes of her class's contacts, the latest first.
    assert [c["kind_name"] for c in c31a["last_contacts"]] == ["来校面谈", "家访"]
    assert c31a["last_contacts"][0]["notes"] == "王叔叔的记录"
    assert [f["by_date"] for f in c31a["follow_ups"]] == ["2026-12-01", "2026-12-05"]
    assert {d["rule"] for d in c31a["due"]}  # the frequency rules now due
    assert_nothing_sensitive(data, kids)
    assert [k["value"] for k in data["kinds"]][:1] == ["home_visit"]


def test_proxy_parent_gets_his_two_children_guardian_phone_only_and_his_own_notes(client, filled):
    kids, users = filled["children"], filled["users"]
    data = get(client, users["proxy_wang"]).json()
    assert names(data) == {"张三", "李四"}
    for child in data["children"]:
        assert child["parents"] == []
        assert child["guardian"]["phone"] == "13912345678"
    c31a = next(c for c in data["children"] if c["id"] == kids["c31a"].pk)
    mine, theirs = c31a["last_contacts"]
    assert mine["kind_name"] == "见面" and mine["notes"] == "王叔叔的记录" and mine["mine"]
    assert theirs["kind_name"] == "家访" and theirs["notes"] == "" and not theirs["mine"]
    # Only his own follow-up: the others' are details he does not read.
    assert [f["by_date"] for f in c31a["follow_ups"]] == ["2026-12-01"]
    assert {d["rule"] for c in data["children"] for d in c["due"]} <= {"proxy_contact"}
    assert "13812345678" not in json.dumps(data)
    assert "离异后抑郁" not in json.dumps(data, ensure_ascii=False)  # the town's notes
    assert_nothing_sensitive(data, kids)
    assert [k["value"] for k in data["kinds"]] == ["meeting", "home_visit", "phone", "video"]


def test_school_leader_without_a_class_gets_an_empty_packet(client, filled):
    data = get(client, filled["users"]["zx_leader"]).json()
    assert data["children"] == [] and data["count"] == 0


def test_responsible_teacher_gets_the_children_named_to_her(client, filled):
    kids, users = filled["children"], filled["users"]
    Child.objects.filter(pk=kids["c41a"].pk).update(responsible_teacher=users["zx_leader"])
    data = get(client, users["zx_leader"]).json()
    assert names(data) == {kids["c41a"].name}


def test_a_child_who_left_is_not_in_the_packet(client, filled):
    kids, users = filled["children"], filled["users"]
    Child.objects.filter(pk=kids["c31b"].pk).update(enrolment="transferred")
    assert names(get(client, users["zx_teacher31"]).json()) == {"张三"}


def test_inspector_is_refused_as_read_only(client, filled):
    response = get(client, filled["users"]["inspector"])
    assert response.status_code == 403
    assert "只读" in json.dumps(response.json(), ensure_ascii=False)
    client.force_login(filled["users"]["inspector"])
    assert client.get("/api/v1/offline/key").status_code == 403


def test_no_login_is_401(client, filled):
    assert client.get("/api/v1/offline/packet").status_code == 401
    assert client.get("/api/v1/offline/key").status_code == 401


def test_each_fetch_writes_one_access_log_row(client, filled):
    teacher = filled["users"]["zx_teacher31"]
    before = AccessLog.objects.count()
    get(client, teacher)
    get(client, teacher)
    rows = AccessLog.objects.order_by("pk")[before:]
    assert len(rows) == 2
    assert rows[0].user == teacher and rows[0].detail == "离线资料包：2 名儿童"


def test_the_key_holds_for_the_session_and_goes_with_logout(client, filled):
    teacher = filled["users"]["zx_teacher31"]
    client.force_login(teacher)
    first = client.get("/api/v1/offline/key").json()
    assert first["user"] == "zx_teacher31" and len(first["key"]) == 44  # 32 bytes, Base64
    assert first["idle_minutes"] == 120  # GUANAI_OFFLINE_IDLE_MINUTES, not the session's 30
    assert client.get("/api/v1/offline/key").json()["key"] == first["key"]
    client.logout()
    assert client.get("/api/v1/offline/key").status_code == 401
    client.force_login(teacher)
    assert client.get("/api/v1/offline/key").json()["key"] != first["key"]


def test_idle_limit_of_the_phone_is_its_own_setting(client, filled, settings):
    settings.GUANAI_OFFLINE_IDLE_MINUTES = 240
    client.force_login(filled["users"]["zx_teacher31"])
    assert client.get("/api/v1/offline/key").json()["idle_minutes"] == 240


def test_packet_says_which_children_may_be_photographed(client, filled):
    kids, users = filled["children"], filled["users"]
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    data = get(client, users["zx_teacher31"]).json()
    consent = {c["name"]: c["photo_consent"] for c in data["children"]}
    assert consent == {"张三": True, kids["c31b"].name: False}


def test_finding_areas_follow_the_web_form(client, filled):
    users = filled["users"]
    teacher = get(client, users["zx_teacher31"]).json()["finding_areas"]
    assert [(a["value"], a["label"]) for a in teacher] == [
        ("study", "学习"),
        ("life", "生活"),
        ("psych", "心理"),
        ("safety", "安全"),
    ]
    # A proxy parent records no psychological finding (contacts.access.logging_errors).
    proxy = get(client, users["proxy_wang"]).json()["finding_areas"]
    assert [a["label"] for a in proxy] == ["学习", "生活", "安全"]


def test_a_session_that_lost_its_csrf_cookie_gets_it_back_with_the_key(filled):
    """A phone whose CSRF cookie is gone while its session lives on (the browser cleared one
    cookie, not the other) is told so in Chinese, and the key it fetches when it comes online
    sets the cookie again, so the outbox's next POST passes."""
    from django.test import Client

    teacher, kid = filled["users"]["zx_teacher31"], filled["children"]["c31a"]
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(teacher)
    body = {
        "child": kid.pk,
        "kind": "home_visit",
        "at": "2026-11-29T09:30:00+08:00",
        "with_whom": "祖母 张奶奶",
        "notes": "奶奶身体还好",
    }
    refused = phone.post("/api/v1/contacts", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("安全校验未通过")
    assert "CSRF check Failed" not in refused.content.decode()
    assert not Contact.objects.filter(child=kid, by=teacher).exists()

    assert phone.get("/api/v1/offline/key").status_code == 200
    token = phone.cookies["csrftoken"].value
    sent = phone.post(
        "/api/v1/contacts", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert sent.status_code == 201, sent.content.decode()
    assert Contact.objects.filter(child=kid, by=teacher).count() == 1
