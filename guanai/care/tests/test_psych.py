"""Psychological care (issue #15, SPEC §3.8 and §4): any staff member files an observation and
reads back only 已提交; the school's counselor and leaders read observations, sessions and
questionnaire results of their school, each reading logged; nobody else reads them (403 for a
role that never may, 404 outside the reader's units)."""

import datetime as dt

import pytest
from django.urls import reverse

from guanai.accounts.models import AccessAction, AccessLog
from guanai.care import services
from guanai.care.models import Instrument, Observation, RiskLevel
from guanai.children.models import Child
from guanai.testing import SEES_PSYCH, VISIBLE

PSYCH_ROLES = {role for role, kids in SEES_PSYCH.items() if kids}
INSTRUMENT = "学生心理状况自评（简版）"


@pytest.fixture
def filed(cast):
    users, kids = cast["users"], cast["children"]
    return {
        "c31a": services.file_observation(
            child=kids["c31a"], by=users["zx_teacher31"], level="watch", what="上课常发呆，说想妈妈"
        ),
        "bq31a": services.file_observation(
            child=kids["bq31a"],
            by=users["bq_leader"],
            level="high",
            what="和同学打架后不吃饭",
            next_review_on=dt.date(2026, 12, 1),
        ),
    }


@pytest.mark.parametrize("role", list(VISIBLE))
def test_observation_list_and_one_by_the_table(client, cast, filed, role):
    client.force_login(cast["users"][role])
    listed = client.get("/api/v1/psych/observations")
    if role not in PSYCH_ROLES:
        assert listed.status_code == 403
        assert "心理辅导老师和学校领导" in listed.json()["detail"]
    else:
        names = {o["child_name"] for o in listed.json()["items"]}
        expected = {cast["children"][k].name for k in filed if k in SEES_PSYCH[role]}
        assert names == expected and listed.json()["count"] == len(expected)
    for kid, obs in filed.items():
        one = client.get(f"/api/v1/psych/observations/{obs.pk}")
        if role not in PSYCH_ROLES:
            assert one.status_code == 403
        elif kid in SEES_PSYCH[role]:
            assert one.status_code == 200 and one.json()["what"] == obs.what
            assert AccessLog.objects.filter(
                user=cast["users"][role], child=obs.child, action=AccessAction.VIEW_SENSITIVE
            ).exists()
        else:
            assert one.status_code == 404


def test_teacher_files_and_reads_back_only_submitted(client, cast):
    teacher, child = cast["users"]["zx_teacher31"], cast["children"]["c31b"]
    client.force_login(teacher)
    made = client.post(
        "/api/v1/psych/observations",
        {
            "child": child.pk,
            "level": "high",
            "what": "身上有淤青，不肯说原因",
            "referral": "counselor",
        },
        content_type="application/json",
    )
    assert made.status_code == 201
    assert made.json()["status"] == "已提交" and "what" not in made.json()
    mine = client.get("/api/v1/psych/my-observations").json()["items"]
    assert [(m["child_name"], m["status"]) for m in mine] == [(child.name, "已提交")]
    assert client.get(f"/api/v1/psych/observations/{made.json()['id']}").status_code == 403
    client.force_login(cast["users"]["zx_counselor"])
    seen = client.get(f"/api/v1/psych/observations/{made.json()['id']}").json()
    assert seen["what"] == "身上有淤青，不肯说原因" and seen["referral"] == "counselor"


@pytest.mark.parametrize(
    ("role", "kid", "status"),
    [
        ("proxy_wang", "c31a", 403),
        ("inspector", "c31a", 403),
        ("zx_teacher31", "c32a", 404),
        ("bq_leader", "c31a", 404),
        ("zx_counselor", "c31a", 201),
        ("town", "gt", 201),
    ],
)
def test_who_may_file(client, cast, role, kid, status):
    client.force_login(cast["users"][role])
    made = client.post(
        "/api/v1/psych/observations",
        {"child": cast["children"][kid].pk, "level": "watch", "what": "情绪低落"},
        content_type="application/json",
    )
    assert made.status_code == status
    assert Observation.objects.filter(child=cast["children"][kid]).exists() is (status == 201)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"level": "danger", "what": "x"}, "level", None),
        ({"level": "watch", "what": "  "}, "what", "请写下看到或听到的情况"),
        (
            {"level": "watch", "what": "x", "next_review_on": "2026-11-01"},
            "next_review_on",
            "下次回访日期不能早于今天",
        ),
        ({"level": "watch", "what": "x", "next_review_on": "明天"}, "next_review_on", None),
        ({"level": "watch", "what": "x", "referral": "police"}, "referral", None),
        ({"level": "watch"}, "what", "必填"),
    ],
)
def test_bad_observation_is_422_in_chinese(client, cast, body, field, message):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(
        "/api/v1/psych/observations",
        {"child": cast["children"]["c31a"].pk, **body},
        content_type="application/json",
    )
    assert response.status_code == 422
    detail = {d["field"]: d["msg"] for d in response.json()["detail"]}
    assert field in detail
    if message:
        assert message in detail[field]
    assert not Observation.objects.exists()


