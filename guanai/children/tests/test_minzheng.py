"""The 民政 returns (issue #17): who is counted at a reference date, the 登记表 and 汇总表 of
`guanai export-minzheng`, and each 勾稽关系 of the summary with a failing and a passing case."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command

from guanai.children.minzheng import RULES, SUMMARY_HEADINGS, check_rules, civil_children
from guanai.children.models import Child
from guanai.lib import crypto
from guanai.testing import make_child


def export(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("export_minzheng", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def complete_cards() -> None:
    Child.objects.update(boarding=True, guardianship_assessment="good")


def consistent_columns() -> dict[int, int]:
    """A summary row satisfying every rule: 12 children."""
    cols = dict.fromkeys(SUMMARY_HEADINGS, 0)
    cols.update({1: 12, 2: 2, 3: 1, 4: 1, 5: 8, 6: 5, 7: 3, 8: 2, 9: 2, 10: 0})
    cols.update({11: 2, 13: 7, 14: 3, 19: 12, 21: 2, 24: 6, 25: 4})
    cols.update({26: 9, 27: 2, 29: 1, 30: 5, 31: 6, 32: 1})
    return cols


# --- the rules, one by one --------------------------------------------------------------------


def test_consistent_summary_passes_every_rule():
    assert check_rules(consistent_columns()) == []


@pytest.mark.parametrize("rule", RULES, ids=[r.text for r in RULES])
def test_each_rule_fails_when_its_right_side_is_off(rule):
    cols = consistent_columns()
    cols[rule.right[-1]] += 1
    broken = check_rules(cols)
    assert any(b.startswith(rule.text) for b in broken), broken
    cols[rule.right[-1]] -= 1
    assert check_rules(cols) == []


def test_a_broken_rule_shows_both_sums():
    cols = consistent_columns()
    cols[3] = 0
    assert check_rules(cols) == ["2列 = 3列+4列（2 ≠ 1）"]


# --- who is counted ---------------------------------------------------------------------------


def test_civil_children_follow_the_definition_at_the_reference_date(cast):
    cls = cast["classes"]["bq31"]
    incapable = make_child(cls, name="一方无能力", **{"mother.status": "incapable"})
    urban = make_child(cls, name="城镇户口", hukou="urban")
    sixteen = make_child(cls, name="满十六", birth=dt.date(2010, 12, 1))
    recent = make_child(
        cls,
        name="刚外出",
        **{"father.away_since": "2026-10-01", "mother.away_since": "2026-10-01"},
    )
    single = make_child(cls, name="单留守", **{"father.status": "home"})
    on = dt.date(2026, 11, 29)
    chosen = {c.name for c in civil_children(Child.objects.filter(school=cls.school), on=on)}
    assert chosen == {"赵六", "一方无能力", "满十六"}
    later = civil_children(Child.objects.filter(school=cls.school), on=dt.date(2027, 1, 15))
    assert {c.name for c in later} == {"赵六", "一方无能力", "刚外出"}  # 满十六 turned 16
    assert urban.pk and single.pk and sixteen.pk and incapable.pk and recent.pk


# --- the command ------------------------------------------------------------------------------


FATHER_ID = "431121198805060014"


def test_school_export_writes_register_and_summary(cast, tmp_path):
    complete_cards()
    father = cast["children"]["c31a"].parent("father")
    father.id_number_enc = crypto.encrypt(FATHER_ID)
    father.save()
    path = tmp_path / "mz.xlsx"
    code, out, err = export("--school", "HS-ZX", "--as-of", "2026-11-30", "-o", str(path))
    assert code == 0, err
    assert "2 人" in out
    book = openpyxl.load_workbook(path)
    reg = [r for r in book["登记表"].iter_rows(values_only=True)]
    assert "附件1" in reg[0][0]
    assert "2026-11-30" in reg[1][0] and "虎山镇中心小学" in reg[1][0]
    assert "不满十六周岁" in reg[2][0]
    header = reg[3]
    assert header[:6] == ("序号", "姓名", "性别", "民族", "出生日期", "公民身份证号码")
    rows = {r[1]: dict(zip(header, r, strict=False)) for r in reg[4:]}
    assert set(rows) == {"张三", "李四"}
    zhang = rows["张三"]
    assert zhang["公民身份证号码"] == cast["children"]["c31a"].id_number
    assert zhang["祖母姓名"] == "张奶奶" and zhang["委托监护人姓名"] == "张奶奶"
    assert zhang["父母双方同时外出"] == "是" and zhang["就学情况"] == "小学"
    assert zhang["监护类型"] == "监护情况较好"
    assert zhang["父亲公民身份证号码"] == FATHER_ID
    assert zhang["委托监护人公民身份证号码"] is None  # not known
    total = [r for r in book["汇总表"].iter_rows(values_only=True)]
    assert "附件3" in total[0][0] and "2026-11-30" in total[1][0] and "不满十六周岁" in total[2][0]
    values = dict(zip(total[3], total[4], strict=False))
    assert values["1列 农村留守儿童总数"] == 2
    assert values["5列 6–13周岁"] == 2
    assert values["26列 祖父母或外祖父母监护"] == 2


def test_incomplete_cards_are_refused_with_every_violation(cast, tmp_path):
    complete_cards()
    Child.objects.filter(name="李四").update(boarding=None, guardianship_assessment="")
    path = tmp_path / "mz.xlsx"
    code, _, err = export("--school", "HS-ZX", "-o", str(path))
    assert code == 1
    assert not path.exists()
    assert "1列 = 21列+22列+23列+24列+25列（2 ≠ 1）" in err
    assert "13列+14列 = 24列+25列" in err
    assert "1列 = 30列+31列+32列" in err
    assert "是否寄宿未填写" in err and "监护情况评估未填写" in err
    assert "李四" in err and "张三" not in err


def test_town_export_counts_every_school(cast, tmp_path):
    complete_cards()
    path = tmp_path / "mz.xlsx"
    code, out, err = export("--town", "-o", str(path))
    assert code == 0, err
    assert "虎山镇" in out and "4 人" in out  # 张三, 李四, 赵六, 孙七
    code, out, _ = export("--town", "虎山镇", "-o", str(path))
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--school", "NOPE"), "学校代码“NOPE”不存在"),
        (("--town", "无此镇"), "镇“无此镇”不存在"),
        (("--school", "HS-ZX", "--as-of", "2026-13-40"), "统计基准日有误"),
        (("--school", "HS-ZX", "--by", "nobody"), "用户“nobody”不存在"),
    ],
)
def test_bad_input_exits_2_in_chinese(cast, tmp_path, args, message):
    code, _, err = export(*args, "-o", str(tmp_path / "x.xlsx"))
    assert code == 2
    assert message in err
