"""GET /api/v1/stats/summary (SPEC §6.3): counts, scope, agreement with the child list,
"as of" a past date, and bad input."""

import datetime as dt

import pytest

from guanai.children.models import Child, Enrolment
from guanai.children.services import refresh_classifications, update_child
from guanai.testing import VISIBLE, make_child, make_class

URL = "/api/v1/stats/summary"
ROLES = ["town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor", "bq_leader"]
ROLES += ["proxy_wang"]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def list_count(client, **params) -> int:
    response = client.get("/api/v1/children", {**params, "page_size": 500})
    assert response.status_code == 200, response.content
    return response.json()["count"]


def test_answers_the_contract_shape_for_the_town(client, users, kids):
    body = get(client, users["town"]).json()
    assert set(body) == {
        "as_of",
        "children",
        "by_category",
        "civil_affairs",
        "by_school",
        "by_grade",
        "by_age_band",
        "by_gender",
        "missing",
    }
    assert body["as_of"] == "2026-11-29"
    assert body["children"] == 6
    assert body["by_category"] == {"single": 1, "double": 4, "migrant": 0, "none": 1, "unknown": 0}
    assert body["civil_affairs"] == 4
    assert set(body["by_school"]) == {"HS-ZX", "HS-BQ", "HS-GT"}
    zx = body["by_school"]["HS-ZX"]
    assert set(zx) == {"children", "by_category", "civil_affairs"}
    assert zx["children"] == 4 and zx["by_category"]["double"] == 2
    assert body["by_grade"]["3"]["children"] == 4
    assert list(body["by_grade"]) == ["3", "4", "5"]
    assert set(body["by_age_band"]) == {"0-5", "6-13", "14-15", "16+", "unknown"}
    assert sum(body["by_age_band"].values()) == body["children"]
    assert body["by_age_band"]["6-13"] == 6
    assert body["by_gender"] == {"male": 5, "female": 1, "unknown": 0}
    assert body["missing"]["birth_date"] == 0
    assert "guardian_phone" in body["missing"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_counts_exactly_its_scope(client, users, kids, role):
    body = get(client, users[role]).json()
    assert body["children"] == len(VISIBLE[role])


def test_class_teacher_gets_her_class(client, users, kids):
    body = get(client, users["zx_teacher31"]).json()
    assert body["children"] == 2
    assert body["by_category"]["single"] == 1 and body["by_category"]["double"] == 1
    assert list(body["by_grade"]) == ["3"]


@pytest.mark.parametrize("role", ROLES)
def test_counts_agree_with_the_child_list_for_the_same_user(client, users, kids, role):
    # a few more shapes of card: migrant, not yet screened, a child who has left
    c41 = make_class(kids["c41a"].school, 4, 1)
    make_child(c41, name="随迁甲", is_migrant=True, **{"father.status": "home"})
    make_child(c41, name="未摸排乙", **{"mother.status": ""})
    gone = make_child(kids["c31a"].school_class, name="已转出丙")
    Child.objects.filter(pk=gone.pk).update(enrolment=Enrolment.TRANSFERRED)
    client.force_login(users[role])
    for school in (None, "HS-ZX", "HS-BQ", "NO-SUCH"):
        for grade in (None, 3, 4):
            params = {k: v for k, v in (("school", school), ("grade", grade)) if v is not None}
            body = client.get(URL, params).json()
            assert body["children"] == list_count(client, **params), (role, params)
            for cat, n in body["by_category"].items():
                assert n == list_count(client, category=cat, **params), (role, params, cat)
            assert body["civil_affairs"] == list_count(client, civil_affairs=True, **params)


def test_unknown_or_out_of_scope_school_counts_nothing_like_the_list(client, users, kids):
    for code in ("NO-SUCH", "HS-BQ"):
        body = get(client, users["zx_leader"], school=code).json()
        assert body["children"] == 0
        assert body["by_school"] == {}
        assert sum(body["by_age_band"].values()) == 0


def test_needs_a_login(client, cast):
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grade": "三"}, "grade"),
        ({"grade": "13"}, "grade"),
        ({"as_of": "2026-13-01"}, "as_of"),
        ({"as_of": "昨天"}, "as_of"),
        ({"as_of": "2026-12-01"}, "as_of"),
        ({"as_of": "1999-01-01"}, "as_of"),
    ],
)
def test_bad_grade_or_date_is_422_in_chinese(client, users, cast, params, field):
    response = get(client, users["town"], **params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["field"] for d in detail] == [field]
    label = "年级" if field == "grade" else "统计日期"
    assert detail[0]["msg"].startswith(label), detail


