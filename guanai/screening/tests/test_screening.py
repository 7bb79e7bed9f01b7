"""摸底排查: opening, marking (situation or 非留守), completion per class / grade / school with who
is missing, closing rules, the town's view, scope of every page and API route."""

import pytest
from django.urls import reverse

from guanai.children.models import Child
from guanai.children.services import StaleVersion
from guanai.children.validation import CardInvalid
from guanai.screening import services
from guanai.screening.models import CardCheck, ScreeningCampaign, ScreeningRecord
from guanai.testing import make_child

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
SEES_ZX = {"town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}


@pytest.fixture
def campaign(cast):
    return services.open_campaign(
        school=cast["schools"]["zx"], term="2026-2027-1", by=cast["users"]["zx_leader"]
    )


def _fresh(child):
    return Child.objects.prefetch_related("parents").get(pk=child.pk)


# --- services --------------------------------------------------------------------------------


def test_open_campaign_once_per_school_and_term(cast, campaign):
    assert campaign.is_open and campaign.term == "2026-2027-1"
    with pytest.raises(CardInvalid) as exc:
        services.open_campaign(school=cast["schools"]["zx"], term="2026-2027-1", by=None)
    assert "已有" in exc.value.errors["term"]
    with pytest.raises(CardInvalid) as exc:
        services.open_campaign(school=cast["schools"]["zx"], term="2026-2027-3", by=None)
    assert "学期" in exc.value.errors["term"]
    default = services.open_campaign(school=cast["schools"]["bq"], term="", by=None)
    assert default.term == services.this_term()


def test_completion_per_class_grade_and_school_with_missing(cast, campaign, kids, users):
    scope = Child.objects.all()
    p = services.campaign_progress(campaign, scope)
    assert (p["total"], p["done"], p["missing"], p["percent"]) == (4, 0, 4, 0)
    services.mark_screened(
        campaign=campaign,
        child=kids["c31a"],
        data={},
        version=kids["c31a"].version,
        by=users["zx_teacher31"],
    )
    p = services.campaign_progress(campaign, scope)
    assert (p["total"], p["done"], p["percent"]) == (4, 1, 25)
    grades = {g["grade"]: g for g in p["grades"]}
    assert (grades[3]["total"], grades[3]["done"], grades[3]["missing"]) == (3, 1, 2)
    classes = {c["label"]: c for c in grades[3]["classes"]}
    assert (classes["三年级(1)班"]["done"], classes["三年级(1)班"]["total"]) == (1, 2)
    assert classes["三年级(2)班"]["done"] == 0 and grades[4]["done"] == 0
    missing = services.screening_children(campaign, scope).exclude(
        pk__in=campaign.records.values("child_id")
    )
    assert set(missing.values_list("name", flat=True)) == {"单小明", "李四", "王五"}
    # a class teacher's progress is her class's
    teacher = services.campaign_progress(campaign, Child.objects.visible_to(users["zx_teacher31"]))
    assert (teacher["total"], teacher["done"]) == (2, 1)


def test_mark_applies_changes_through_update_child_with_history(cast, campaign, kids, users):
    child = kids["c31a"]  # both away → double
    record = services.mark_screened(
        campaign=campaign,
        child=child,
        data={"father.status": "home", "mother.status": "home"},
        version=child.version,
        by=users["zx_teacher31"],
        note="父母已返乡",
    )
    child = _fresh(child)
    assert child.category == "none" and record.category == "none"
    assert record.outcome == "marked" and record.note == "父母已返乡"
    assert child.history.first().history_change_reason == "2026-2027-1 摸底排查"
    assert set(CardCheck.objects.filter(child=child).values_list("group", flat=True)) == {
        "parents",
        "guardian",
    }


def test_mark_with_stale_version_is_refused(cast, campaign, kids, users):
    child = kids["c31a"]
    with pytest.raises(StaleVersion):
        services.mark_screened(
            campaign=campaign,
            child=child,
            data={"father.status": "home"},
            version=child.version - 1,
            by=users["zx_teacher31"],
        )
    with pytest.raises(StaleVersion):
        services.mark_screened(
            campaign=campaign,
            child=child,
            data={},
            version=child.version + 1,
            by=users["zx_teacher31"],
        )
    assert not ScreeningRecord.objects.exists()


def test_mark_needs_known_parents(cast, campaign, users):
    unknown = make_child(
        cast["classes"]["c31"], name="未知", **{"father.status": "", "mother.status": ""}
    )
    with pytest.raises(CardInvalid) as exc:
        services.mark_screened(
            campaign=campaign, child=unknown, data={}, version=unknown.version, by=None
        )
    assert "父亲状况" in exc.value.errors["father.status"]
    assert not ScreeningRecord.objects.exists()


def test_confirm_not_left_behind_fills_blank_parents_as_home(cast, campaign, users):
    unknown = make_child(
        cast["classes"]["c31"], name="未知", **{"father.status": "", "mother.status": ""}
    )
    assert unknown.category == "unknown"
    record = services.confirm_not_left_behind(
        campaign=campaign, child=unknown, version=unknown.version, by=users["zx_teacher31"]
    )
    assert record.outcome == "not_left_behind" and _fresh(unknown).category == "none"


def test_confirm_not_left_behind_refused_for_a_left_behind_child(cast, campaign, kids):
    with pytest.raises(CardInvalid) as exc:
        services.confirm_not_left_behind(
            campaign=campaign, child=kids["c31a"], version=kids["c31a"].version, by=None
        )
    assert "双留守" in exc.value.errors["category"]


def test_marking_refused_outside_the_campaign_school_or_when_closed(cast, campaign, kids):
    with pytest.raises(CardInvalid):
        services.mark_screened(campaign=campaign, child=kids["bq31a"], data={}, version=1, by=None)
    services.close_campaign(campaign=campaign, by=None, reason="测试")
    with pytest.raises(CardInvalid) as exc:
        services.mark_screened(
            campaign=campaign, child=kids["c41a"], data={}, version=kids["c41a"].version, by=None
        )
    assert "已结束" in exc.value.errors["campaign"]


def test_closing_with_unscreened_students_needs_a_reason(cast, campaign, kids):
    with pytest.raises(CardInvalid) as exc:
        services.close_campaign(campaign=campaign, by=None, reason="  ")
    assert "4 名学生未摸排" in exc.value.errors["reason"]
    assert ScreeningCampaign.objects.get(pk=campaign.pk).is_open
    closed = services.close_campaign(campaign=campaign, by=None, reason="王五病休")
    assert not closed.is_open and closed.summary["missing"] == 4
    assert set(closed.summary["missing_ids"]) == {
        kids[k].pk for k in ("c31a", "c31b", "c32a", "c41a")
    }
    with pytest.raises(CardInvalid):
        services.close_campaign(campaign=campaign, by=None, reason="again")


def test_closing_a_complete_campaign_needs_no_reason(cast, campaign, kids):
    for key in ("c31a", "c31b", "c32a", "c41a"):
        services.mark_screened(
            campaign=campaign, child=kids[key], data={}, version=kids[key].version, by=None
        )
    closed = services.close_campaign(campaign=campaign, by=None)
    assert closed.summary == {"total": 4, "done": 4, "missing": 0, "missing_ids": []}


# --- pages -----------------------------------------------------------------------------------


def test_town_sees_every_schools_completion(client, cast, users, campaign):
    client.force_login(users["town"])
    body = client.get(reverse("screening:index")).content.decode()
    for name in ("虎山镇中心小学", "板桥小学", "古田小学"):
        assert name in body
    assert "已摸排 0 / 4" in body and "发起" in body


def test_leader_opens_campaign_from_the_page(client, cast, users):
    client.force_login(users["bq_leader"])
    response = client.post(
        reverse("screening:campaign_open"),
        {"school": cast["schools"]["bq"].pk, "term": "2026-2027-2"},
    )
    c = ScreeningCampaign.objects.get()
    assert response["Location"] == reverse("screening:campaign", args=[c.pk])
    bad = client.post(
        reverse("screening:campaign_open"), {"school": cast["schools"]["bq"].pk, "term": "x"}
    )
    assert bad.status_code == 302 and ScreeningCampaign.objects.count() == 1
    # another school is not a choice
    client.post(reverse("screening:campaign_open"), {"school": cast["schools"]["zx"].pk})
    assert ScreeningCampaign.objects.count() == 1


@pytest.mark.parametrize("role", ALL)
def test_open_campaign_page_permissions(client, cast, users, role):
    client.force_login(users[role])
    response = client.post(
        reverse("screening:campaign_open"),
        {"school": cast["schools"]["zx"].pk, "term": "2026-2027-1"},
    )
    created = ScreeningCampaign.objects.exists()
    if role == "inspector":
        assert response.status_code == 403
    elif role in ("town", "zx_leader"):
        assert created
    else:
        assert not created and response.status_code in (302, 403)


def test_campaign_page_lists_students_and_completion(client, cast, users, campaign, kids):
    services.mark_screened(
        campaign=campaign,
        child=kids["c31a"],
        data={},
        version=kids["c31a"].version,
        by=users["zx_teacher31"],
    )
    client.force_login(users["zx_leader"])
    body = client.get(reverse("screening:campaign", args=[campaign.pk])).content.decode()
    assert "已摸排 1 / 4" in body and "三年级(2)班" in body and "未摸排" in body
    missing = client.get(
        reverse("screening:campaign", args=[campaign.pk]),
        {"state": "missing", "partial": "table"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in missing and "张三" not in missing and "李四" in missing


def test_class_teacher_sees_only_her_class(client, cast, users, campaign):
    client.force_login(users["zx_teacher31"])
    body = client.get(reverse("screening:campaign", args=[campaign.pk])).content.decode()
    assert "张三" in body and "单小明" in body and "李四" not in body and "王五" not in body


def test_teacher_marks_a_child_on_the_page(client, cast, users, campaign, kids):
    client.force_login(users["zx_teacher31"])
    child = kids["c31b"]
    url = reverse("screening:screen_child", args=[campaign.pk, child.pk])
    page = client.get(url).content.decode()
    assert "父亲状况" in page and "监护人电话" in page
    response = client.post(
        url,
        {
            "version": child.version,
            "father.status": "away",
            "mother.status": "away",
            "guardian.name": "单奶奶",
            "guardian.phone": "139 1234 5678",
            "reason": "电话核实",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    record = ScreeningRecord.objects.get(child=child)
    assert record.screened_by == users["zx_teacher31"] and record.note == "电话核实"
    child = _fresh(child)
    assert child.category == "double" and child.guardian.phone == "13912345678"


def test_page_names_the_wrong_field_in_chinese(client, cast, users, campaign, kids):
    client.force_login(users["zx_teacher31"])
    child = kids["c31b"]
    response = client.post(
        reverse("screening:screen_child", args=[campaign.pk, child.pk]),
        {
            "version": child.version,
            "father.status": "away",
            "mother.status": "away",
            "guardian.phone": "12345",
        },
    )
    assert response.status_code == 422
    assert "电话号码" in response.content.decode()
    assert not ScreeningRecord.objects.exists()


def test_stale_page_save_asks_to_reload(client, cast, users, campaign, kids):
    client.force_login(users["zx_teacher31"])
    child = kids["c31b"]
    response = client.post(
        reverse("screening:screen_child", args=[campaign.pk, child.pk]),
        {"version": child.version - 1, "father.status": "away", "mother.status": "away"},
    )
    assert response.status_code == 409 and "已被他人修改" in response.content.decode()


def test_not_left_behind_is_a_deliberate_step_saying_what_it_records(client, cast, users, campaign):
    client.force_login(users["zx_teacher31"])
    child = make_child(
        cast["classes"]["c31"],
        name="钱多多",
        **{"father.status": "", "mother.status": ""},
    )
    url = reverse("screening:confirm_none", args=[campaign.pk, child.pk])
    # the list offers a link to the step, not a button that records
    listing = client.get(reverse("screening:campaign", args=[campaign.pk])).content.decode()
    assert f'href="{url}"' in listing and f'action="{url}"' not in listing
    # the step, a page of its own without JavaScript, says what will be recorded
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and "<html" in text
    assert "父亲状况：记为<strong>在家</strong>" in text and "父母均在家" in text
    assert "确认非留守" in text and not ScreeningRecord.objects.exists()
    # a POST that does not confirm records nothing
    unconfirmed = client.post(url, {"version": child.version})
    assert unconfirmed.status_code == 422 and "请点“确认非留守”" in unconfirmed.content.decode()
    assert not ScreeningRecord.objects.exists()
    assert _fresh(child).category == "unknown"
    done = client.post(url, {"version": child.version, "confirm": "1"})
    assert done.status_code == 302
    record = ScreeningRecord.objects.get(child=child)
    assert record.outcome == "not_left_behind"
    child = _fresh(child)
    assert child.category == "none"
    assert {p.status for p in child.parents.all()} == {"home"}
    # only the parents were looked at: the guardian's group is not marked checked
    assert set(CardCheck.objects.filter(child=child).values_list("group", flat=True)) == {"parents"}


def test_not_left_behind_step_inline_with_htmx(client, cast, users, campaign, kids):
    client.force_login(users["zx_leader"])
    child = kids["c41a"]  # both parents home
    url = reverse("screening:confirm_none", args=[campaign.pk, child.pk])
    step = client.get(url, HTTP_HX_REQUEST="true")
    body = step.content.decode()
    assert step.status_code == 200 and "<html" not in body and f'id="row-{child.pk}"' in body
    assert "父母状况不变" in body and 'name="confirm" value="1"' in body
    response = client.post(url, {"version": child.version, "confirm": "1"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "确认非留守" in body and "<html" not in body
    assert ScreeningRecord.objects.get(child=child).outcome == "not_left_behind"
    refused = client.post(
        reverse("screening:confirm_none", args=[campaign.pk, kids["c31a"].pk]),
        {"version": kids["c31a"].version, "confirm": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 422 and "双留守" in refused.content.decode()


def test_screening_form_shows_full_phones_and_logs_it(client, users, campaign, kids):
    from guanai.accounts.models import AccessLog

    client.force_login(users["zx_teacher31"])
    child = kids["c31b"]
    page = client.get(reverse("screening:screen_child", args=[campaign.pk, child.pk]))
    assert 'value="13912345678"' in page.content.decode()
    log = AccessLog.objects.get()
    assert (log.action, log.child, log.username, log.detail) == (
        "view_sensitive",
        child,
        "zx_teacher31",
        "摸底排查核对时查看完整电话号码",
    )


def test_saving_opens_the_next_child_of_the_class_still_to_screen(client, users, campaign, kids):
    client.force_login(users["zx_teacher31"])
    first, second = kids["c31a"], kids["c31b"]  # 张三, 单小明: the class in the list's order
    url = reverse("screening:screen_child", args=[campaign.pk, first.pk])
    page = client.get(url).content.decode()
    assert "下一个学生：单小明" in page
    response = client.post(
        url, {"version": first.version, "father.status": "away", "mother.status": "away"}
    )
    assert response["Location"] == reverse("screening:screen_child", args=[campaign.pk, second.pk])
    page = client.get(response["Location"]).content.decode()
    assert "下一个学生" not in page  # 张三 is done: nobody else in the class is left
    response = client.post(
        response["Location"],
        {"version": second.version, "father.status": "home", "mother.status": "away"},
    )
    assert response["Location"].endswith(f"?class={second.school_class_id}")


def test_close_page_requires_reason_when_incomplete(client, cast, users, campaign):
    client.force_login(users["zx_leader"])
    url = reverse("screening:campaign_close", args=[campaign.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422 and "请填写原因" in response.content.decode()
    assert client.post(url, {"reason": "开学延迟"}).status_code == 302
    assert not ScreeningCampaign.objects.get(pk=campaign.pk).is_open


@pytest.mark.parametrize("role", ALL)
def test_campaign_pages_scope(client, cast, users, campaign, kids, role):
    client.force_login(users[role])
    status = client.get(reverse("screening:campaign", args=[campaign.pk])).status_code
    assert status == (200 if role in SEES_ZX else 404)
    close = client.get(reverse("screening:campaign_close", args=[campaign.pk])).status_code
    if role == "inspector":
        assert close == 403
    elif role in ("town", "zx_leader"):
        assert close == 200
    elif role in SEES_ZX:
        assert close == 403
    else:
        assert close == 404


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("kid", ["c31a", "c41a", "bq31a"])
def test_mark_page_scope(client, cast, users, campaign, kids, role, kid):
    from guanai.testing import EDITABLE, VISIBLE

    client.force_login(users[role])
    status = client.get(
        reverse("screening:screen_child", args=[campaign.pk, kids[kid].pk])
    ).status_code
    if role == "inspector":
        assert status == 403
    elif role not in SEES_ZX or kid not in VISIBLE[role]:
        assert status == 404
    elif kid not in EDITABLE[role]:
        assert status == 403
    else:
        assert status == 200


# --- API -------------------------------------------------------------------------------------


def test_api_lists_campaigns_with_progress(client, cast, users, campaign, kids):
    services.mark_screened(
        campaign=campaign, child=kids["c31a"], data={}, version=kids["c31a"].version, by=None
    )
    services.open_campaign(school=cast["schools"]["bq"], term="2026-2027-1", by=None)
    client.force_login(users["town"])
    body = client.get("/api/v1/screenings").json()
    assert body["count"] == 2
    zx = next(i for i in body["items"] if i["school"] == "HS-ZX")
    assert (zx["total"], zx["done"], zx["missing"], zx["percent"]) == (4, 1, 3, 25)
    assert client.get("/api/v1/screenings", {"school": "HS-BQ"}).json()["count"] == 1
    client.force_login(users["zx_teacher31"])
    mine = client.get("/api/v1/screenings").json()
    assert mine["count"] == 1 and (mine["items"][0]["total"], mine["items"][0]["done"]) == (2, 1)


def test_api_campaign_detail_per_grade_and_missing(client, cast, users, campaign, kids):
    client.force_login(users["zx_leader"])
    body = client.get(f"/api/v1/screenings/{campaign.pk}").json()
    assert [g["grade"] for g in body["grades"]] == [3, 4]
    assert {m["name"] for m in body["missing_children"]} == {"张三", "单小明", "李四", "王五"}


def test_api_open_mark_close(client, cast, users, kids):
    client.force_login(users["zx_leader"])
    created = client.post(
        "/api/v1/screenings",
        {"school": "HS-ZX", "term": "2026-2027-2"},
        content_type="application/json",
    )
    assert created.status_code == 201
    cid = created.json()["id"]
    dup = client.post(
        "/api/v1/screenings",
        {"school": "HS-ZX", "term": "2026-2027-2"},
        content_type="application/json",
    )
    assert dup.status_code == 422 and dup.json()["detail"][0]["field"] == "term"
    marked = client.post(
        f"/api/v1/screenings/{cid}/records",
        {"child": kids["c41a"].pk, "version": kids["c41a"].version, "outcome": "not_left_behind"},
        content_type="application/json",
    )
    assert marked.status_code == 200 and marked.json()["category"] == "none"
    refused = client.post(f"/api/v1/screenings/{cid}/close", {}, content_type="application/json")
    assert refused.status_code == 422 and "原因" in refused.json()["detail"][0]["msg"]
    closed = client.post(
        f"/api/v1/screenings/{cid}/close",
        {"reason": "学期结束"},
        content_type="application/json",
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


@pytest.mark.parametrize("role", ALL)
def test_api_screening_scope(client, cast, users, campaign, kids, role):
    client.force_login(users[role])
    assert client.get(f"/api/v1/screenings/{campaign.pk}").status_code == (
        200 if role in SEES_ZX else 404
    )
    assert client.get("/api/v1/screenings").json()["count"] == (1 if role in SEES_ZX else 0)
    mark = client.post(
        f"/api/v1/screenings/{campaign.pk}/records",
        {"child": kids["c31a"].pk, "version": kids["c31a"].version},
        content_type="application/json",
    ).status_code
    if role == "inspector":
        assert mark == 403
    elif role in ("town", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"):
        assert mark == 200
    else:
        assert mark == 404
    opened = client.post(
        "/api/v1/screenings", {"school": "HS-BQ"}, content_type="application/json"
    ).status_code
    assert opened == {"town": 201, "bq_leader": 201, "inspector": 403}.get(role, 404)


def test_api_screening_out_of_scope_child_is_404(client, cast, users, campaign, kids):
    client.force_login(users["zx_teacher31"])
    response = client.post(
        f"/api/v1/screenings/{campaign.pk}/records",
        {"child": kids["bq31a"].pk, "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_api_screening_list_query_count(client, cast, users, django_assert_max_num_queries):
    for code in ("zx", "bq", "gt"):
        services.open_campaign(school=cast["schools"][code], term="2026-2027-1", by=None)
    client.force_login(users["town"])
    client.get("/api/v1/screenings")
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/screenings").json()["count"] == 3


@pytest.mark.parametrize("role", ALL)
def test_index_shows_only_the_users_schools(client, cast, users, campaign, role):
    client.force_login(users[role])
    response = client.get(reverse("screening:index"))
    assert response.status_code == 200
    body = response.content.decode()
    sees = {
        "town": {"虎山镇中心小学", "板桥小学", "古田小学"},
        "inspector": {"虎山镇中心小学", "板桥小学", "古田小学"},
        "bq_leader": {"板桥小学"},
        "proxy_wang": set(),
    }.get(role, {"虎山镇中心小学"})
    for name in ("虎山镇中心小学", "板桥小学", "古田小学"):
        assert (f'<h2 class="h6 mb-0">{name}</h2>' in body) is (name in sees), (role, name)
    if role == "proxy_wang":
        assert "您没有所属的学校" in body
    if role in ("inspector", "zx_teacher31"):
        assert "发起 " not in body  # no write buttons for roles that may not open campaigns


def test_screening_form_refuses_an_away_date_that_has_not_come(client, users, campaign, kids):
    client.force_login(users["zx_teacher31"])
    child = kids["c31b"]  # 单留守: father at home, mother away
    url = reverse("screening:screen_child", args=[campaign.pk, child.pk])
    response = client.post(
        url,
        {
            "version": child.version,
            "father.status": "home",
            "mother.status": "away",
            "mother.away_since": "2027-03-01",
        },
    )
    assert response.status_code == 422
    assert "母亲外出时间不能晚于今天" in response.content.decode()
    assert _fresh(child).category == "single" and not ScreeningRecord.objects.exists()
