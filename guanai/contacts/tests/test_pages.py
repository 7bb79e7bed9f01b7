"""Contact pages: scope for every role, the phone form (idempotent resubmit), follow-ups on the
home page, due lists, coverage, rules and the weekly plan."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from guanai.children.models import Child
from guanai.contacts.models import Contact, ContactPhoto, ContactRule, PlannedVisit
from guanai.testing import SEES_NOTES, VISIBLE

from .helpers import add_contact, at, created_on

ROLES = list(VISIBLE)
KIDS = ["c31a", "c31b", "c32a", "c41a", "bq31a", "gt"]


def form_data(child, **over):
    data = {
        "child": child.pk,
        "kind": "home_visit",
        "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "with_whom": "祖母 张奶奶",
        "study_level": "normal",
        "study_text": "作业完成好",
        "safety_level": "follow_up",
        "safety_text": "家门口有池塘",
        "notes": "嘱咐奶奶看好孩子",
        "follow_up_by": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        "idempotency_key": "form-key-1",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_log_form_scope(client, cast, role, kid):
    client.force_login(cast["users"][role])
    url = f"{reverse('contacts:new')}?child={cast['children'][kid].pk}"
    response = client.get(url)
    if role == "inspector":
        assert response.status_code == 403
    else:
        assert response.status_code == (200 if kid in VISIBLE[role] else 404)
    posted = client.post(reverse("contacts:new"), form_data(cast["children"][kid]))
    if role == "inspector":
        assert posted.status_code == 403
    elif kid in VISIBLE[role]:
        assert posted.status_code == 302
    else:
        assert posted.status_code == 404
    assert Contact.objects.filter(child=cast["children"][kid]).exists() is (
        role != "inspector" and kid in VISIBLE[role]
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kid", KIDS)
def test_timeline_scope(client, cast, role, kid):
    child = cast["children"][kid]
    add_contact(child, cast["users"]["town"], notes="秘密记录 " + kid)
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:timeline", args=[child.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == (200 if kid in VISIBLE[role] else 404)
    if response.status_code == 200:
        # others' notes: the class teacher, leaders and counselor (SPEC §4); the inspector
        # and a proxy parent read only their date and kind
        shown = "秘密记录 " + kid in response.content.decode()
        assert shown is (kid in SEES_NOTES[role])


def test_form_saves_the_visit_with_findings_and_follow_up(client, cast):
    teacher, child = cast["users"]["zx_teacher31"], cast["children"]["c31a"]
    client.force_login(teacher)
    response = client.post(reverse("contacts:new"), form_data(child))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('contacts:index')}?saved={child.pk}"
    c = Contact.objects.get()
    assert (c.kind, c.by, c.with_whom) == ("home_visit", teacher, "祖母 张奶奶")
    assert (c.study_level, c.safety_level, c.safety_text) == ("normal", "follow_up", "家门口有池塘")
    assert c.follow_up_by == timezone.localdate() + dt.timedelta(days=7)
    assert c.idempotency_key == "form-key-1"


def test_resubmitting_the_form_after_a_network_drop_creates_no_duplicate(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    data = form_data(cast["children"]["c31a"])
    client.post(reverse("contacts:new"), data)
    again = client.post(reverse("contacts:new"), data, follow=True)
    assert Contact.objects.count() == 1
    assert "没有重复保存" in again.content.decode()


def test_same_form_key_with_changed_content_is_refused_not_duplicated(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    client.post(reverse("contacts:new"), form_data(cast["children"]["c31a"]))
    response = client.post(
        reverse("contacts:new"), form_data(cast["children"]["c31a"], notes="改了")
    )
    assert response.status_code == 200
    assert "已经保存过" in response.content.decode()
    assert Contact.objects.count() == 1


def test_each_fresh_form_carries_its_own_key(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    url = f"{reverse('contacts:new')}?child={cast['children']['c31a'].pk}"
    one, two = client.get(url), client.get(url)
    assert (
        one.context["form"].initial["idempotency_key"]
        != two.context["form"].initial["idempotency_key"]
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "fax"}, "kind", "所选联系方式不在可选范围内"),
        ({"at": "昨天"}, "at", ""),
        ({"at": "2030-01-01T10:00"}, "at", "不能晚于现在"),
        ({"follow_up_by": "2020-01-01"}, "follow_up_by", "不能早于联系日期"),
        ({"safety_level": "danger"}, "safety_level", ""),
        ({"with_whom": "长" * 101}, "with_whom", ""),
        ({"study_text": "长" * 501}, "study_text", ""),
        ({"idempotency_key": ""}, "idempotency_key", ""),
    ],
)
def test_bad_form_input_is_shown_at_the_field_and_nothing_saved(
    client, cast, change, field, message
):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(reverse("contacts:new"), form_data(cast["children"]["c31a"], **change))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Contact.objects.exists()


def test_form_shows_the_last_visit_findings(client, cast):
    child = cast["children"]["c31a"]
    add_contact(
        child,
        cast["users"]["zx_leader"],
        "home_visit",
        at(dt.date(2026, 10, 8)),
        psych_level="watch",
        psych_text="想妈妈，常哭",
        life_level="normal",
        life_text="奶奶照顾周到",
    )
    client.force_login(cast["users"]["zx_counselor"])
    body = client.get(f"{reverse('contacts:new')}?child={child.pk}").content.decode()
    assert "上次家访 2026-10-08" in body and "想妈妈，常哭" in body and "奶奶照顾周到" in body
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(f"{reverse('contacts:new')}?child={child.pk}").content.decode()
    assert "上次家访 2026-10-08" in body and "奶奶照顾周到" in body
    assert "想妈妈，常哭" not in body and "已记录（仅心理辅导老师和学校领导可查看）" in body
    client.force_login(cast["users"]["proxy_wang"])
    body = client.get(f"{reverse('contacts:new')}?child={child.pk}").content.decode()
    assert "上次家访 2026-10-08" in body  # somebody else's visit: its date only
    assert "奶奶照顾周到" not in body and "想妈妈，常哭" not in body and "刘校长" not in body


def test_photo_only_with_consent_and_served_only_in_scope(client, cast, settings, tmp_path):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    upload = io.BytesIO(png.getvalue())
    upload.name = "visit.png"
    data = form_data(child, photos=upload)
    response = client.get(f"{reverse('contacts:new')}?child={child.pk}")
    assert "photos" not in response.context["form"].fields  # no consent on the card
    Child.objects.filter(pk=child.pk).update(photo_consent=True)
    response = client.post(reverse("contacts:new"), data)
    assert response.status_code == 302
    item = ContactPhoto.objects.get()
    assert client.get(reverse("contacts:photo", args=[item.pk])).status_code == 200
    client.force_login(cast["users"]["bq_leader"])
    assert client.get(reverse("contacts:photo", args=[item.pk])).status_code == 404


def test_photo_that_is_not_an_image_is_refused(client, cast):
    child = cast["children"]["c31a"]
    Child.objects.filter(pk=child.pk).update(photo_consent=True)
    client.force_login(cast["users"]["zx_teacher31"])
    upload = io.BytesIO(b"MZ not a photo")
    upload.name = "virus.exe"
    response = client.post(reverse("contacts:new"), form_data(child, photos=upload))
    assert response.status_code == 200 and not Contact.objects.exists()
    assert "不是 JPG 或 PNG" in response.content.decode()


def test_card_page_loads_the_timeline_section(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert reverse("contacts:timeline", args=[child.pk]) in body and 'id="contacts"' in body


# --- follow-ups on the home page ----------------------------------------------------------------


def test_follow_up_appears_on_the_teachers_home_page_until_done(client, cast):
    teacher, child = cast["users"]["zx_teacher31"], cast["children"]["c31a"]
    client.force_login(teacher)
    client.post(reverse("contacts:new"), form_data(child, notes="需要联系村委会修护栏"))
    contact = Contact.objects.get()
    home = client.get(reverse("home")).content.decode()
    assert f'data-follow-up="{contact.pk}"' in home and "需要联系村委会修护栏" in home
    client.force_login(cast["users"]["zx_leader"])  # recorded by someone else: not on her page
    assert f'data-follow-up="{contact.pk}"' not in client.get(reverse("home")).content.decode()
    client.force_login(teacher)
    # one tap records nothing: what was done is asked for
    response = client.post(reverse("contacts:done", args=[contact.pk]), {"next": "/"}, follow=True)
    assert "请简要写下做了什么" in response.content.decode()
    assert f'data-follow-up="{contact.pk}"' in response.content.decode()
    response = client.post(
        reverse("contacts:done", args=[contact.pk]), {"next": "/", "note": "已找村委，下周修好"}
    )
    assert response.status_code == 302
    assert f'data-follow-up="{contact.pk}"' not in client.get(reverse("home")).content.decode()
    contact.refresh_from_db()
    assert contact.follow_up_note == "已找村委，下周修好" and contact.follow_up_done_by == teacher
    timeline = client.get(reverse("contacts:timeline", args=[child.pk])).content.decode()
    assert "跟进已完成 2026-11-29 · 王老师：已找村委，下周修好" in timeline


def test_follow_up_recorded_by_another_shows_for_the_responsible_teacher(client, cast):
    child = cast["children"]["c32a"]
    Child.objects.filter(pk=child.pk).update(responsible_teacher=cast["users"]["zx_teacher31"])
    c = add_contact(child, cast["users"]["zx_leader"], follow_up_by=timezone.localdate())
    client.force_login(cast["users"]["zx_teacher31"])
    assert f'data-follow-up="{c.pk}"' in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_follow_up_done_scope(client, cast, role):
    child = cast["children"]["c31a"]
    c = add_contact(child, cast["users"]["town"], follow_up_by=timezone.localdate())
    client.force_login(cast["users"][role])
    response = client.post(reverse("contacts:done", args=[c.pk]), {"note": "已处理"})
    if role == "inspector":
        assert response.status_code == 403
    elif role == "proxy_wang":
        assert response.status_code == 404  # not his contact: he does not read its follow-up
    else:
        assert response.status_code == (302 if "c31a" in VISIBLE[role] else 404)
    c.refresh_from_db()
    assert (c.follow_up_note == "已处理") is (response.status_code == 302)


def test_home_page_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    teacher = cast["users"]["zx_teacher31"]
    for _ in range(15):
        add_contact(cast["children"]["c31a"], teacher, follow_up_by=timezone.localdate())
    client.force_login(teacher)
    # a fixed number, however many follow-ups: the contacts' panel and one short query or two
    # for each feature's panel (child protection, inspections, activities, one's access requests)
    with django_assert_max_num_queries(19):
        client.get(reverse("home"))


# --- lists: index, due, coverage, follow-ups ------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_index_lists_only_contactable_children_own_first(client, cast, role):
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:index"))
    if role == "inspector":
        assert response.status_code == 403
        return
    names = [c.name for c in response.context["page"]]
    assert sorted(names) == sorted(cast["children"][k].name for k in VISIBLE[role])


def test_index_puts_the_teachers_own_children_first(client, cast):
    kids = cast["children"]
    Child.objects.filter(pk=kids["c41a"].pk).update(responsible_teacher=cast["users"]["zx_grade3"])
    client.force_login(cast["users"]["zx_grade3"])
    names = [c.name for c in client.get(reverse("contacts:index")).context["page"]]
    assert names[0] == kids["c41a"].name
    mine = client.get(reverse("contacts:index"), {"mine": "1"}).context["page"]
    assert [c.name for c in mine] == [kids["c41a"].name]


def test_index_search_and_htmx_fragment(client, cast):
    client.force_login(cast["users"]["zx_leader"])
    response = client.get(reverse("contacts:index"), {"q": "zs"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "张三" in body and "李四" not in body and "<html" not in body


def test_index_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    from guanai.testing import make_child

    for n in range(20):
        make_child(cast["classes"]["c31"], name=f"学生{n}")
    client.force_login(cast["users"]["zx_teacher31"])
    with django_assert_max_num_queries(16):
        response = client.get(reverse("contacts:index"))
    assert len(response.context["page"]) == 22


@pytest.mark.parametrize("role", ROLES)
def test_due_page_scope(client, cast, role):
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:due"))
    assert response.status_code == 200
    kids = cast["children"]
    shown = {i.child for i in response.context["page"]}
    assert shown == {kids[k].pk for k in VISIBLE[role] if kids[k].category in ("single", "double")}


def test_due_page_filters_and_fragment(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.get(
        reverse("contacts:due"), {"school": "HS-ZX", "grade": "3", "rule": "home_visit"}
    )
    kids = cast["children"]
    assert {i.child for i in response.context["page"]} == {
        kids["c31a"].pk,
        kids["c31b"].pk,
        kids["c32a"].pk,
    }
    fragment = client.get(reverse("contacts:due"), {"class_no": "2"}, HTTP_HX_REQUEST="true")
    assert (
        "<html" not in fragment.content.decode() and kids["c32a"].name in fragment.content.decode()
    )


def test_due_page_ignores_bad_filters(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.get(reverse("contacts:due"), {"grade": "三", "on": "昨天", "rule": "x"})
    assert response.status_code == 200 and response.context["as_of"] == timezone.localdate()


def test_due_export_for_leaders_only_and_logged(client, cast):
    from guanai.accounts.models import AccessLog

    client.force_login(cast["users"]["zx_leader"])
    response = client.get(reverse("contacts:due"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AccessLog.objects.filter(action="export", user=cast["users"]["zx_leader"]).exists()
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.get(reverse("contacts:due"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("text/html")


def test_due_page_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    from guanai.testing import make_child

    for n in range(20):
        make_child(cast["classes"]["c31"], name=f"学生{n}")
    client.force_login(cast["users"]["zx_leader"])
    with django_assert_max_num_queries(18):
        response = client.get(reverse("contacts:due"))
    assert response.context["count"] > 60


@pytest.mark.parametrize("role", ROLES)
def test_coverage_page_counts_only_scope(client, cast, role):
    kids = cast["children"]
    for k in KIDS:
        add_contact(kids[k], cast["users"]["town"], "home_visit")
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:coverage"))
    assert response.status_code == 200
    assert response.context["total"] == len(VISIBLE[role])
    assert response.context["visited"] == len(VISIBLE[role])


def test_coverage_per_class_names_those_not_visited(client, cast):
    kids = cast["children"]
    add_contact(kids["c31a"], cast["users"]["zx_teacher31"], "home_visit", at(dt.date(2026, 10, 1)))
    add_contact(kids["c31b"], cast["users"]["zx_teacher31"], "phone", at(dt.date(2026, 10, 1)))
    add_contact(kids["c32a"], cast["users"]["zx_teacher31"], "home_visit", at(dt.date(2026, 8, 31)))
    client.force_login(cast["users"]["zx_leader"])
    response = client.get(
        reverse("contacts:coverage"), {"since": "2026-09-01", "until": "2026-11-29"}
    )
    school = response.context["result"][0]
    by_label = {c.label: c for c in school.classes}
    assert (by_label["三年级(1)班"].visited, by_label["三年级(1)班"].total) == (1, 2)
    assert [n for _pk, n in by_label["三年级(1)班"].not_visited] == ["单小明"]
    assert by_label["三年级(2)班"].visited == 0  # visited before the period
    assert response.context["percent"] == 25
    assert "单小明" in response.content.decode()
    lb = client.get(reverse("contacts:coverage"), {"left_behind": "1", "since": "2026-09-01"})
    assert lb.context["total"] == 3


def test_coverage_for_the_town_summarises_per_school(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.get(reverse("contacts:coverage"))
    assert [s.code for s in response.context["result"]] == ["HS-ZX", "HS-BQ", "HS-GT"]
    one = client.get(reverse("contacts:coverage"), {"school": "HS-BQ"})
    assert [s.code for s in one.context["result"]] == ["HS-BQ"]


def test_coverage_page_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    client.force_login(cast["users"]["town"])
    with django_assert_max_num_queries(10):
        client.get(reverse("contacts:coverage"), {"school": "HS-ZX"})


@pytest.mark.parametrize("role", ROLES)
def test_follow_ups_page_scope(client, cast, role):
    c = add_contact(
        cast["children"]["bq31a"], cast["users"]["bq_leader"], follow_up_by=timezone.localdate()
    )
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:follow_ups"))
    assert response.status_code == 200
    assert (c in list(response.context["page"])) is (role in ("bq_leader",))


# --- rules page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_rules_page_shows_schools_in_scope(client, cast, role):
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:rules"))
    assert response.status_code == 200
    codes = {row["school"].code for row in response.context["rows"]}
    expected = {cast["children"][k].school.code for k in VISIBLE[role]}
    assert codes == expected


def rule_post(school, level, **over):
    prefix = f"{school.pk}-guardian_contact"
    data = {
        "school": school.pk,
        "code": "guardian_contact",
        "level": level,
        f"{prefix}-name": "每两周联系监护人",
        f"{prefix}-active": "on",
        f"{prefix}-period": "days",
        f"{prefix}-days": "14",
        f"{prefix}-kinds": ["phone", "home_visit"],
        f"{prefix}-categories": ["single", "double"],
    }
    data.update({f"{prefix}-{k}": v for k, v in over.items()})
    return data


@pytest.mark.parametrize(
    ("role", "level", "allowed"),
    [
        ("town", "town", True),
        ("town", "school", True),
        ("zx_leader", "school", True),
        ("zx_leader", "town", False),
        ("zx_teacher31", "school", False),
        ("bq_leader", "school", False),
        ("inspector", "town", False),
        ("proxy_wang", "school", False),
    ],
)
def test_who_may_change_rules(client, cast, role, level, allowed):
    client.force_login(cast["users"][role])
    response = client.post(reverse("contacts:rules"), rule_post(cast["schools"]["zx"], level))
    assert response.status_code == (302 if allowed else 403)
    assert ContactRule.objects.exists() is allowed


def test_rule_form_errors_are_reported_and_nothing_saved(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.post(
        reverse("contacts:rules"),
        rule_post(cast["schools"]["zx"], "town", days="", kinds=[]),
        follow=True,
    )
    assert "联系方式" in response.content.decode() or "天数" in response.content.decode()
    assert not ContactRule.objects.exists()


def test_school_override_and_reset(client, cast):
    zx = cast["schools"]["zx"]
    client.force_login(cast["users"]["zx_leader"])
    client.post(reverse("contacts:rules"), rule_post(zx, "school"))
    row = ContactRule.objects.get()
    assert (row.school, row.days, row.kinds) == (zx, 14, ["home_visit", "phone"])
    client.post(
        reverse("contacts:rules"),
        {"school": zx.pk, "code": "guardian_contact", "level": "school", "reset": "1"},
    )
    assert not ContactRule.objects.exists()


# --- weekly plan ----------------------------------------------------------------------------------


def test_plan_add_visit_done_remove(client, cast):
    teacher, child = cast["users"]["zx_teacher31"], cast["children"]["c31a"]
    created_on(child, dt.date(2026, 1, 1))
    client.force_login(teacher)
    page = client.get(reverse("contacts:plan"))
    assert child.pk in {i.child for i in page.context["suggestions"]}
    client.post(reverse("contacts:plan"), {"child": child.pk})
    page = client.get(reverse("contacts:plan"))
    assert [p.child_id for p in page.context["planned"]] == [child.pk]
    assert child.pk not in {i.child for i in page.context["suggestions"]}
    add_contact(child, teacher, "home_visit")
    page = client.get(reverse("contacts:plan"))
    assert page.context["done"] == 1
    client.post(reverse("contacts:plan"), {"child": child.pk, "remove": "1"})
    assert not PlannedVisit.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_plan_scope(client, cast, role):
    client.force_login(cast["users"][role])
    response = client.post(reverse("contacts:plan"), {"child": cast["children"]["bq31a"].pk})
    if role == "inspector":
        assert response.status_code == 403
    else:
        assert response.status_code == (302 if "bq31a" in VISIBLE[role] else 404)


def test_help_page(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("contacts:help")).content.decode()
    assert "第 N+1 天起列入名单" in body


def test_pages_require_login(client, cast):
    for name in ("index", "due", "coverage", "rules", "plan", "follow_ups", "letters", "messages"):
        response = client.get(reverse(f"contacts:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
