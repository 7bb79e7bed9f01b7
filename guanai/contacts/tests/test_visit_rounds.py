"""普访轮次: who sees and creates rounds (API and pages), bad input, coverage at the period's
boundaries (Asia/Shanghai), the coverage page's round picker and the not-yet-visited export."""

import datetime as dt
import io

import pytest
from django.urls import reverse

from guanai.accounts.models import AccessLog
from guanai.contacts.models import VisitRound
from guanai.contacts.rounds import round_totals
from guanai.contacts.rules import term_start
from guanai.testing import SUITE_TODAY, VISIBLE

from .helpers import add_contact, at

URL = "/api/v1/visit-rounds"
ROLES = list(VISIBLE)
TODAY = SUITE_TODAY


def new_round(cast, *, school=None, name="秋季普访", since=None, until=None, **extra):
    return VisitRound.objects.create(
        town=None if school else cast["town_obj"],
        school=cast["schools"][school] if school else None,
        name=name,
        since=since or TODAY - dt.timedelta(days=30),
        until=until or TODAY + dt.timedelta(days=30),
        **extra,
    )


def post(client, **body):
    data = {"name": "2026 秋季学期普访", "since": "2026-09-01", "until": "2027-01-31", **body}
    return client.post(URL, data, content_type="application/json")


@pytest.fixture
def rounds(cast):
    return {
        "town": new_round(cast, name="全镇普访"),
        "zx": new_round(cast, school="zx", name="中心小学普访"),
        "bq": new_round(cast, school="bq", name="板桥小学普访"),
    }


# --- scope ------------------------------------------------------------------------------------------

SEES = {
    "town": {"town", "zx", "bq"},
    "inspector": {"town", "zx", "bq"},
    "zx_leader": {"town", "zx"},
    "zx_grade3": {"town", "zx"},
    "zx_teacher31": {"town", "zx"},
    "zx_counselor": {"town", "zx"},
    "bq_leader": {"town", "bq"},
    "proxy_wang": set(),  # proxy parents follow single children, not school-wide rounds
}


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_the_rounds_of_the_users_town_and_schools(client, cast, rounds, role):
    client.force_login(cast["users"][role])
    out = client.get(URL).json()
    assert {i["id"] for i in out["items"]} == {rounds[k].pk for k in SEES[role]}
    assert out["count"] == len(SEES[role])
    page = client.get(reverse("contacts:rounds"))
    assert page.status_code == 200
    assert {r.pk for r in page.context["page"]} == {rounds[k].pk for k in SEES[role]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["town", "zx", "bq"])
def test_coverage_scope(client, cast, rounds, role, which):
    client.force_login(cast["users"][role])
    response = client.get(f"{URL}/{rounds[which].pk}/coverage")
    assert response.status_code == (200 if which in SEES[role] else 404)
    page = client.get(reverse("contacts:coverage"), {"round": rounds[which].pk})
    assert page.status_code == (200 if which in SEES[role] else 404)


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        ("town", {}, 201),
        ("town", {"school": "HS-BQ"}, 201),
        ("zx_leader", {"school": "HS-ZX"}, 201),
        ("zx_leader", {}, 403),  # a town round is the town administrator's
        ("bq_leader", {"school": "HS-ZX"}, 404),  # another school: not even found
        ("zx_teacher31", {"school": "HS-ZX"}, 403),
        ("zx_teacher31", {}, 403),
        ("zx_grade3", {"school": "HS-ZX"}, 403),
        ("zx_counselor", {"school": "HS-ZX"}, 403),
        ("inspector", {}, 403),
        ("inspector", {"school": "HS-ZX"}, 403),
        ("proxy_wang", {}, 403),
        ("proxy_wang", {"school": "HS-ZX"}, 404),
    ],
)
def test_who_may_create_a_round(client, cast, role, body, status):
    client.force_login(cast["users"][role])
    response = post(client, **body)
    assert response.status_code == status, response.content
    assert VisitRound.objects.count() == (1 if status == 201 else 0)


