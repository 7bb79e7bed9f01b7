"""Who inspects and which inspection a re-inspection follows, chosen in the pages (by name) and
the API; the detail page's comparison with the earlier inspection; the meeting record; and the
inspector, who writes inspections but never a card (SPEC §6.4)."""

import datetime as dt

import pytest

from guanai.accounts.models import Role
from guanai.children.models import Child
from guanai.inspections import findings, rectifications, services
from guanai.inspections.models import Inspection
from guanai.lib.errors import Invalid
from guanai.testing import make_school, make_town, make_user

from .conftest import client_for

J = "application/json"


@pytest.fixture
def team(bq):
    users = dict(bq["users"])
    users["inspector2"] = make_user(
        "inspector2", Role.INSPECTOR, town=bq["school"].town, display_name="钱督导"
    )
    other = make_town("龙潭镇")
    users["lt_inspector"] = make_user(
        "lt_inspector", Role.INSPECTOR, town=other, display_name="龙潭督导"
    )
    users["lt_leader"] = make_user(
        "lt_leader",
        Role.SCHOOL_LEADER,
        school=make_school("LT-ZX", "龙潭镇中心小学", town=other),
        display_name="龙潭校长",
    )
    users["bq_teacher"] = make_user(
        "bq_teacher",
        Role.CLASS_TEACHER,
        school=bq["school"],
        school_class=bq["kids"]["bq31a"].school_class,
        display_name="板桥班主任",
    )
    return users


def plan(school, by, **kw) -> Inspection:
    return services.create_inspection(
        school=school, planned_on=dt.date(2026, 12, 10), sample_size=4, seed="复查", by=by, **kw
    )


# --- the new-inspection page ----------------------------------------------------------------------


def test_the_page_offers_the_towns_inspectors_by_name_and_the_earlier_inspections(bq, team):
    first = plan(bq["school"], team["town"])
    html = client_for(team["town"]).get("/inspections/new/").content.decode()
    assert "镇管理员" in html and "督导员" in html and "钱督导" in html
    assert "龙潭督导" not in html and "赵校长" not in html  # another town; school staff
    assert "板桥小学 2026-12-10（进行中）" in html or "板桥小学 2026-12-10（计划中）" in html
    assert f">{team['inspector2'].pk}<" not in html and "inspector2" not in html  # no id, login
    r = client_for(team["town"]).post(
        "/inspections/new/",
        {
            "school": bq["school"].pk,
            "planned_on": "2027-03-10",
            "sample_size": "3",
            "inspectors": [team["inspector"].pk, team["inspector2"].pk],
            "previous": first.pk,
        },
    )
    assert r.status_code == 302
    second = Inspection.objects.latest("id")
    assert set(second.inspectors.all()) == {team["inspector"], team["inspector2"]}
    assert second.previous == first
    html = client_for(team["inspector"]).get(f"/inspections/{second.pk}/").content.decode()
    assert "督导员、钱督导" in html or "钱督导、督导员" in html
    assert f'href="/inspections/{first.pk}/"' in html


def test_nobody_chosen_means_the_one_who_plans_it(bq, team):
    client_for(team["inspector"]).post(
        "/inspections/new/",
        {"school": bq["school"].pk, "planned_on": "2026-12-10", "sample_size": "3"},
    )
    assert list(Inspection.objects.get().inspectors.all()) == [team["inspector"]]


def test_an_inspector_of_another_town_or_a_school_leader_is_refused(bq, team):
    for who in ("lt_inspector", "bq_leader"):
        r = client_for(team["town"]).post(
            "/inspections/new/",
            {
                "school": bq["school"].pk,
                "planned_on": "2026-12-10",
                "sample_size": "3",
                "inspectors": [team[who].pk],
            },
        )
        assert r.status_code == 200 and "所选检查人员不在可选范围内" in r.content.decode()
    with pytest.raises(Invalid) as exc:
        plan(bq["school"], team["town"], inspectors=[team["lt_inspector"]])
    assert "龙潭督导 不是本镇的镇管理员或督导员" in exc.value.errors["inspectors"]
    assert not Inspection.objects.exists()


def test_the_earlier_inspection_must_be_of_the_same_school(bq, team, cast):
    zx = plan(cast["schools"]["zx"], team["town"])
    r = client_for(team["town"]).post(
        "/inspections/new/",
        {
            "school": bq["school"].pk,
            "planned_on": "2026-12-10",
            "sample_size": "3",
            "previous": zx.pk,
        },
    )
    assert r.status_code == 200 and "上次检查应为同一所学校的检查" in r.content.decode()
    assert Inspection.objects.count() == 1


# --- the edit page --------------------------------------------------------------------------------