@pytest.mark.clock("2026-11-20 09:00")
def test_age_bands_are_whole_years_on_the_date_and_add_up(client, users, cast, clock):
    school_class = make_class(grade=9, class_no=1)
    make_child(school_class, name="今天满十六", birth=dt.date(2010, 11, 29))
    make_child(school_class, name="明天满十六", birth=dt.date(2010, 11, 30))
    make_child(school_class, name="满十四", birth=dt.date(2012, 11, 29))
    make_child(school_class, name="不满六岁", birth=dt.date(2020, 11, 30))
    clock.move_to(dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))
    refresh_classifications()  # the worker's daily re-derivation
    body = get(client, users["town"], grade=9).json()
    assert body["by_age_band"] == {"0-5": 1, "6-13": 0, "14-15": 2, "16+": 1, "unknown": 0}
    # the 民政 count stops at 16
    assert body["civil_affairs"] == 3
    earlier = get(client, users["town"], grade=9, as_of="2026-11-28").json()
    assert earlier["by_age_band"]["16+"] == 0 and earlier["by_age_band"]["14-15"] == 2


def test_missing_fields_are_counted_never_hidden(client, users, cast):
    school_class = make_class(grade=6, class_no=1)
    blank = make_child(
        school_class,
        name="空白",
        village="",
        hukou="",
        **{"guardian.name": "", "guardian.phone": "", "guardian.relation": "", "mother.status": ""},
    )
    # an old card without ID number, birth date or gender (cards created now must have an ID)
    Child.objects.filter(pk=blank.pk).update(
        id_number_enc="", id_number_hash=None, id_number_masked="", birth_date=None, gender=""
    )
    body = get(client, users["town"], grade=6).json()
    assert body["children"] == 1
    missing = body["missing"]
    assert body["by_age_band"]["unknown"] == 1 and body["by_gender"]["unknown"] == 1
    for field in (
        "id_number",
        "birth_date",
        "gender",
        "village",
        "hukou",
        "mother_status",
        "guardian",
        "guardian_phone",
        "boarding",
    ):
        assert missing[field] == 1, field
    assert missing["father_status"] == 0
    assert body["by_category"]["unknown"] == 1


@pytest.mark.clock("2026-10-08 09:00")
def test_a_past_date_counts_the_cards_as_they_stood_then(client, users, kids, clock):
    clock.move_to(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    # the father came home: 双留守 → 单留守 from 20 November
    child = kids["c32a"]
    update_child(
        child=child, data={"father.status": "home"}, version=child.version, by=users["town"]
    )
    make_child(kids["c31a"].school_class, name="新生")  # card created on 20 November
    clock.move_to(dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))

    now = get(client, users["zx_leader"]).json()
    assert now["children"] == 5
    assert now["by_category"]["single"] == 2 and now["by_category"]["double"] == 2

    then = get(client, users["zx_leader"], as_of="2026-11-01").json()
    assert then["as_of"] == "2026-11-01"
    assert then["children"] == 4
    assert then["by_category"]["single"] == 1 and then["by_category"]["double"] == 2
    assert then["missing"]["father_status"] == 0

    before = get(client, users["zx_leader"], as_of="2026-10-01").json()
    assert before["children"] == 0  # no card existed yet


@pytest.mark.clock("2026-10-08 09:00")
def test_a_past_date_keeps_to_the_users_units_on_that_day(client, users, kids, clock):
    clock.move_to(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    # 赵六 moves from 板桥 to 中心小学 (3)1 on 20 November
    child = kids["bq31a"]
    child.school = kids["c31a"].school
    child.school_class = kids["c31a"].school_class
    child._change_reason = "转入"
    child.save()
    clock.move_to(dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))
    assert get(client, users["zx_teacher31"]).json()["children"] == 3
    assert get(client, users["zx_teacher31"], as_of="2026-11-10").json()["children"] == 2
    assert get(client, users["bq_leader"], as_of="2026-11-10").json()["children"] == 1
    assert get(client, users["bq_leader"]).json()["children"] == 0
    # the proxy parent's two children, named to him since 8 October
    assert get(client, users["proxy_wang"], as_of="2026-11-10").json()["children"] == 2


@pytest.mark.clock("2026-10-08 09:00")
def test_a_town_counts_only_its_own_schools_today_and_in_the_past(client, users, kids, clock):
    from guanai.testing import make_school, make_town

    other = make_school("LS-ZX", "柳山镇中心小学", town=make_town("柳山镇"))
    make_child(make_class(other, 3, 1), name="外镇学生")
    clock.move_to(dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))
    for as_of in (None, "2026-11-01"):
        params = {"as_of": as_of} if as_of else {}
        body = get(client, users["town"], **params).json()
        assert body["children"] == 6, as_of
        assert "LS-ZX" not in body["by_school"]
    assert get(client, users["inspector"], as_of="2026-11-01").json()["children"] == 6


def test_the_route_is_described_in_openapi(client, cast):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/stats/summary" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/stats/summary"]["get"]["parameters"]}
    assert params == {"school", "grade", "as_of"}