def test_counselor_session_and_caseload(client, cast, filed):
    client.force_login(cast["users"]["zx_counselor"])
    child = cast["children"]["c31a"]
    bad = client.post(
        "/api/v1/psych/sessions",
        {"child": child.pk, "notes": "谈话 30 分钟", "level": "high"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert "下次回访" in bad.json()["detail"][0]["msg"]
    ok = client.post(
        "/api/v1/psych/sessions",
        {
            "child": child.pk,
            "notes": "谈话 30 分钟",
            "level": "high",
            "next_review_on": "2026-12-03",
        },
        content_type="application/json",
    )
    assert ok.status_code == 201
    case = client.get("/api/v1/psych/caseload").json()["items"]
    assert [(c["child_name"], c["level"], c["next_review_on"]) for c in case] == [
        (child.name, "high", "2026-12-03")
    ]
    client.force_login(cast["users"]["zx_teacher31"])
    assert (
        client.post(
            "/api/v1/psych/sessions",
            {"child": child.pk, "notes": "x", "level": "watch"},
            content_type="application/json",
        ).status_code
        == 403
    )


def test_screening_needs_consent_and_scores_by_the_instrument(client, cast):
    child = cast["children"]["c31a"]
    instrument = Instrument.objects.get(name=INSTRUMENT)
    client.force_login(cast["users"]["zx_counselor"])
    body = {"child": child.pk, "instrument": instrument.pk, "answers": [0] * 10}
    refused = client.post("/api/v1/psych/screenings", body, content_type="application/json")
    assert refused.status_code == 422 and "监护人尚未同意" in refused.json()["detail"][0]["msg"]
    Child.objects.filter(pk=child.pk).update(psych_test_consent=True)
    ok = client.post("/api/v1/psych/screenings", body, content_type="application/json")
    assert ok.status_code == 201 and (ok.json()["score"], ok.json()["level"]) == (0, "normal")
    short = client.post(
        "/api/v1/psych/screenings", body | {"answers": [0] * 9}, content_type="application/json"
    )
    assert short.status_code == 422 and "全部 10 题" in short.json()["detail"][0]["msg"]
    wrong = client.post(
        "/api/v1/psych/screenings",
        body | {"answers": [4] + [0] * 9},
        content_type="application/json",
    )
    assert wrong.status_code == 422 and "第 1 题没有第 5 个选项" in wrong.json()["detail"][0]["msg"]
    critical = client.post(
        "/api/v1/psych/screenings",
        body | {"answers": [0] * 9 + [1]},
        content_type="application/json",
    )
    assert critical.json()["level"] == "high"  # self-harm item: 重点关注 whatever the total
    referred = Observation.objects.get(child=child)
    assert referred.referral == "counselor" and referred.level == "high"


@pytest.mark.parametrize(
    ("answers", "total", "level"),
    [
        ([1] * 9 + [0], 9, "normal"),
        ([1] * 8 + [2, 0], 10, "watch"),
        ([2] * 8 + [1, 0], 17, "watch"),
        ([2] * 9 + [0], 18, "high"),
        ([3] * 9 + [0], 27, "high"),
    ],
)
def test_thresholds_at_their_boundaries(db, answers, total, level):
    instrument = Instrument.objects.get(name=INSTRUMENT)
    assert services.score(instrument, answers) == (total, level)


def test_pages_caseload_record_and_flag(client, cast, filed):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    card = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'id="psych-flag"' in card and 'id="psych-record"' not in card
    assert client.get(reverse("care:caseload")).status_code == 403
    assert client.get(reverse("care:child", args=[child.pk])).status_code == 404
    bad = client.post(reverse("care:flag", args=[child.pk]), {"level": "watch", "what": ""})
    assert bad.status_code == 422 and "请写下看到或听到的情况" in bad.content.decode()
    done = client.post(
        reverse("care:flag", args=[child.pk]), {"level": "high", "what": "说不想活了"}, follow=True
    )
    assert "已提交" in done.content.decode() and "说不想活了" not in done.content.decode()
    mine = client.get(reverse("care:mine")).content.decode()
    assert child.name in mine and "已提交" in mine and "说不想活了" not in mine

    client.force_login(cast["users"]["zx_counselor"])
    card = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'id="psych-record"' in card
    caseload = client.get(reverse("care:caseload")).content.decode()
    assert child.name in caseload and "重点关注" in caseload
    before = AccessLog.objects.filter(child=child, detail="查看心理关爱记录").count()
    record = client.get(reverse("care:child", args=[child.pk])).content.decode()
    assert "说不想活了" in record and "上课常发呆" in record
    assert AccessLog.objects.filter(child=child, detail="查看心理关爱记录").count() == before + 1
    other = cast["children"]["bq31a"]
    assert client.get(reverse("care:child", args=[other.pk])).status_code == 404
    saved = client.post(
        reverse("care:child", args=[child.pk]),
        {"notes": "谈话，约定每周见面", "level": "watch", "next_review_on": "2026-12-06"},
    )
    assert saved.status_code == 302


def test_leader_home_lists_high_risk_children(client, cast, filed):
    client.force_login(cast["users"]["bq_leader"])
    home = client.get(reverse("home")).content.decode()
    assert 'id="psych-panel"' in home and cast["children"]["bq31a"].name in home
    client.force_login(cast["users"]["zx_teacher31"])
    assert 'id="psych-panel"' not in client.get(reverse("home")).content.decode()


def test_caseload_orders_high_risk_first_then_review(db, cast, filed):
    leader = cast["users"]["town"]
    services.file_observation(child=cast["children"]["gt"], by=leader, level="watch", what="x")
    cases = services.caseload(cast["users"]["bq_leader"])
    assert [c.level for c in cases] == [RiskLevel.HIGH]
