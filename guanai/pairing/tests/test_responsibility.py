"""领导包年级、教师包班: grade leaders and class teachers per term, responsible teachers, the
gaps, each person's open work — services, pages and /api/v1/responsibilities, in and out of
scope for every demo role.

The cast: 陈主任 (zx_grade3) leads 中心小学 三年级, 王老师 (zx_teacher31) teaches 三年级(1)班;
三年级(2)班, 四年级(1)班, 板桥 三年级(1)班 and 古田 五年级(1)班 have no teacher; 四年级 and every
grade of the other schools have no leader; no child has a responsible teacher.
"""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanai.accounts.models import Role, RoleAssignment
from guanai.children.models import Child
from guanai.contacts.models import Contact
from guanai.pairing.responsibility import (
    Invalid,
    assign_class_teacher,
    assign_grade_leader,
    end_responsibility,
    fill_responsible_teachers,
    open_work,
    overview,
    set_responsible_teacher,
    term_bounds,
    term_choices,
)
from guanai.pairing.services import propose_pairs
from guanai.testing import VISIBLE, make_child, make_user

ROLES = list(VISIBLE)
API = "/api/v1/responsibilities"
TODAY = timezone.localdate


def next_term() -> tuple[dt.date, dt.date]:
    return term_bounds(term_choices()[1][0])


def flash(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def leaders(school, grade, on=None):
    on = on or TODAY()
    return set(
        RoleAssignment.objects.filter(role=Role.GRADE_LEADER, school=school, grade=grade)
        .filter(valid_from__lte=on)
        .exclude(valid_to__lt=on)
        .values_list("user__username", flat=True)
    )


# --- terms ---------------------------------------------------------------------------------------


def test_term_bounds_follow_the_school_year():
    assert term_bounds("2026-2027-1") == (dt.date(2026, 9, 1), dt.date(2027, 1, 31))
    assert term_bounds("2026-2027-2") == (dt.date(2027, 2, 1), dt.date(2027, 8, 31))
    for bad in ("2026-2028-1", "2026-1", "秋季"):
        with pytest.raises(Invalid) as exc:
            term_bounds(bad)
        assert "term" in exc.value.errors


def test_term_choices_are_this_term_and_the_next():
    (this, _), (following, _) = term_choices(dt.date(2026, 11, 29))
    assert (this, following) == ("2026-2027-1", "2026-2027-2")
    (this, _), (following, _) = term_choices(dt.date(2027, 3, 1))
    assert (this, following) == ("2026-2027-2", "2027-2028-1")


# --- services ------------------------------------------------------------------------------------


def test_a_new_grade_leader_from_next_term_ends_the_current_one_the_day_before(cast, users):
    zx = cast["schools"]["zx"]
    start, end = next_term()
    ra = assign_grade_leader(
        school=zx,
        grade=3,
        user=users["zx_counselor"],
        valid_from=start,
        valid_to=end,
        by=users["zx_leader"],
    )
    assert leaders(zx, 3) == {"zx_grade3"}
    assert leaders(zx, 3, on=start) == {"zx_counselor"}
    old = RoleAssignment.objects.get(user=users["zx_grade3"])
    assert old.valid_to == start - dt.timedelta(days=1)
    assert old.history.first().history_change_reason == "由 周老师 接任三年级负责人"
    assert ra.history.first().history_user == users["zx_leader"]


def test_replacing_from_today_takes_over_at_once_and_the_scope_follows(cast, users):
    zx, kids = cast["schools"]["zx"], cast["children"]
    assign_grade_leader(
        school=zx, grade=3, user=users["zx_counselor"], valid_from=TODAY(), valid_to=None, by=None
    )
    assert leaders(zx, 3) == {"zx_counselor"}
    old = RoleAssignment.objects.get(user=users["zx_grade3"])
    assert not Child.objects.visible_to(old.user).filter(pk=kids["c32a"].pk).exists()


def test_without_replace_two_lead_the_grade(cast, users):
    zx = cast["schools"]["zx"]
    assign_grade_leader(
        school=zx,
        grade=3,
        user=users["zx_counselor"],
        valid_from=TODAY(),
        valid_to=None,
        replace=False,
        by=None,
    )
    assert leaders(zx, 3) == {"zx_grade3", "zx_counselor"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"grade": 9}, "grade"),
        ({"user": "bq_leader"}, "user"),
        ({"user": "proxy_wang"}, "user"),
        ({"user": "zx_grade3"}, "user"),
        ({"valid_to": dt.date(2000, 1, 1)}, "valid_to"),
        ({"valid_from": None}, "valid_from"),
    ],
)
def test_assigning_a_grade_leader_refuses_what_the_rules_forbid(cast, users, change, field):
    args = {
        "school": cast["schools"]["zx"],
        "grade": 3,
        "user": users["zx_counselor"],
        "valid_from": TODAY(),
        "valid_to": None,
        "by": None,
    }
    if "user" in change:
        change = {"user": users[change["user"]]}
    with pytest.raises(Invalid) as exc:
        assign_grade_leader(**(args | change))
    assert field in exc.value.errors
    assert leaders(cast["schools"]["zx"], 3) == {"zx_grade3"}