def test_created_round_belongs_to_the_town_or_the_school(client, cast):
    client.force_login(cast["users"]["town"])
    out = post(client, left_behind_only=True, notes="留守儿童每学期一次").json()
    assert (out["town"], out["school"]) == ("虎山镇", None)
    assert out["left_behind_only"] is True and out["created_by"] == "town"
    assert (out["since"], out["until"]) == ("2026-09-01", "2027-01-31")
    assert (out["visited"], out["total"], out["percent"]) == (0, 5, 0)  # left-behind
    client.force_login(cast["users"]["zx_leader"])
    out = post(client, school="HS-ZX", name="中心小学补访").json()
    assert (out["town"], out["school"]) == (None, "HS-ZX")
    assert VisitRound.objects.get(pk=out["id"]).history.first().history_user.username == (
        "zx_leader"
    )


def test_anonymous_is_401(client, cast, rounds):
    assert client.get(URL).status_code == 401
    assert post(client).status_code == 401
    assert client.get(f"{URL}/{rounds['town'].pk}/coverage").status_code == 401


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "msg"),
    [
        ({"until": "2026-08-31"}, "until", "结束日期不能早于开始日期"),
        ({"name": ""}, "name", "名称：请填写轮次名称"),
        ({"name": "   "}, "name", "名称：请填写轮次名称"),
        ({"name": "长" * 61}, "name", "名称：不能超过 60 个字"),
        ({"notes": "长" * 301}, "notes", "说明：不能超过 300 个字"),
        ({"since": "九月一日"}, "since", "日期格式不对"),
        ({"until": None}, "until", "格式不对"),
        ({"left_behind_only": "也许"}, "left_behind_only", "应为 true 或 false"),
        ({"school": 12}, "school", "应为文字"),
        ({"extra": 1}, "extra", "不是可以提交的字段"),
    ],
)
def test_bad_bodies_are_422_naming_the_field_in_chinese(client, cast, change, field, msg):
    client.force_login(cast["users"]["town"])
    response = post(client, **change)
    assert response.status_code == 422, response.content
    details = response.json()["detail"]
    assert any(d["field"] == field and msg in d["msg"] for d in details), details
    assert not VisitRound.objects.exists()


