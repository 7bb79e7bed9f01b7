"""Dated facts (issue #12): a parent's away-since date, entrustment and confirmation dates and a
birth have happened, so a date after today is refused — with a message naming the field — in the
card form, the API and roster rows alike. The roster carries 父亲外出时间 and 母亲外出时间 (SPEC
§6.2): imported on new and known cards, exported, and a round trip changes nothing."""

import datetime as dt

import openpyxl
import pytest
from django.urls import reverse

from guanai.children.models import Child
from guanai.children.roster import COLUMNS, export_roster, write_template
from guanai.children.tests.test_roster_import import child_of, errors_by_row, ident, run, sheet
from guanai.children.validation import CardInvalid, clean_card
from guanai.testing import SUITE_TODAY

TOMORROW = SUITE_TODAY + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("father.away_since", "父亲外出时间"),
        ("mother.away_since", "母亲外出时间"),
        ("father.effective_from", "父亲状况起始日期"),
        ("guardian.entrustment_notice_on", "委托监护告知书日期"),
        ("guardian.confirmation_signed_on", "被委托人确认书签署日期"),
        ("birth_date", "出生日期"),
    ],
)
def test_a_fact_dated_after_today_is_refused_naming_the_field(key, label):
    with pytest.raises(CardInvalid) as exc:
        clean_card({key: "2027-03-01"})
    assert label in exc.value.errors[key] and "不能晚于今天" in exc.value.errors[key]
    with pytest.raises(CardInvalid):
        clean_card({key: TOMORROW.isoformat()})
    assert clean_card({key: SUITE_TODAY.isoformat()})[key] == SUITE_TODAY


def test_card_form_refuses_a_near_future_away_date_and_the_child_stays_left_behind(client, cast):
    child = cast["children"]["c31b"]  # 单留守: mother away, father at home
    client.force_login(cast["users"]["zx_teacher31"])
    url = reverse("children:edit", args=[child.pk]) + "?section=mother"
    form = client.get(url).context["form"]
    data = {k: form[k].value() or "" for k in form.fields} | {"mother.away_since": "2027-03-01"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "母亲外出时间不能晚于今天" in response.context["form"].errors["mother.away_since"][0]
    child.refresh_from_db()
    assert child.category == "single" and child.parent("mother").away_since is None


def test_api_refuses_a_future_away_date(client, cast):
    child = cast["children"]["c31b"]
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "mother": {"away_since": "2027-03-01"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "母亲外出时间不能晚于今天" in str(response.json())
    assert Child.objects.get(pk=child.pk).category == "single"


# --- the roster ------------------------------------------------------------------------------

HEAD = ["姓名", "身份证号", "年级", "班级", "父亲状况", "父亲外出时间", "母亲状况", "母亲外出时间"]


def test_template_and_export_carry_the_away_since_columns(cast, tmp_path):
    assert COLUMNS.index("父亲外出时间") == COLUMNS.index("父亲状况") + 1
    assert COLUMNS.index("母亲外出时间") == COLUMNS.index("母亲状况") + 1
    path = write_template(tmp_path / "template.xlsx")
    book = openpyxl.load_workbook(path)
    assert [c.value for c in book.worksheets[0][1]] == COLUMNS
    assert any("外出时间" in (r[0] or "") for r in book.worksheets[1].iter_rows(values_only=True))


def test_import_new_cards_reads_every_date_form_and_classifies_by_it(cast, tmp_path):
    rows = [
        # away for two months only: not yet left-behind (3 months)
        ["新近外出", ident(seq=11), 3, 1, "外出务工", "2026年9月30日", "在家", ""],
        # an Excel date, and a serial number
        ["早已外出", ident(seq=13), 3, 1, "外出务工", dt.date(2025, 3, 1), "外出务工", 45000],
        ["点号日期", ident(seq=15), 3, 1, "外出务工", "2024.3.2", "在家", ""],
    ]
    code, result, _ = run(sheet(tmp_path, rows, HEAD))
    assert code == 0 and result["created"] == 3, result
    recent = child_of(ident(seq=11))
    assert recent.parent("father").away_since == dt.date(2026, 9, 30)
    assert recent.category == "none" and "未满3个月" in recent.category_reason
    early = child_of(ident(seq=13))
    assert early.parent("father").away_since == dt.date(2025, 3, 1)
    assert early.parent("mother").away_since == dt.date(2023, 3, 15)  # serial 45000
    assert early.category == "double"
    assert child_of(ident(seq=15)).category == "single"


def test_import_updates_a_known_card_with_the_away_date(cast, tmp_path, kids):
    child = kids["bq31a"]  # both parents away, no date
    head = ["姓名", "身份证号", "年级", "班级", "父亲外出时间", "母亲状况"]
    path = sheet(tmp_path, [["赵六", child.id_number, 3, 1, "2026-10-15", "在家"]], head)
    code, result, _ = run(path)
    assert code == 0 and result["updated"] == 1, result
    child.refresh_from_db()
    assert child.parent("father").away_since == dt.date(2026, 10, 15)
    assert child.category == "none"  # father away six weeks, mother at home
    assert child.history.first().history_change_reason == "由导入更新"


def test_import_accepts_header_aliases_for_the_away_date(cast, tmp_path):
    head = ["学生姓名", "身份证号码", "年级", "班级", "父亲状况", "父亲外出务工时间"]
    code, result, _ = run(sheet(tmp_path, [["别名", ident(), 3, 1, "打工", "2025-01-01"]], head))
    assert code == 0 and result["created"] == 1
    assert child_of(ident()).parent("father").away_since == dt.date(2025, 1, 1)


def test_import_refuses_a_future_away_date_naming_the_column(cast, tmp_path, kids):
    rows = [
        ["将来", ident(seq=11), 3, 1, "外出务工", "2027-03-01", "在家", ""],
        ["赵六", kids["bq31a"].id_number, 3, 1, "外出务工", "", "外出务工", "2027年3月1日"],
    ]
    code, result, _ = run(sheet(tmp_path, rows, HEAD))
    assert code == 1 and result["rejected"] == 2 and result["created"] == 0
    errors = errors_by_row(result)
    assert errors[2][0][0] == "父亲外出时间" and "不能晚于今天" in errors[2][0][1]
    assert errors[3][0][0] == "母亲外出时间"
    assert kids["bq31a"].parents.get(relation="mother").away_since is None


def test_round_trip_with_away_dates_is_unchanged(cast, tmp_path, kids):
    child = kids["bq31a"]
    from guanai.children.services import update_child

    update_child(
        child=child,
        data={"father.away_since": "2025-02-03", "mother.away_since": "2026-11-01"},
        version=child.version,
        by=None,
    )
    path = tmp_path / "out.xlsx"
    export_roster(school=cast["schools"]["bq"], path=path)
    rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
    cell = dict(zip(rows[1], rows[2], strict=True))
    assert (cell["父亲外出时间"], cell["母亲外出时间"]) == ("2025-02-03", "2026-11-01")
    history = Child.history.count()
    code, result, _ = run(path)
    assert code == 0 and result["unchanged"] == 1 and result["updated"] == 0, result
    assert Child.history.count() == history