def test_a_partly_overlapping_future_holder_must_be_ended_first(cast, users):
    c32 = cast["classes"]["c32"]
    start, end = next_term()
    assign_class_teacher(
        school_class=c32, user=users["zx_counselor"], valid_from=start, valid_to=None, by=None
    )
    with pytest.raises(Invalid, match="请先结束该指定"):
        assign_class_teacher(
            school_class=c32, user=users["zx_leader"], valid_from=TODAY(), valid_to=end, by=None
        )


def test_a_class_teacher_sees_her_new_class_and_loses_it_when_ended(cast, users):
    c32, kids = cast["classes"]["c32"], cast["children"]
    teacher = users["zx_teacher31"]
    ra = assign_class_teacher(
        school_class=c32, user=teacher, valid_from=TODAY(), valid_to=None, by=None
    )
    teacher._active_roles = None
    assert Child.objects.visible_to(teacher, "change").filter(pk=kids["c32a"].pk).exists()
    end_responsibility(assignment=ra, by=users["zx_leader"])
    teacher._active_roles = None
    assert not Child.objects.visible_to(teacher).filter(pk=kids["c32a"].pk).exists()
    assert RoleAssignment.objects.filter(pk=ra.pk).exists()
    with pytest.raises(Invalid, match="已结束"):
        end_responsibility(assignment=ra, by=None)


def test_responsible_teacher_is_named_with_history_and_gives_scope(cast, users):
    kid = cast["children"]["c32a"]
    teacher = users["zx_teacher31"]
    set_responsible_teacher(child=kid, teacher=teacher, by=users["zx_leader"])
    kid.refresh_from_db()
    assert kid.responsible_teacher == teacher
    entry = kid.history.first()
    assert (entry.history_user, entry.history_change_reason) == (
        users["zx_leader"],
        "责任教师：王老师",
    )
    assert Child.objects.visible_to(teacher, "change").filter(pk=kid.pk).exists()
    with pytest.raises(Invalid) as exc:
        set_responsible_teacher(child=kid, teacher=users["bq_leader"], by=None)
    assert "user" in exc.value.errors


def test_fill_names_the_class_teacher_where_there_is_one(cast, users):
    kids = cast["children"]
    n = fill_responsible_teachers(children=Child.objects.all(), by=users["zx_leader"])
    assert n == 2  # 三年级(1)班 only: the other classes have no class teacher
    got = dict(Child.objects.values_list("name", "responsible_teacher__username"))
    assert got["张三"] == got["单小明"] == "zx_teacher31"
    assert got["李四"] is None
    assert kids["c31a"].history.first().history_change_reason == "责任教师默认为班主任"


