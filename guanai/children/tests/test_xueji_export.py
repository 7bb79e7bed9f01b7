"""`guanai export-xueji` (SPEC §6.3): the yearly 留守 update for the 学籍 administrator, and its
round trip through `guanai import-roster`."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.testing import make_child

from .test_xueji_mismatch import FACTS


def export(school: str, path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "export_xueji", "--school", school, "-o", str(path), *args, stdout=out, stderr=err
        )
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def sheet_rows(path, name: str) -> list[tuple]:
    book = openpyxl.load_workbook(path)
    return [
        tuple("" if v is None else v for v in r) for r in book[name].iter_rows(values_only=True)
    ]


@pytest.fixture
def school_children(cast):
    cls = cast["classes"]["bq31"]
    made = {"赵六": cast["children"]["bq31a"]}  # double
    for derived in ("single", "none", "migrant", "unknown"):
        made[derived] = make_child(cls, name=f"学{derived}", **FACTS[derived])
    return made


def test_header_rows_and_values(cast, school_children, tmp_path):
    path = tmp_path / "xj.xlsx"
    code, out, _ = export("HS-BQ", path)
    assert code == 0
    assert "5 名学生" in out and "2 名" in out
    rows = sheet_rows(path, "学籍留守信息")
    assert rows[0] == (
        "姓名",
        "身份证件号",
        "全国学籍号",
        "年级",
        "班级",
        "是否留守儿童",
        "是否进城务工人员随迁子女",
    )
    by_name = {r[0]: r for r in rows[1:]}
    assert len(by_name) == 5
    assert by_name["赵六"][1] == school_children["赵六"].id_number  # full, as text
    assert isinstance(by_name["赵六"][1], str)
    assert by_name["赵六"][3:] == ("三年级", "三年级(1)班", "双亲留守儿童", "否")
    assert by_name["学single"][5] == "单亲留守儿童"
    assert by_name["学none"][5] == "非留守儿童"
    assert by_name["学migrant"][5:] == ("非留守儿童", "是")
    assert by_name["学unknown"][5] == "非留守儿童"
    check = sheet_rows(path, "待核对")
    assert check[0][0] == "姓名"
    assert sorted((r[0], r[4]) for r in check[1:]) == [
        ("学migrant", "随迁"),
        ("学unknown", "未摸排"),
    ]
    stamp = sheet_rows(path, "说明")
    assert "命令行" in stamp[1][0]
    assert AccessLog.objects.filter(action="export", detail__contains="学籍留守信息 5 人").exists()


def test_only_enrolled_children_of_the_school(cast, school_children, tmp_path):
    Child.objects.filter(pk=school_children["none"].pk).update(enrolment="graduated")
    path = tmp_path / "xj.xlsx"
    assert export("HS-BQ", path)[0] == 0
    names = [r[0] for r in sheet_rows(path, "学籍留守信息")[1:]]
    assert "学none" not in names and "张三" not in names and len(names) == 4


def test_export_reimports_unchanged(cast, school_children, tmp_path):
    path = tmp_path / "xj.xlsx"
    assert export("HS-BQ", path)[0] == 0
    Child.objects.filter(pk=school_children["single"].pk).update(xueji_category="double")
    before = {c.pk: (c.version, c.xueji_category, c.is_migrant) for c in Child.objects.all()}
    out = io.StringIO()
    try:
        call_command("import_roster", str(path), "--school", "HS-BQ", "--json", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    result = json.loads(out.getvalue())
    assert code == 0, result
    assert (result["rows"], result["unchanged"], result["updated"], result["created"]) == (
        5,
        5,
        0,
        0,
    )
    after = {c.pk: (c.version, c.xueji_category, c.is_migrant) for c in Child.objects.all()}
    assert after == before


def test_unknown_school_exits_2_in_chinese(cast, tmp_path):
    code, _, err = export("NOPE", tmp_path / "x.xlsx")
    assert code == 2
    assert "学校代码“NOPE”不存在" in err
    assert not (tmp_path / "x.xlsx").exists()


def test_unknown_user_exits_2(cast, tmp_path):
    code, _, err = export("HS-BQ", tmp_path / "x.xlsx", "--by", "nobody")
    assert code == 2 and "nobody" in err


def test_exporter_is_named(cast, school_children, tmp_path):
    path = tmp_path / "xj.xlsx"
    assert export("HS-BQ", path, "--by", "bq_leader")[0] == 0
    assert "bq_leader" in sheet_rows(path, "说明")[1][0]


def test_unwritable_path_exits_2(cast, tmp_path):
    code, _, err = export("HS-BQ", tmp_path / "missing" / "x.xlsx")
    assert code == 2 and "无法写入" in err