def test_the_edit_page_changes_the_team_and_the_earlier_inspection(bq, team):
    first = plan(bq["school"], team["town"])
    second = plan(bq["school"], team["town"])
    c = client_for(team["inspector"])
    html = c.get(f"/inspections/{second.pk}/edit/").content.decode()
    assert "钱督导" in html and "板桥小学 2026-12-10" in html
    r = c.post(
        f"/inspections/{second.pk}/edit/",
        {
            "planned_on": "2026-12-12",
            "inspectors": [team["inspector2"].pk],
            "previous": first.pk,
        },
    )
    assert r.status_code == 302
    second.refresh_from_db()
    assert second.planned_on == dt.date(2026, 12, 12) and second.previous == first
    assert list(second.inspectors.all()) == [team["inspector2"]]
    assert second.sample == plan(bq["school"], None).sample  # the sample is never redrawn
    # itself, or a later one, is not an earlier inspection: not offered
    r = c.post(
        f"/inspections/{first.pk}/edit/", {"planned_on": "2026-12-10", "previous": second.pk}
    )
    assert r.status_code == 200 and "所选上次检查（复查时选择）不在可选范围内" in r.content.decode()
    with pytest.raises(Invalid, match="previous"):
        services.update_inspection(inspection=first, previous=first, by=None)


@pytest.mark.parametrize(
    "who, status",
    [
        ("town", 200),
        ("inspector", 200),
        ("bq_leader", 403),
        ("bq_teacher", 404),
        ("zx_leader", 404),
        ("lt_inspector", 404),
        ("lt_leader", 404),
    ],
)
def test_edit_page_scope(bq, team, who, status):
    insp = plan(bq["school"], team["town"])
    c = client_for(team[who])
    assert c.get(f"/inspections/{insp.pk}/edit/").status_code == status
    r = c.post(f"/inspections/{insp.pk}/edit/", {"planned_on": "2027-01-01"})
    assert r.status_code == (302 if status == 200 else status)
    insp.refresh_from_db()
    assert (insp.planned_on == dt.date(2027, 1, 1)) is (status == 200)


def test_a_closed_inspection_is_not_edited(bq, team):
    insp = plan(bq["school"], team["town"])
    for to in ("in_progress", "reported", "closed"):
        services.advance(inspection=insp, to=to, by=None)
    c = client_for(team["town"])
    r = c.post(f"/inspections/{insp.pk}/edit/", {"planned_on": "2027-01-01"})
    assert "已结束的检查不能再修改" in r.content.decode()
    assert "修改检查信息" not in c.get(f"/inspections/{insp.pk}/").content.decode()


# --- what changed since the earlier inspection --------------------------------------------------


def test_the_detail_page_compares_with_the_earlier_inspection(bq, team):
    users = team
    first = plan(bq["school"], users["town"])
    services.advance(inspection=first, to="in_progress", by=None)
    kids = Child.objects.filter(pk__in=first.sample)
    for child, ok in zip(kids[:2], (True, False), strict=True):
        findings.record_finding(
            inspection=first,
            child=child,
            visited=True,
            checks=[
                {"field": "address", "correct": True},
                {"field": "guardian_phone", "correct": ok, "found": "" if ok else "13700001111"},
            ],
            by=users["town"],
        )
    for title in ("补齐家访记录", "完善台账"):
        rectifications.raise_item(
            inspection=first,
            school=bq["school"],
            title=title,
            owner=users["bq_leader"],
            due_on=dt.date(2026, 12, 20),
            by=users["town"],
        )
    done = first.rectifications.get(title="完善台账")
    rectifications.mark_done(item=done, evidence="已完善", by=users["bq_leader"])
    rectifications.close_item(item=done, by=users["town"])
    second = plan(bq["school"], users["town"], previous=first)
    services.advance(inspection=second, to="in_progress", by=None)
    findings.record_finding(
        inspection=second,
        child=Child.objects.get(pk=second.sample[0]),
        visited=True,
        checks=[{"field": "address", "correct": True}],
        by=users["town"],
    )
    for who in ("inspector", "bq_leader"):
        html = client_for(users[who]).get(f"/inspections/{second.pk}/").content.decode()
        assert "复查：与上次检查比较" in html
        assert 'id="accuracy-then">75.0%' in html and 'id="accuracy-now">100.0%' in html
        assert "+25.0 个百分点" in html
        assert "补齐家访记录" in html.split('id="still-open"')[1]
        assert "完善台账" not in html.split('id="still-open"')[1].split("</ul>")[0]
    html = client_for(users["town"]).get(f"/inspections/{first.pk}/").content.decode()
    assert "复查：与上次检查比较" not in html


# --- the meeting record ---------------------------------------------------------------------------


def test_the_meeting_record_is_kept_shown_and_in_the_api(bq, team):
    insp = plan(bq["school"], team["town"])
    item = insp.checklist.first()
    client_for(team["inspector"]).post(
        f"/inspections/{insp.pk}/checklist/",
        {
            f"score_{item.pk}": "7",
            "meeting_attendees": "全体班主任 12 人",
            "meeting_points": "家访交通补助不足",
        },
    )
    html = client_for(team["bq_leader"]).get(f"/inspections/{insp.pk}/").content.decode()
    assert "全体班主任 12 人" in html and "家访交通补助不足" in html
    data = client_for(team["town"]).get(f"/api/v1/inspections/{insp.pk}").json()
    assert data["meeting_attendees"] == "全体班主任 12 人"
    r = client_for(team["town"]).patch(
        f"/api/v1/inspections/{insp.pk}", {"meeting_points": "建议增加心理老师"}, content_type=J
    )
    assert r.status_code == 200 and r.json()["meeting_points"] == "建议增加心理老师"
    assert r.json()["meeting_attendees"] == "全体班主任 12 人"  # what is not sent stays