def test_overview_shows_the_gaps(cast, users):
    from guanai.org.models import SchoolClass

    picture = overview(
        SchoolClass.objects.filter(school=cast["schools"]["zx"]), children=Child.objects.all()
    )
    assert [g.label for g in picture.grades_without_leader] == ["四年级"]
    assert [str(c.school_class) for c in picture.classes_without_teacher] == [
        "三年级(2)班",
        "四年级(1)班",
    ]
    assert picture.children_without_teacher == 3  # 张三, 单小明, 李四
    fill_responsible_teachers(children=Child.objects.all(), by=None)
    picture = overview(
        SchoolClass.objects.filter(school=cast["schools"]["zx"]), children=Child.objects.all()
    )
    assert picture.children_without_teacher == 1


def test_open_work_lists_cards_to_complete_and_drafts_to_review(cast, users, school):
    c31 = cast["classes"]["c31"]
    make_child(c31, name="缺村", village="")
    propose_pairs(school=school["school"], by=None, dry_run=False)
    teacher = users["zx_teacher31"]
    work = open_work(teacher, scope=Child.objects.visible_to(teacher))
    assert [c.name for c in work.incomplete] == ["缺村"]
    assert work.incomplete[0].missing_fields() == ["村"]
    assert {p.child.name for p in work.drafts} == {"张三", "单小明"}
    assert work.oversee is None
    lead = open_work(users["zx_grade3"], scope=Child.objects.visible_to(users["zx_grade3"]))
    rows = {str(c.school_class): c for g in lead.oversee.grades for c in g.classes}
    assert set(rows) == {"三年级(1)班", "三年级(2)班"}
    assert rows["三年级(1)班"].teachers[0].user == teacher
    assert (rows["三年级(1)班"].incomplete, rows["三年级(1)班"].drafts) == (1, 2)


def test_open_work_counts_the_contacts_each_person_owes(cast, users):
    teacher, proxy = users["zx_teacher31"], users["proxy_wang"]
    kids = cast["children"]
    work = open_work(teacher, scope=Child.objects.visible_to(teacher))
    # her two left-behind children under the three category rules; c31a's proxy-parent
    # meeting is proxy_wang's to make, not hers
    assert work.due == [
        ("home_visit", "每学期家访", 2),
        ("guardian_contact", "每月联系监护人", 2),
        ("family_call", "每月亲情电话", 2),
    ]
    assert work.due_total == 6
    theirs = open_work(proxy, scope=Child.objects.visible_to(proxy))
    assert theirs.due == [("proxy_contact", "代理家长每周联系", 2)]
    Contact.objects.create(child=kids["c31a"], by=proxy, kind="meeting", at=timezone.now())
    theirs = open_work(proxy, scope=Child.objects.visible_to(proxy))
    assert theirs.due == [("proxy_contact", "代理家长每周联系", 1)]
    lead = open_work(users["zx_grade3"], scope=Child.objects.visible_to(users["zx_grade3"]))
    rows = {str(c.school_class): c.due for g in lead.oversee.grades for c in g.classes}
    assert rows == {"三年级(1)班": 2, "三年级(2)班": 1}


def test_work_page_shows_the_counts_and_a_leader_sees_them_per_class(client, users):
    client.force_login(users["zx_grade3"])
    page = client.get(reverse("pairing:work")).content.decode()
    assert '<div class="num" data-count="due">0</div>' in page  # no children of his own
    assert "没有到期未联系的儿童" in page
    teacher = users["zx_teacher31"]
    page = client.get(reverse("pairing:person_work", args=[teacher.pk])).content.decode()
    assert '<div class="num" data-count="due">6</div>' in page
    assert '<span>每学期家访</span><span class="fw-bold">2 人</span>' in page
    assert "我的待联系名单" not in page  # the link is to one's own list only


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status, classes",
    [
        ("town", 200, None),  # the town's summary first
        ("inspector", 200, None),
        ("zx_leader", 200, {"三年级(1)班", "三年级(2)班", "四年级(1)班"}),
        ("zx_counselor", 200, {"三年级(1)班", "三年级(2)班", "四年级(1)班"}),
        ("zx_grade3", 200, {"三年级(1)班", "三年级(2)班"}),
        ("zx_teacher31", 200, {"三年级(1)班"}),
        ("bq_leader", 200, {"三年级(1)班"}),
        ("proxy_wang", 403, None),
    ],
)
def test_responsibility_page_scope(client, users, role, status, classes):
    client.force_login(users[role])
    response = client.get(reverse("pairing:responsibility"))
    assert response.status_code == status
    if classes is not None:
        shown = {str(c.school_class) for g in response.context["picture"].grades for c in g.classes}
        assert shown == classes
    elif status == 200:
        assert [r["school"].code for r in response.context["rows"]] == ["HS-ZX", "HS-BQ", "HS-GT"]


