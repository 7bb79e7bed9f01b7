"""Card pages: list, card, edit with history and version check, add by hand."""

import datetime as dt

from django.urls import reverse

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.testing import make_child, new_id_number


def edit_data(child_page_form, **changes):
    data = {
        k: ("" if v is None else v)
        for k, v in child_page_form.initial.items()
        if not k.startswith("_")
    }
    data = {k: v for k, v in data.items() if v is not False and v != []}
    data.update(changes)
    return data


def test_list_search_by_pinyin_initials(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("children:list"), {"q": "zs"}).content.decode()
    assert "张三" in body and "单小明" not in body


def test_list_masks_id_and_phone(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    child = cast["children"]["c31a"]
    body = client.get(reverse("children:list")).content.decode()
    assert child.id_number_masked in body and child.id_number not in body
    assert "139****5678" in body and "13912345678" not in body


def test_list_htmx_returns_fragment(client, cast):
    client.force_login(cast["users"]["town"])
    response = client.get(reverse("children:list"), {"q": "李"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "李四" in body


def test_list_empty_state_says_what_to_do(client, cast):
    client.force_login(cast["users"]["town"])
    body = client.get(reverse("children:list"), {"q": "不存在的人"}).content.decode()
    assert "没有找到符合条件的学生" in body


def test_list_filters_civil_affairs_and_category(client, cast):
    client.force_login(cast["users"]["town"])
    page = client.get(reverse("children:list"), {"category": "single"}).context["page"]
    assert [c.name for c in page.object_list] == ["单小明"]
    page = client.get(reverse("children:list"), {"civil": "1"}).context["page"]
    assert {c.name for c in page.object_list} == {"张三", "李四", "赵六", "孙七"}


def test_list_page_query_count_is_pinned(client, cast, django_assert_max_num_queries):
    for i in range(15):
        make_child(cast["classes"]["c31"], name=f"学生{i}")
    client.force_login(cast["users"]["town"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("children:list"))
    assert response.status_code == 200
    assert "学生14" in response.content.decode()


def test_card_shows_derived_category_with_reason(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("children:detail", args=[cast["children"]["c31b"].pk])).content
    text = body.decode()
    assert "单留守" in text and "母亲外出务工，父亲在家" in text


def test_card_full_id_only_on_request_and_logged(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    plain = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    ids = AccessLog.objects.filter(action="view_id_number")
    assert child.id_number not in plain and not ids.exists()
    shown = client.get(reverse("children:detail", args=[child.pk]), {"show_id": "1"})
    assert child.id_number in shown.content.decode()
    assert ids.filter(child=child, username="zx_teacher31").count() == 1


def test_card_shows_phones_in_full_and_logs_each_view(client, cast):
    child = cast["children"]["c31a"]  # the guardian's phone is 13912345678
    client.force_login(cast["users"]["zx_teacher31"])
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'href="tel:13912345678"' in page
    log = AccessLog.objects.get(action="view_sensitive")
    assert (log.child, log.username, log.detail) == (
        child,
        "zx_teacher31",
        "档卡页查看完整电话号码",
    )
    client.get(reverse("children:detail", args=[child.pk]))
    assert AccessLog.objects.filter(action="view_sensitive").count() == 2


def test_a_card_without_phones_writes_no_phone_log(client, cast):
    child = cast["children"]["c31a"]
    child.guardian.phone = ""
    child.guardian.save()
    child.parents.update(phone="")
    client.force_login(cast["users"]["zx_teacher31"])
    client.get(reverse("children:detail", args=[child.pk]))
    assert not AccessLog.objects.filter(action="view_sensitive").exists()


def test_inspector_cannot_reveal_full_id(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["inspector"])
    body = client.get(reverse("children:detail", args=[child.pk]), {"show_id": "1"}).content
    assert child.id_number not in body.decode()
    assert not AccessLog.objects.filter(action="view_id_number").exists()


def test_proxy_card_has_no_id_health_psychology(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["proxy_wang"])
    body = client.get(reverse("children:detail", args=[child.pk]), {"show_id": "1"}).content
    text = body.decode()
    assert "身份证号" not in text and "健康状况" not in text and "心理状况" not in text
    assert child.id_number_masked not in text


def edit_url(child, section: str = "all") -> str:
    return reverse("children:edit", args=[child.pk]) + f"?section={section}"


def _form(client, child):
    return client.get(edit_url(child)).context["form"]


def test_edit_guardian_phone_appears_in_history(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    form = _form(client, child)
    response = client.post(
        edit_url(child),
        edit_data(form, **{"guardian.phone": "137 0000 2222", "reason": "电话换号"}),
    )
    assert response.status_code == 302, response.context["form"].errors
    card = client.get(response["Location"]).content.decode()
    assert "13700002222" in card
    assert "监护人电话：13912345678 → <strong>13700002222</strong>" in card
    assert "电话换号" in card


def test_edit_with_stale_version_is_refused_and_keeps_input(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    form = _form(client, child)
    first = edit_data(form, village="甲村")
    second = edit_data(form, village="乙村")
    assert client.post(edit_url(child), first).status_code == 302
    response = client.post(edit_url(child), second)
    assert response.status_code == 409
    text = response.content.decode()
    assert "已被他人修改" in text and "乙村" in text
    child.refresh_from_db()
    assert child.village == "甲村"


def test_edit_bad_input_names_field_in_chinese(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    form = _form(client, child)
    response = client.post(
        edit_url(child),
        edit_data(form, **{"guardian.phone": "12345", "birth_date": "2001-01-01"}),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "不是 11 位手机号" in errors["guardian.phone"][0]
    assert "不一致" in errors["birth_date"][0]
    child.refresh_from_db()
    assert child.guardian.phone == "13912345678"


def test_unchanged_save_adds_no_history(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    before = child.history.count()
    form = _form(client, child)
    assert client.post(edit_url(child), edit_data(form)).status_code == 302
    assert child.history.count() == before


def test_create_child_by_hand(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    number = new_id_number(dt.date(2017, 9, 9), "female")
    response = client.post(
        reverse("children:create"),
        {
            "school_class": cast["classes"]["c31"].pk,
            "name": "刘小红",
            "id_number": number,
            "father.status": "away",
            "mother.status": "home",
            "hukou": "rural",
        },
    )
    assert response.status_code == 302
    child = Child.objects.get(name="刘小红")
    assert child.birth_date == dt.date(2017, 9, 9) and child.gender == "female"
    assert child.category == "single"
    assert child.id_number_enc and number not in child.id_number_enc


def test_create_refuses_id_active_at_other_school(client, cast):
    other = cast["children"]["bq31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(
        reverse("children:create"),
        {
            "school_class": cast["classes"]["c31"].pk,
            "name": "重复",
            "id_number": other.id_number,
        },
    )
    assert response.status_code == 200
    assert "板桥小学" in response.context["form"].errors["id_number"][0]


def test_create_requires_class_in_own_scope(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(
        reverse("children:create"),
        {
            "school_class": cast["classes"]["bq31"].pk,
            "name": "越权",
            "id_number": new_id_number(dt.date(2017, 1, 1)),
        },
    )
    assert response.status_code == 200
    assert not Child.objects.filter(name="越权").exists()


def test_create_bad_id_number_messages(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    for bad, message in (("430102201503021231", "校验位"), ("4301022015", "18 位"), ("", "学籍号")):
        response = client.post(
            reverse("children:create"),
            {"school_class": cast["classes"]["c31"].pk, "name": "坏号", "id_number": bad},
        )
        assert message in str(response.context["form"].errors), bad
    assert not Child.objects.filter(name="坏号").exists()


def test_reduced_card_history_hides_health_and_psychology(client, cast):
    from guanai.children.services import update_child

    child = cast["children"]["c31a"]
    update_child(
        child=child,
        version=child.version,
        by=None,
        data={"health": "哮喘需随身带药", "psych_summary": "想念妈妈"},
    )
    client.force_login(cast["users"]["proxy_wang"])
    text = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert "哮喘" not in text and "想念妈妈" not in text
    client.force_login(cast["users"]["zx_teacher31"])
    text = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert "哮喘需随身带药" in text


def test_add_button_only_for_those_who_can_add(client, cast):
    for role, expected in (
        ("proxy_wang", False),
        ("zx_counselor", False),
        ("inspector", False),
        ("zx_teacher31", True),
        ("zx_leader", True),
    ):
        client.force_login(cast["users"][role])
        body = client.get(reverse("children:list")).content.decode()
        assert ("添加学生" in body) is expected, role


def test_proxy_list_has_no_id_column(client, cast):
    client.force_login(cast["users"]["proxy_wang"])
    body = client.get(reverse("children:list")).content.decode()
    assert "身份证号" not in body.split("<tbody>")[0].split("<thead>")[-1]
    assert cast["children"]["c31a"].id_number_masked not in body


def test_card_creation_is_one_history_entry(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["town"])
    items = client.get(f"/api/v1/children/{child.pk}/history").json()["items"]
    assert len(items) == 1
    fields = {c["field"] for c in items[0]["changes"]}
    assert {"name", "father.status", "guardian.phone"} <= fields


def test_edit_page_edits_one_section_at_a_time(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    first = client.get(reverse("children:edit", args=[child.pk]))
    assert "name" in first.context["form"].fields
    assert "guardian.phone" not in first.context["form"].fields
    text = first.content.decode()
    assert 'href="?section=guardian"' in text and "全部信息" in text
    assert len(client.get(edit_url(child)).context["form"].fields) > 50  # the full form
    url = edit_url(child, "guardian")
    form = client.get(url).context["form"]
    assert {k for k in form.fields if k not in ("reason", "version")} == {
        k for k in form.fields if k.startswith("guardian.")
    }
    data = {k: form[k].value() for k in form.fields if form[k].value() not in (None, False)}
    response = client.post(url, data | {"guardian.phone": "13700002222"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.guardian.phone == "13700002222"
    # the sections not shown were left as they were
    assert child.village == "虎山村" and child.parent("father").phone == "13812345678"
    assert child.name == "张三" and child.id_number_hash


def test_edit_page_logs_full_phones_and_ids_only_where_it_shows_them(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    client.get(edit_url(child, "address"))
    assert not AccessLog.objects.exists()
    client.get(edit_url(child, "guardian"))
    log = AccessLog.objects.get()
    assert (log.action, log.child, log.detail) == (
        "view_sensitive",
        child,
        "编辑档卡时查看完整电话号码",
    )
    client.get(edit_url(child, "basic"))
    assert AccessLog.objects.filter(action="view_id_number").count() == 1


def test_list_pages_keep_the_filters(client, cast):
    """One pagination partial for every list: the page links keep the search and filters."""
    school_class = cast["children"]["c31a"].school_class
    for i in range(30):
        make_child(school_class, name=f"翻页{i:02d}")
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("children:list"), {"q": "翻页"}).content.decode()
    assert "第 1 / 2 页" in body and "上一页" not in body
    assert "q=%E7%BF%BB%E9%A1%B5" in body and "page=2" in body
    second = client.get(reverse("children:list"), {"q": "翻页", "page": 2}).content.decode()
    assert "第 2 / 2 页" in second and "上一页" in second and "下一页" not in second
    assert second.count('class="child-row"') == 5


def test_list_filtered_to_a_school_offers_its_cards_in_one_file(client, cast):
    """A school leader's list filtered to his school links to the whole school's cards; a class
    teacher (who prints per class) and a list without a school filter do not."""
    school = cast["children"]["c31a"].school
    client.force_login(cast["users"]["zx_leader"])
    body = client.get(reverse("children:list"), {"school": school.code}).content.decode()
    assert f"打印{school.name}全校档卡" in body and f"?school={school.code}" in body
    assert "全校档卡" not in client.get(reverse("children:list")).content.decode()
    client.force_login(cast["users"]["zx_teacher31"])
    body = client.get(reverse("children:list"), {"school": school.code}).content.decode()
    assert "全校档卡" not in body
