"""Roster export (SPEC §6.1 `guanai export-roster`): the template's columns under a title row,
full ID numbers as text, and a round trip that re-imports every row unchanged."""

import io

import openpyxl
import pytest
from django.core.management import call_command

from guanai.accounts.models import AccessLog
from guanai.children.models import Child, Enrolment
from guanai.children.roster import COLUMNS, export_roster
from guanai.children.services import create_child
from guanai.children.tests.test_roster_import import ident, run, sheet
from guanai.testing import SUITE_TODAY, make_class


def export(path, school: str = "HS-BQ", *args: str) -> int:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "export_roster", "--school", school, "-o", str(path), *args, stdout=out, stderr=err
        )
    except SystemExit as exc:
        return exc.code
    return 0


def rows_of(path) -> list[list]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    return [[c for c in row] for row in ws.iter_rows()]


def test_title_row_names_school_exporter_and_time_then_the_template_header(cast, tmp_path):
    path = tmp_path / "out.xlsx"
    assert export(path, "HS-BQ", "--by", "bq_leader") == 0
    rows = rows_of(path)
    title = rows[0][0].value
    assert "板桥小学" in title and "赵校长" in title
    assert SUITE_TODAY.isoformat() in title
    assert [c.value for c in rows[1]] == COLUMNS
    assert len(rows) == 3  # one child at HS-BQ


def test_exporter_defaults_to_command_line(cast, tmp_path):
    path = tmp_path / "out.xlsx"
    assert export(path) == 0
    assert "命令行" in rows_of(path)[0][0].value


def test_cells_are_text_full_ids_chinese_labels_and_iso_dates(cast, tmp_path, kids):
    child = kids["bq31a"]
    path = tmp_path / "out.xlsx"
    export(path)
    header, row = rows_of(path)[1:3]
    cell = {h.value: c for h, c in zip(header, row, strict=True)}
    assert cell["身份证号"].value == child.id_number and cell["身份证号"].data_type == "s"
    assert cell["监护人电话"].value == "13912345678" and cell["监护人电话"].data_type == "s"
    assert cell["父亲电话"].data_type == "s"
    assert cell["出生日期"].value == "2017-06-06" and cell["出生日期"].data_type == "s"
    assert cell["性别"].value == "男"
    assert cell["父亲状况"].value == "外出务工" and cell["母亲状况"].value == "外出务工"
    assert cell["户口性质"].value == "农业"
    assert (cell["年级"].value, cell["班级"].value) == (3, 1)
    assert cell["监护人关系"].value == "祖母" and cell["监护人年龄"].value == 66


def test_only_the_schools_enrolled_children_are_exported(cast, tmp_path, kids):
    klass = cast["classes"]["bq31"]
    gone = create_child(school_class=klass, data={"name": "已毕业", "student_no": "G1"}, by=None)
    gone.enrolment = Enrolment.GRADUATED
    gone.save()
    path = tmp_path / "out.xlsx"
    n = export_roster(school=cast["schools"]["bq"], path=path)
    names = [r[0].value for r in rows_of(path)[2:]]
    assert n == 1 and names == ["赵六"]


def test_export_is_written_to_the_access_log(cast, users, tmp_path):
    path = tmp_path / "out.xlsx"
    export(path, "HS-BQ", "--by", "bq_leader")
    log = AccessLog.objects.get(action="export")
    assert log.user == users["bq_leader"] and log.school.code == "HS-BQ"
    export(path)
    assert AccessLog.objects.filter(action="export", user=None, username="命令行").count() == 1


def test_unknown_school_exits_2(cast, tmp_path):
    assert export(tmp_path / "out.xlsx", "NO-SUCH") == 2


def test_round_trip_reports_every_row_unchanged(cast, tmp_path):
    bq = cast["schools"]["bq"]
    klass = cast["classes"]["bq31"]
    # a bare card: no optional field at all, no ID number
    create_child(school_class=klass, data={"name": "只有学籍号", "student_no": "G0001"}, by=None)
    # a bare card with an ID number only
    create_child(school_class=klass, data={"name": "只有身份证", "id_number": ident()}, by=None)
    # a card with everything, a landline, a second phone kept in 备注, an odd class
    create_child(
        school_class=make_class(bq, 0, 2),
        data={
            "name": "全都有",
            "id_number": ident(seq=12),
            "student_no": "G0002",
            "school_no": "20230101",
            "ethnicity": "苗族",
            "hukou": "urban",
            "is_migrant": True,
            "boarding": False,
            "village": "板桥村",
            "group": "2组",
            "address": "板桥村2组8号",
            "health": "良好",
            "notes": "父亲电话另有：13900000000",
            "father.name": "全父",
            "father.status": "deceased",
            "father.phone": "0739-8123456",
            "father.work_place": "",
            "mother.name": "全母",
            "mother.status": "away",
            "mother.work_place": "广东东莞",
            "mother.phone": "13712345678",
            "guardian.name": "全奶",
            "guardian.relation": "外祖母",
            "guardian.phone": "13912345678",
            "guardian.age": "70",
        },
        by=None,
    )
    # an imported card whose second phone went to 备注
    head = ["姓名", "身份证号", "年级", "班级", "父亲电话", "母亲状况"]
    run(
        sheet(
            tmp_path,
            [["导入的", ident(seq=14), "初一", "(3)班", "13812345678/13912345678", "务农"]],
            head,
        )
    )
    path = tmp_path / "out.xlsx"
    total = export_roster(school=bq, path=path)
    assert total == Child.objects.filter(school=bq).count() == 5
    history = Child.history.count()
    code, result, _ = run(path)
    assert code == 0, result
    assert result == {
        "rows": total,
        "created": 0,
        "updated": 0,
        "unchanged": total,
        "rejected": 0,
        "errors": [],
    }
    assert Child.history.count() == history


@pytest.mark.parametrize("by", ["bq_leader", None])
def test_exported_file_reimports_into_a_fresh_school(cast, tmp_path, by):
    # the export of one school, imported into a school that has none of them, creates them
    # all (the cards are enrolled elsewhere only after we move them: graduate them first)
    path = tmp_path / "out.xlsx"
    export(path, "HS-BQ", *(["--by", by] if by else []))
    Child.objects.filter(school__code="HS-BQ").update(enrolment=Enrolment.GRADUATED)
    code, result, _ = run(path, "HS-GT")
    assert code == 0 and result["updated"] == 1
    assert Child.objects.get(name="赵六").school.code == "HS-GT"


def test_unwritable_output_exits_2_and_logs_nothing(cast, tmp_path):
    assert export(tmp_path / "missing-dir" / "out.xlsx") == 2
    assert not AccessLog.objects.filter(action="export").exists()