@pytest.mark.parametrize("role", ROLES)
def test_another_schools_page_is_not_found(client, users, role):
    client.force_login(users[role])
    response = client.get(reverse("pairing:responsibility"), {"school": "HS-BQ"})
    expected = 200 if role in ("town", "inspector", "bq_leader") else 404
    if role == "proxy_wang":
        expected = 403
    assert response.status_code == expected


def test_school_leader_sees_the_gaps_and_the_town_the_counts(client, users):
    client.force_login(users["zx_leader"])
    body = client.get(reverse("pairing:responsibility")).content.decode()
    assert "没有负责人的年级：四年级" in body
    assert "没有班主任的班级：三年级(2)班、四年级(1)班" in body
    assert "没有责任教师的留守儿童：3 人" in body
    client.force_login(users["town"])
    rows = client.get(reverse("pairing:responsibility")).context["rows"]
    zx = rows[0]
    assert (zx["grades"], zx["classes"], zx["children"], zx["n_classes"]) == (1, 2, 3, 3)


def test_mine_shows_only_what_the_person_holds(client, users):
    client.force_login(users["zx_grade3"])
    response = client.get(reverse("pairing:responsibility"), {"mine": "1"})
    shown = {str(c.school_class) for g in response.context["picture"].grades for c in g.classes}
    assert shown == {"三年级(1)班", "三年级(2)班"}
    client.force_login(users["zx_teacher31"])
    response = client.get(reverse("pairing:responsibility"), {"mine": "1"})
    assert [g.label for g in response.context["picture"].grades] == ["三年级"]


def grade_post(users, **changes):
    data = {
        "school": "HS-ZX",
        "g-grade": "4",
        "g-user": str(users["zx_counselor"].pk),
        "g-term": term_choices()[0][0],
        "g-replace": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "role, status",
    [
        ("town", 302),
        ("zx_leader", 302),
        ("zx_grade3", 403),
        ("zx_teacher31", 403),
        ("zx_counselor", 403),
        ("inspector", 403),
        ("bq_leader", 404),
        ("proxy_wang", 404),
    ],
)
def test_assign_grade_leader_scope(client, users, role, status):
    client.force_login(users[role])
    response = client.post(reverse("pairing:assign_grade"), grade_post(users))
    assert response.status_code == status
    assert RoleAssignment.objects.filter(role="grade_leader", grade=4).exists() is (status == 302)


def test_assigning_from_the_page_closes_the_gap(client, users):
    client.force_login(users["zx_leader"])
    response = client.post(reverse("pairing:assign_grade"), grade_post(users))
    assert "已指定 周老师 为虎山镇中心小学 四年级负责人" in flash(response)
    body = client.get(response.url).content.decode()
    assert "没有负责人的年级" not in body
    start, end = term_bounds(term_choices()[0][0])
    ra = RoleAssignment.objects.get(role="grade_leader", grade=4)
    assert (ra.valid_from, ra.valid_to) == (start, end)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"g-user": ""}, "请选择人员"),
        ({"g-grade": "9"}, "本校没有该年级的班级"),
        ({"g-term": "", "g-valid_from": ""}, "请选择学期或填写起始日期"),
        ({"g-term": "", "g-valid_from": "2026-13-01"}, "日期格式应为"),
        (
            {"g-term": "", "g-valid_from": "2026-09-01", "g-valid_to": "2026-08-01"},
            "截止日期不能早于起始日期",
        ),
        ({"g-term": "2030-2031-1"}, "请选择本学期或下学期"),
        ({"g-grade": "3", "g-user": "USER_GRADE3"}, "在这段时间已是三年级负责人"),
    ],
)
def test_assign_grade_leader_bad_input_names_the_field(client, users, changes, message):
    if changes.get("g-user") == "USER_GRADE3":
        changes["g-user"] = str(users["zx_grade3"].pk)
    client.force_login(users["zx_leader"])
    response = client.post(reverse("pairing:assign_grade"), grade_post(users, **changes))
    assert response.status_code == 422
    assert message in response.content.decode()