# --- the API ----------------------------------------------------------------------------------------


def test_api_takes_and_shows_the_inspectors(bq, team):
    body = {"school": "HS-BQ", "planned_on": "2026-12-10", "sample_size": 3}
    c = client_for(team["town"])
    r = c.post(
        "/api/v1/inspections",
        {**body, "inspectors": [team["inspector"].pk, team["inspector2"].pk]},
        content_type=J,
    )
    assert r.status_code == 201
    assert {p["name"] for p in r.json()["inspectors"]} == {"督导员", "钱督导"}
    r = c.post("/api/v1/inspections", body, content_type=J)
    assert [p["name"] for p in r.json()["inspectors"]] == ["镇管理员"]
    for bad, message in [
        ([team["lt_inspector"].pk], "不是本镇的镇管理员或督导员"),
        ([team["bq_leader"].pk], "不是本镇的镇管理员或督导员"),
        ([10**9], "不存在的人员"),
        ([], "请至少选择一名检查人员"),
    ]:
        r = c.post("/api/v1/inspections", {**body, "inspectors": bad}, content_type=J)
        assert r.status_code == 422, bad
        (d,) = r.json()["detail"]
        assert d["field"] == "inspectors" and message in d["msg"]
    assert Inspection.objects.count() == 2


@pytest.mark.parametrize(
    "who, status",
    [
        ("town", 200),
        ("inspector", 200),
        ("bq_leader", 403),
        ("bq_teacher", 404),
        ("zx_leader", 404),
        ("lt_inspector", 404),
        ("lt_leader", 404),
    ],
)
def test_api_patch_scope_and_bad_input(bq, team, cast, who, status):
    first = plan(bq["school"], team["town"])
    insp = plan(bq["school"], team["town"])
    c = client_for(team[who])
    url = f"/api/v1/inspections/{insp.pk}"
    r = c.patch(url, {"inspectors": [team["inspector2"].pk], "previous": first.pk}, content_type=J)
    assert r.status_code == status, r.content
    if status != 200:
        return
    assert r.json()["previous"] == first.pk
    assert [p["name"] for p in r.json()["inspectors"]] == ["钱督导"]
    zx = plan(cast["schools"]["zx"], team["town"])
    r = c.patch(url, {"previous": zx.pk}, content_type=J)
    assert r.status_code == 422 and "同一所学校" in r.json()["detail"][0]["msg"]
    r = c.patch(url, {"inspectors": [team["lt_inspector"].pk]}, content_type=J)
    assert r.status_code == 422
    r = c.patch(url, {"previous": None}, content_type=J)
    assert r.status_code == 200 and r.json()["previous"] is None


# --- the inspector writes inspections, never a card (SPEC §6.4) ----------------------------------


def test_the_inspector_never_changes_a_card(bq, team):
    """Whatever he records — a wrong phone, a wrong address — and whatever route he tries, the
    card stays as it was until the class teacher accepts the correction."""
    inspector = client_for(team["inspector"])
    r = inspector.post(
        "/api/v1/inspections",
        {"school": "HS-BQ", "planned_on": "2026-12-10", "sample_size": 2, "seed": "卡"},
        content_type=J,
    )
    insp = r.json()
    inspector.post(
        f"/api/v1/inspections/{insp['id']}/status", {"status": "in_progress"}, content_type=J
    )
    child = Child.objects.get(pk=insp["sample"][0]["child"])
    before = (child.version, child.address, child.guardian.phone, child.history.count())
    r = inspector.post(
        f"/api/v1/inspections/{insp['id']}/findings",
        {
            "child": child.pk,
            "visited": True,
            "checks": [
                {"field": "guardian_phone", "correct": False, "found": "13700001111"},
                {"field": "address", "correct": False, "found": "新村3组"},
            ],
        },
        content_type=J,
    )
    assert r.status_code == 201
    check = r.json()["checks"][0]["id"]
    # the card's own routes: refused as a read-only role
    assert (
        inspector.patch(
            f"/api/v1/children/{child.pk}",
            {"version": child.version, "address": "新村3组"},
            content_type=J,
        ).status_code
        == 403
    )
    assert inspector.get(f"/children/{child.pk}/edit/").status_code == 403
    # the corrections he proposed: only the teacher decides them
    assert (
        inspector.post(
            f"/api/v1/inspections/corrections/{check}", {"accept": True}, content_type=J
        ).status_code
        == 403
    )
    assert inspector.post(f"/inspections/corrections/{check}/", {"accept": "1"}).status_code == 404
    assert "13700001111" not in inspector.get("/inspections/corrections/").content.decode()
    child.refresh_from_db()
    child.guardian.refresh_from_db()
    assert (child.version, child.address, child.guardian.phone, child.history.count()) == before