def test_missing_dates_are_each_named(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.post(URL, {"name": "普访"}, content_type="application/json")
    assert {d["field"] for d in response.json()["detail"]} == {"since", "until"}


def test_overlapping_rounds_are_allowed(client, cast, rounds):
    client.force_login(cast["users"]["town"])
    since, until = rounds["town"].since.isoformat(), rounds["town"].until.isoformat()
    assert post(client, since=since, until=until).status_code == 201
    assert post(client, since=since, until=since).status_code == 201  # one day is a period too


def test_page_creates_a_round_and_says_overlapping_is_allowed(client, cast, rounds):
    client.force_login(cast["users"]["zx_leader"])
    page = client.get(reverse("contacts:rounds")).content.decode()
    assert "可以重叠" in page
    assert [
        v
        for v, _label in client.get(reverse("contacts:rounds"))
        .context["form"]
        .fields["unit"]
        .choices
    ] == [f"school:{cast['schools']['zx'].pk}"]
    data = {
        "unit": f"school:{cast['schools']['zx'].pk}",
        "name": "中心小学冬季补访",
        "since": rounds["town"].since.isoformat(),
        "until": rounds["town"].until.isoformat(),
    }
    response = client.post(reverse("contacts:rounds"), data, follow=True)
    created = VisitRound.objects.get(name="中心小学冬季补访")
    assert response.redirect_chain[0][0] == f"{reverse('contacts:coverage')}?round={created.pk}"
    text = response.content.decode()
    assert "日期重叠：允许" in text and "全镇普访" in text
    assert response.context["chosen"] == created


def test_page_reports_bad_input_at_the_fields(client, cast):
    client.force_login(cast["users"]["town"])
    data = {"unit": f"town:{cast['town_obj'].pk}", "name": "", "since": "2026-10-10"}
    response = client.post(reverse("contacts:rounds"), {**data, "until": "2026-10-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请填写轮次名称" in html
    response = client.post(
        reverse("contacts:rounds"), {**data, "name": "秋季普访", "until": "2026-10-01"}
    )
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = client.post(reverse("contacts:rounds"), {**data, "unit": "school:999"})
    assert "unit" in response.context["form"].errors
    assert not VisitRound.objects.exists()


@pytest.mark.parametrize("role", ["zx_teacher31", "inspector", "proxy_wang", "zx_counselor"])
def test_page_refuses_to_create_for_other_roles(client, cast, role):
    client.force_login(cast["users"][role])
    assert "new-round" not in client.get(reverse("contacts:rounds")).content.decode()
    data = {"unit": f"town:{cast['town_obj'].pk}", "name": "x", "since": "2026-10-01"}
    response = client.post(reverse("contacts:rounds"), {**data, "until": "2026-10-02"})
    assert response.status_code == 403
    assert not VisitRound.objects.exists()


# --- coverage -----------------------------------------------------------------------------------


@pytest.fixture
def october(cast):
    """A town round over October (both days included) and visits around its edges."""
    kids, t = cast["children"], cast["users"]["town"]
    first, last = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
    add_contact(kids["c31a"], t, "home_visit", at(last, 23, 59))  # counts
    add_contact(kids["c31b"], t, "home_visit", at(last + dt.timedelta(days=1), 0, 0))  # not
    add_contact(kids["c32a"], t, "home_visit", at(first, 0, 0))  # counts
    add_contact(kids["c41a"], t, "home_visit", at(first - dt.timedelta(days=1), 23, 59))  # not
    add_contact(kids["bq31a"], t, "phone", at(dt.date(2026, 10, 15)))  # a call is no visit
    add_contact(kids["gt"], t, "home_visit", at(dt.date(2026, 10, 15)))  # counts
    return new_round(cast, name="十月普访", since=first, until=last)


def test_coverage_counts_visits_within_the_shanghai_days(client, cast, october):
    client.force_login(cast["users"]["town"])
    out = client.get(f"{URL}/{october.pk}/coverage").json()
    assert (out["round"]["visited"], out["round"]["total"], out["round"]["percent"]) == (3, 6, 50)
    schools = {s["school"]: s for s in out["schools"]}
    assert (schools["HS-ZX"]["visited"], schools["HS-ZX"]["total"]) == (2, 4)
    classes = {c["label"]: c for c in schools["HS-ZX"]["classes"]}
    c31 = classes["三年级(1)班"]
    assert (c31["total"], c31["visited"], c31["percent"]) == (2, 1, 50)
    assert c31["not_visited"] == [{"id": cast["children"]["c31b"].pk, "name": "单小明"}]
    assert classes["四年级(1)班"]["not_visited"][0]["name"] == "王五"
    assert schools["HS-BQ"]["visited"] == 0 and schools["HS-GT"]["visited"] == 1


def test_the_rounds_list_counts_as_the_coverage_does(client, cast, october):
    lb = new_round(cast, name="十月留守", since=october.since, until=october.until)
    lb.left_behind_only = True
    lb.save()
    client.force_login(cast["users"]["town"])
    items = {i["id"]: i for i in client.get(URL).json()["items"]}
    assert (items[october.pk]["visited"], items[october.pk]["total"]) == (3, 6)
    # left-behind: c31a (visited), c31b (not), c32a (visited), bq31a, gt (visited); not c41a
    assert (items[lb.pk]["visited"], items[lb.pk]["total"]) == (3, 5)
    coverage = client.get(f"{URL}/{lb.pk}/coverage").json()["round"]
    assert (coverage["visited"], coverage["total"]) == (3, 5)


def test_coverage_is_the_users_part_of_the_round(client, cast, october):
    client.force_login(cast["users"]["zx_teacher31"])
    out = client.get(f"{URL}/{october.pk}/coverage").json()
    assert [s["school"] for s in out["schools"]] == ["HS-ZX"]
    assert (out["round"]["visited"], out["round"]["total"]) == (1, 2)
    assert round_totals([october], cast["users"]["zx_teacher31"]) == {october.pk: (1, 2)}


def test_coverage_of_one_school_of_a_town_round(client, cast, october):
    client.force_login(cast["users"]["town"])
    out = client.get(f"{URL}/{october.pk}/coverage", {"school": "HS-GT"}).json()
    assert [s["school"] for s in out["schools"]] == ["HS-GT"]
    assert (out["round"]["visited"], out["round"]["total"]) == (1, 1)


def test_a_school_round_covers_only_its_school(client, cast, october):
    zx = new_round(cast, school="zx", name="中心小学十月", since=october.since, until=october.until)
    client.force_login(cast["users"]["town"])
    out = client.get(f"{URL}/{zx.pk}/coverage").json()
    assert [s["school"] for s in out["schools"]] == ["HS-ZX"]


def test_list_and_coverage_query_counts_are_pinned(
    client, cast, rounds, october, django_assert_max_num_queries
):
    for n in range(10):
        new_round(cast, school="zx", name=f"第 {n} 轮")
    client.force_login(cast["users"]["town"])
    with django_assert_max_num_queries(10):
        assert client.get(URL).json()["count"] == 14
    with django_assert_max_num_queries(11):  # + the towns and schools of the new-round form
        response = client.get(reverse("contacts:rounds"))
    assert response.status_code == 200 and "第 9 轮" in response.content.decode()
    with django_assert_max_num_queries(10):
        response = client.get(f"{URL}/{october.pk}/coverage")
    assert response.status_code == 200 and response.json()["round"]["name"] == "十月普访"


# --- the coverage page ------------------------------------------------------------------------------


def test_coverage_page_shows_the_round_covering_today_else_the_latest(client, cast):
    past = new_round(cast, name="上学期", since=dt.date(2026, 3, 1), until=dt.date(2026, 6, 30))
    client.force_login(cast["users"]["town"])
    assert client.get(reverse("contacts:coverage")).context["chosen"] == past
    now = new_round(cast, name="本学期", since=TODAY - dt.timedelta(days=3), until=TODAY)
    next_term = TODAY + dt.timedelta(days=60)
    new_round(cast, name="下学期", since=next_term, until=next_term + dt.timedelta(days=90))
    response = client.get(reverse("contacts:coverage"))
    assert response.context["chosen"] == now
    assert (response.context["since"], response.context["until"]) == (now.since, now.until)
    assert "本学期" in response.content.decode()


def test_coverage_page_still_takes_a_custom_range(client, cast, october):
    client.force_login(cast["users"]["town"])
    response = client.get(
        reverse("contacts:coverage"), {"since": "2026-10-01", "until": "2026-10-15"}
    )
    assert response.context["chosen"] is None
    assert (response.context["visited"], response.context["total"]) == (2, 6)
    custom = client.get(reverse("contacts:coverage"), {"round": "custom"})
    assert custom.context["chosen"] is None


def test_coverage_page_of_a_round_lists_those_not_yet_visited_per_class(client, cast, october):
    client.force_login(cast["users"]["zx_leader"])
    response = client.get(reverse("contacts:coverage"), {"round": october.pk})
    assert (response.context["visited"], response.context["total"]) == (2, 4)
    html = response.content.decode()
    assert "单小明" in html and "王五" in html and "十月普访" in html


def test_unknown_round_is_404(client, cast):
    client.force_login(cast["users"]["town"])
    assert client.get(reverse("contacts:coverage"), {"round": 999}).status_code == 404
    assert client.get(f"{URL}/999/coverage").status_code == 404


def test_export_of_those_not_yet_visited_is_logged(client, cast, october):
    from openpyxl import load_workbook

    client.force_login(cast["users"]["zx_leader"])
    response = client.get(reverse("contacts:coverage"), {"round": october.pk, "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="not-visited-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ["学校", "年级", "班级", "姓名"]
    assert sorted(r[3] for r in rows[1:]) == ["单小明", "王五"]
    log = AccessLog.objects.get()
    assert log.action == "export" and "尚未家访名单" in log.detail and "2 条" in log.detail


def test_export_is_refused_to_roles_without_the_export_right(client, cast, october):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.get(reverse("contacts:coverage"), {"round": october.pk, "export": "xlsx"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_demo_has_the_towns_autumn_round(cast):
    from guanai.contacts.demo import load_demo_contacts

    load_demo_contacts(seed=1)
    load_demo_contacts(seed=1)  # loading twice keeps one round
    visit_round = VisitRound.objects.get()
    start = term_start(TODAY)
    season = "秋季" if start.month == 9 else "春季"
    assert visit_round.name == f"{start.year} {season}学期普访"  # 2026 秋季学期普访 today
    assert visit_round.town == cast["town_obj"] and visit_round.since == start


def test_openapi_lists_the_round_routes(client, cast):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/visit-rounds"])
    assert "get" in paths["/api/v1/visit-rounds/{round_id}/coverage"]