def test_assign_class_teacher_from_the_page(client, users, cast):
    client.force_login(users["zx_leader"])
    c32 = cast["classes"]["c32"]
    data = {
        "school": "HS-ZX",
        "c-school_class": str(c32.pk),
        "c-user": str(users["zx_teacher31"].pk),
        "c-term": term_choices()[0][0],
    }
    response = client.post(reverse("pairing:assign_class"), data)
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(role="class_teacher", school_class=c32).count() == 1
    other = data | {"c-school_class": str(cast["classes"]["bq31"].pk)}
    bad = client.post(reverse("pairing:assign_class"), other)
    assert bad.status_code == 422 and "请选择本校的班级" in bad.content.decode()


@pytest.mark.parametrize(
    "role, status",
    [
        ("zx_leader", 302),
        ("town", 302),
        ("zx_grade3", 403),
        ("inspector", 403),
        ("bq_leader", 404),
        ("proxy_wang", 404),
    ],
)
def test_end_responsibility_scope(client, users, role, status):
    ra = users["zx_teacher31"].role_assignments.get()
    client.force_login(users[role])
    response = client.post(reverse("pairing:end_responsibility", args=[ra.pk]))
    assert response.status_code == status
    ra.refresh_from_db()
    assert (ra.valid_to is not None) is (status == 302)


def test_only_unit_roles_can_be_ended_here(client, users):
    ra = users["zx_counselor"].role_assignments.get()
    client.force_login(users["zx_leader"])
    assert client.post(reverse("pairing:end_responsibility", args=[ra.pk])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_class_children_page_scope(client, users, cast, role):
    client.force_login(users[role])
    response = client.get(reverse("pairing:class_children", args=[cast["classes"]["c31"].pk]))
    visible = role not in ("bq_leader", "proxy_wang")
    assert response.status_code == (200 if visible else 404)
    if visible:
        arranges = role in ("town", "zx_leader", "zx_grade3", "zx_teacher31")
        assert response.context["can_arrange"] is arranges


@pytest.mark.parametrize(
    "role, status",
    [
        ("zx_teacher31", 302),
        ("zx_grade3", 302),
        ("zx_leader", 302),
        ("zx_counselor", 403),
        ("inspector", 403),
        ("bq_leader", 404),
        ("proxy_wang", 404),
    ],
)
def test_name_responsible_teacher_scope(client, users, cast, role, status):
    kid = cast["children"]["c31a"]
    client.force_login(users[role])
    response = client.post(
        reverse("pairing:class_children", args=[cast["classes"]["c31"].pk]),
        {f"teacher_{kid.pk}": users["zx_counselor"].pk},
    )
    assert response.status_code == status
    kid.refresh_from_db()
    assert (kid.responsible_teacher == users["zx_counselor"]) is (status == 302)


def test_name_responsible_teacher_bad_input(client, users, cast):
    url = reverse("pairing:class_children", args=[cast["classes"]["c31"].pk])
    client.force_login(users["zx_teacher31"])
    kid, other = cast["children"]["c31a"], cast["children"]["c31b"]
    bad = client.post(
        url,
        {
            f"teacher_{kid.pk}": users["bq_leader"].pk,
            f"teacher_{other.pk}": users["zx_teacher31"].pk,
        },
    )
    assert bad.status_code == 422 and "请从本校教职工中选择" in bad.content.decode()
    other.refresh_from_db()
    assert other.responsible_teacher is None  # one form: nothing saved while a row is wrong
    assert client.post(url, {"teacher_x": ""}).status_code == 404
    assert client.post(url, {}).status_code == 404
    other_class = cast["children"]["c32a"]
    assert client.post(url, {f"teacher_{other_class.pk}": ""}).status_code == 404


def test_one_form_names_the_whole_class_with_one_save(client, users, cast):
    url = reverse("pairing:class_children", args=[cast["classes"]["c31"].pk])
    client.force_login(users["zx_teacher31"])
    page = client.get(url).content.decode()
    assert page.count(">保存</button>") == 1 and "结束" not in page
    kid, other = cast["children"]["c31a"], cast["children"]["c31b"]
    response = client.post(
        url,
        {
            f"teacher_{kid.pk}": users["zx_counselor"].pk,
            f"teacher_{other.pk}": users["zx_teacher31"].pk,
        },
        follow=True,
    )
    assert "已保存：2 名儿童的责任教师有变化" in response.content.decode()
    kid.refresh_from_db()
    other.refresh_from_db()
    assert (kid.responsible_teacher, other.responsible_teacher) == (
        users["zx_counselor"],
        users["zx_teacher31"],
    )
    again = client.post(
        url,
        {f"teacher_{kid.pk}": users["zx_counselor"].pk, f"teacher_{other.pk}": ""},
        follow=True,
    )
    assert "已保存：1 名儿童的责任教师有变化" in again.content.decode()


def test_fill_from_the_page(client, users, cast):
    client.force_login(users["zx_teacher31"])
    response = client.post(reverse("pairing:fill_responsible", args=[cast["classes"]["c31"].pk]))
    assert "已为 2 名儿童指定班主任为责任教师" in flash(response)
    client.force_login(users["zx_counselor"])
    refused = client.post(reverse("pairing:fill_responsible", args=[cast["classes"]["c31"].pk]))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "viewer, person, status",
    [
        ("zx_teacher31", "zx_teacher31", 200),
        ("zx_grade3", "zx_teacher31", 200),
        ("zx_leader", "zx_teacher31", 200),
        ("town", "zx_teacher31", 200),
        ("zx_teacher31", "zx_grade3", 404),
        ("bq_leader", "zx_teacher31", 404),
        ("zx_counselor", "zx_teacher31", 404),
        ("proxy_wang", "zx_teacher31", 404),
        ("inspector", "zx_teacher31", 404),
    ],
)
def test_person_work_page_scope(client, users, viewer, person, status):
    client.force_login(users[viewer])
    response = client.get(reverse("pairing:person_work", args=[users[person].pk]))
    assert response.status_code == status


@pytest.mark.parametrize("role", ROLES)
def test_my_work_page_for_every_role(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("pairing:work")).status_code == 200


def test_grade_leader_work_page_links_her_teachers(client, users, school):
    propose_pairs(school=school["school"], by=None, dry_run=False)
    client.force_login(users["zx_grade3"])
    body = client.get(reverse("pairing:work")).content.decode()
    assert reverse("pairing:person_work", args=[users["zx_teacher31"].pk]) in body
    client.force_login(users["zx_teacher31"])
    response = client.get(reverse("pairing:work"))
    assert response.context["work"].drafts_count == 2
    assert "单小明" in response.content.decode()


def test_responsibility_and_work_pages_pin_their_query_counts(
    client, users, cast, django_assert_max_num_queries
):
    for grade in range(1, 7):
        for class_no in (1, 2, 3):
            from guanai.testing import make_class

            make_class(cast["schools"]["zx"], grade, class_no)
    client.force_login(users["zx_leader"])
    client.get(reverse("pairing:responsibility"))
    with django_assert_max_num_queries(22):
        response = client.get(reverse("pairing:responsibility"))
    assert response.status_code == 200
    assert "六年级" in response.content.decode()
    client.force_login(users["zx_grade3"])
    # 18, plus two due lists (the person's and the grade's) of a fixed 5–6 queries each (the
    # SQL due list asks once whether a contact lies after the day looked at, to know whether
    # ContactSummary answers, and lists the children with a proxy parent), plus the
    # follow-ups (list, counts), plus one's 整改 items and card corrections (2)
    with django_assert_max_num_queries(33):
        response = client.get(reverse("pairing:work"))
    assert response.status_code == 200
    assert "三年级" in response.content.decode()


# --- API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, expected",
    [
        ("town", {("grade_leader", 3, None), ("class_teacher", 3, 1)}),
        ("inspector", {("grade_leader", 3, None), ("class_teacher", 3, 1)}),
        ("zx_leader", {("grade_leader", 3, None), ("class_teacher", 3, 1)}),
        ("zx_counselor", {("grade_leader", 3, None), ("class_teacher", 3, 1)}),
        ("zx_grade3", {("grade_leader", 3, None), ("class_teacher", 3, 1)}),
        ("zx_teacher31", {("grade_leader", 3, None), ("class_teacher", 3, 1)}),
        ("bq_leader", set()),
        ("proxy_wang", set()),
    ],
)
def test_api_lists_the_responsibilities_in_scope(users, role, expected):
    body = api(users[role]).get(API).json()
    assert {(i["kind"], i["grade"], i["class_no"]) for i in body["items"]} == expected
    assert body["count"] == len(expected)


def test_api_outside_scope_sees_nothing_of_another_school(users, cast):
    bq31 = cast["classes"]["bq31"]
    make_user("bq_teacher", Role.CLASS_TEACHER, school=bq31.school, school_class=bq31)
    assert api(users["zx_leader"]).get(API, {"school": "HS-BQ"}).json()["count"] == 0
    assert api(users["bq_leader"]).get(API).json()["count"] == 1
    assert api(users["town"]).get(API).json()["count"] == 3


def test_api_item_shape_and_filters(users):
    client = api(users["zx_leader"])
    item = client.get(API, {"kind": "class_teacher"}).json()["items"][0]
    assert item["user"] == "zx_teacher31" and item["user_name"] == "王老师"
    assert (item["school"], item["grade"], item["class_no"]) == ("HS-ZX", 3, 1)
    assert item["valid_from"] == TODAY().isoformat() and item["valid_to"] is None
    assert api(users["zx_teacher31"]).get(API, {"mine": True}).json()["count"] == 1
    assert client.get(API, {"user": "zx_grade3"}).json()["count"] == 1
    assert client.get(API, {"grade": 4}).json()["count"] == 0
    assert client.get(API, {"kind": "boss"}).status_code == 422
    assert Client().get(API).status_code == 401


def test_api_current_false_keeps_ended_periods(users):
    ra = users["zx_teacher31"].role_assignments.get()
    end_responsibility(assignment=ra, by=None)
    client = api(users["zx_leader"])
    assert client.get(API, {"kind": "class_teacher"}).json()["count"] == 0
    assert client.get(API, {"kind": "class_teacher", "current": False}).json()["count"] == 1


def test_api_list_pins_its_query_count(users, cast, django_assert_max_num_queries):
    for i in range(10):
        make_user(
            f"t{i}",
            Role.CLASS_TEACHER,
            school=cast["schools"]["zx"],
            school_class=cast["classes"]["c41"],
        )
    client = api(users["zx_leader"])
    client.get(API)
    # session, user, roles, the units' grades, count, page, and the session saved
    with django_assert_max_num_queries(9):
        assert client.get(API).json()["count"] == 12


@pytest.mark.parametrize(
    "role, status",
    [
        ("zx_leader", 201),
        ("town", 201),
        ("zx_grade3", 403),
        ("inspector", 403),
        ("bq_leader", 404),
        ("proxy_wang", 404),
    ],
)
def test_api_create_scope(users, role, status):
    body = {"kind": "class_teacher", "school": "HS-ZX", "grade": 3, "class_no": 2}
    body |= {"user": "zx_counselor", "term": term_choices()[0][0]}
    resp = api(users[role]).post(API, body, content_type="application/json")
    assert resp.status_code == status, resp.content
    if status == 201:
        assert (resp.json()["kind"], resp.json()["class_no"]) == ("class_teacher", 2)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"user": "nobody"}, "user"),
        ({"user": "bq_leader"}, "user"),
        ({"class_no": 9}, "class_no"),
        ({"term": "2026"}, "term"),
        ({"term": None, "valid_from": "2026-09-01", "valid_to": "2026-01-01"}, "valid_to"),
        ({"kind": "grade_leader"}, "class_no"),
        ({"kind": "grade_leader", "class_no": None, "grade": 8}, "grade"),
        ({"kind": "boss"}, "kind"),
        ({"user": None}, "user"),
        ({"valid_from": "2026-02-30", "term": None}, "valid_from"),
        ({"extra": 1}, "extra"),
    ],
)
def test_api_create_bad_body_names_the_field(users, body, field):
    base = {"kind": "class_teacher", "school": "HS-ZX", "grade": 3, "class_no": 2}
    base |= {"user": "zx_counselor", "term": term_choices()[0][0]}
    resp = api(users["zx_leader"]).post(API, base | body, content_type="application/json")
    assert resp.status_code == 422, resp.content
    assert field in {d["field"] for d in resp.json()["detail"]}
    assert not RoleAssignment.objects.filter(school_class__grade=3, school_class__class_no=2)


def test_api_end_and_gaps(users, cast):
    ra = users["zx_teacher31"].role_assignments.get()
    assert api(users["bq_leader"]).post(f"{API}/{ra.pk}/end").status_code == 404
    assert api(users["zx_grade3"]).post(f"{API}/{ra.pk}/end").status_code == 403
    resp = api(users["zx_leader"]).post(f"{API}/{ra.pk}/end")
    assert resp.status_code == 200 and resp.json()["valid_to"]
    again = api(users["zx_leader"]).post(f"{API}/{ra.pk}/end")
    assert again.status_code == 422 and "已结束" in again.json()["detail"][0]["msg"]
    gaps = api(users["zx_leader"]).get(f"{API}/gaps").json()
    assert gaps["grades_without_leader"] == [{"school": "HS-ZX", "grade": 4}]
    assert len(gaps["classes_without_teacher"]) == 3
    assert {c["name"] for c in gaps["children_without_responsible_teacher"]} == {
        "张三",
        "单小明",
        "李四",
    }
    bq = api(users["bq_leader"]).get(f"{API}/gaps").json()
    assert [c["name"] for c in bq["children_without_responsible_teacher"]] == ["赵六"]
    assert api(users["proxy_wang"]).get(f"{API}/gaps").json() == {
        "grades_without_leader": [],
        "classes_without_teacher": [],
        "children_without_responsible_teacher": [],
    }


def test_api_sets_a_responsible_teacher(users, cast):
    kid = cast["children"]["c31a"]
    url = f"{API}/children/{kid.pk}"
    body = {"responsible_teacher": "zx_counselor"}
    teacher = api(users["zx_teacher31"])
    resp = teacher.post(url, body, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["responsible_teacher_name"] == "周老师"
    assert (
        api(users["bq_leader"]).post(url, body, content_type="application/json").status_code == 404
    )
    assert (
        api(users["zx_counselor"]).post(url, body, content_type="application/json").status_code
        == 403
    )
    assert (
        api(users["proxy_wang"]).post(url, body, content_type="application/json").status_code == 403
    )
    bad = teacher.post(url, {"responsible_teacher": "bq_leader"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "responsible_teacher"
    assert teacher.post(url, {}, content_type="application/json").status_code == 422
    cleared = teacher.post(url, {"responsible_teacher": None}, content_type="application/json")
    assert cleared.json()["responsible_teacher"] is None


def test_class_children_page_pins_its_query_count(
    client, users, cast, django_assert_max_num_queries
):
    for i in range(15):
        make_child(cast["classes"]["c31"], name=f"学生{i}")
    client.force_login(users["zx_teacher31"])
    url = reverse("pairing:class_children", args=[cast["classes"]["c31"].pk])
    client.get(url)
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert len(response.context["children"]) == 17
