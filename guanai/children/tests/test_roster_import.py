"""Roster import (SPEC §6.1 `guanai import-roster`, §6.2 the template and its messy variants).

Each rule of §6.2 has its own test with a small sheet built here; the sample sheet under
data/ must give exactly the outcome in its .expected.json.
"""

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from guanai.children.models import Child, Enrolment, Guardian, Parent
from guanai.children.roster import COLUMNS, _pinyin, import_roster, write_template
from guanai.children.services import create_child, find_by_student_no
from guanai.lib import crypto
from guanai.lib.idcard import make_id_number
from guanai.lib.pinyin import search_key
from guanai.org.models import SchoolClass
from guanai.testing import SUITE_TODAY, make_class, make_user

DATA = Path(__file__).parent / "data"
REGION = "430523"  # 湖南省邵阳县
BIRTH = dt.date(2014, 8, 15)
HEAD = ["姓名", "身份证号", "年级", "班级", "父亲状况", "母亲状况"]


def ident(birth: dt.date = BIRTH, seq: int = 11, region: str = REGION) -> str:
    """A valid ID number; odd seq = male, even = female."""
    return make_id_number(region, birth, seq)


def female_x_id(birth: dt.date = BIRTH) -> str:
    return next(ident(birth, s) for s in range(2, 999, 2) if ident(birth, s).endswith("X"))


def write_xlsx(path: Path, rows: list[list], *, merge: list[tuple] = ()) -> Path:
    """Cells keep their Python type: str → text, int/float → number, date → Excel date."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("花名册")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for args in merge:
        sheet.merge_range(*args)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
    book.close()
    return path


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(path, school: str = "HS-BQ", *args: str) -> tuple[int, dict, str]:
    """`guanai import-roster PATH --school SCHOOL --json ARGS`: (exit status, JSON, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_roster", str(path), "--school", school, "--json", *args, stdout=out, stderr=err
        )
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue()), err.getvalue()


def sheet(tmp_path, rows: list[list], head: list[str] = HEAD, name: str = "r.xlsx") -> Path:
    return write_xlsx(tmp_path / name, [head, *rows])


def errors_by_row(result: dict) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for e in result["errors"]:
        out.setdefault(e["row"], []).append((e["column"], e["message"]))
    return out


def child_of(number: str) -> Child:
    return Child.objects.get(id_number_hash=crypto.lookup_hash(number))


# --- the sample and the contract -------------------------------------------------------------


def test_messy_sample_gives_the_expected_outcome(cast):
    expected = json.loads((DATA / "roster-messy-sample.expected.json").read_text())
    code, result, _ = run(DATA / "roster-messy-sample.xlsx", expected["school_code_used"])
    assert code == 1
    assert result["created"] == expected["created"]
    assert result["rejected"] == len(expected["rejected_rows"])
    assert result["rows"] == result["created"] + result["rejected"]
    got = errors_by_row(result)
    assert set(got) == {r["row"] for r in expected["rejected_rows"]}
    for r in expected["rejected_rows"]:
        assert any(col in r["column_one_of"] for col, _ in got[r["row"]]), (r, got[r["row"]])
    duplicate = next(m for c, m in got[47] if c in ("身份证号", "身份证号码"))
    assert "33" in duplicate  # names the earlier row
    assert Child.objects.filter(school__code="HS-BQ").count() == 1 + expected["created"]


def test_json_has_exactly_the_contract_keys(cast, tmp_path):
    path = sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"]])
    code, result, _ = run(path)
    assert code == 0
    assert set(result) == {"rows", "created", "updated", "unchanged", "rejected", "errors"}
    assert result == {
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
    }


def test_error_entries_have_row_column_message(cast, tmp_path):
    path = sheet(tmp_path, [["张小", "123", 3, 1, "在家", "在家"]])
    code, result, _ = run(path)
    assert code == 1
    assert result["errors"] == [
        {"row": 2, "column": "身份证号", "message": result["errors"][0]["message"]}
    ]
    assert "18 位" in result["errors"][0]["message"]


def test_text_summary_without_json(cast, tmp_path):
    path = sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"], ["", ident(seq=13), 3, 1]])
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import_roster", str(path), school="HS-BQ", stdout=out)
    assert exc.value.code == 1
    text = out.getvalue()
    assert "新建 1" in text and "拒绝 1" in text and "第 3 行" in text and "姓名" in text


# --- exit status 2 ---------------------------------------------------------------------------


def test_unknown_school_exits_2_with_chinese_message(cast, tmp_path):
    path = sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"]])
    code, result, err = run(path, "NO-SUCH")
    assert code == 2 and "error" in result and "学校" in err
    assert not Child.objects.filter(name="张小").exists()


def test_unreadable_file_exits_2(cast, tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    assert run(bad)[0] == 2
    assert run(tmp_path / "missing.xlsx")[0] == 2


def test_sheet_without_header_row_exits_2(cast, tmp_path):
    path = write_xlsx(tmp_path / "nohead.xlsx", [["名字", "证件"], ["张小", ident()]])
    code, result, err = run(path)
    assert code == 2 and "表头" in err and "error" in result


def test_bad_term_exits_2(cast, tmp_path):
    path = sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"]])
    assert run(path, "HS-BQ", "--term", "2026-2028-1")[0] == 2
    assert run(path, "HS-BQ", "--term", "2026-2027-2")[0] == 0


def test_dry_run_counts_but_writes_nothing(cast, tmp_path):
    before = (Child.objects.count(), Child.history.count(), SchoolClass.objects.count())
    path = sheet(tmp_path, [["张小", ident(), 5, 3, "外出务工", "在家"], ["", "x", 3, 1]])
    code, result, _ = run(path, "HS-BQ", "--dry-run")
    assert code == 1 and result["created"] == 1 and result["rejected"] == 1
    assert (Child.objects.count(), Child.history.count(), SchoolClass.objects.count()) == before


# --- header and layout -----------------------------------------------------------------------


def test_title_rows_above_header_are_skipped_and_counted_in_row_numbers(cast, tmp_path):
    rows = [
        ["板桥小学2026年秋季留守儿童花名册"],
        ["填表人：王老师", "", "日期：2026-09-01"],
        HEAD,
        ["张小", ident(), 3, 1, "在家", "在家"],
        ["李小", ident(seq=2), 3, 1, "xyz", "在家"],
    ]
    path = write_xlsx(tmp_path / "t.xlsx", rows, merge=[(0, 0, 0, 5, rows[0][0])])
    code, result, _ = run(path)
    assert code == 1 and result["rows"] == 2 and result["created"] == 1
    assert result["errors"][0]["row"] == 5 and result["errors"][0]["column"] == "父亲状况"


def test_header_aliases_extra_columns_and_any_order(cast, tmp_path):
    head = [
        "序号",
        "监护人联系电话",
        "学生姓名",
        "班级",
        "全国学籍号",
        "公民身份号码",
        "出生年月日",
        "年级",
        "父亲联系电话",
        "母亲联系电话",
        "家长签字",
    ]
    number = ident()
    path = sheet(
        tmp_path,
        [
            [
                1,
                "13912345678",
                "张小",
                2,
                "G1001",
                number,
                BIRTH,
                3,
                "13812345678",
                "13712345678",
                "x",
            ]
        ],
        head,
    )
    code, result, _ = run(path)
    assert code == 0, result
    child = child_of(number)
    assert (child.name, child.student_no, child.birth_date) == ("张小", "G1001", BIRTH)
    assert (child.school_class.grade, child.school_class.class_no) == (3, 2)
    assert child.parent("father").phone == "13812345678"
    assert child.parent("mother").phone == "13712345678"
    assert child.guardian.phone == "13912345678"


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("身份证号码", "身份证号"),
        ("证件号码", "身份证号"),
        ("公民身份号码", "身份证号"),
        ("身份证件号", "身份证号"),
        ("监护人联系电话", "监护人电话"),
        ("监护人手机", "监护人电话"),
        ("父亲联系电话", "父亲电话"),
        ("母亲联系电话", "母亲电话"),
        ("出生年月日", "出生日期"),
        ("生日", "出生日期"),
        ("全国学籍号", "学籍号"),
        ("学生姓名", "姓名"),
    ],
)
def test_each_header_alias_maps_to_its_column(cast, tmp_path, alias, canonical):
    values = {
        "姓名": "张小",
        "身份证号": ident(),
        "监护人电话": "13912345678",
        "父亲电话": "13812345678",
        "母亲电话": "13712345678",
        "出生日期": "2014-08-15",
        "学籍号": "G77",
    }
    head = ["姓名", "身份证号", "年级", "班级"]
    row = [values["姓名"], values["身份证号"], 3, 1]
    if canonical in head:
        head[head.index(canonical)] = alias
    else:
        head.append(alias)
        row.append(values[canonical])
    code, result, _ = run(sheet(tmp_path, [row], head))
    assert code == 0 and result["created"] == 1, result
    child = Child.objects.get(name="张小")
    stored = {
        "姓名": child.name,
        "身份证号": child.id_number,
        "监护人电话": getattr(getattr(child, "guardian", None), "phone", None),
        "父亲电话": getattr(child.parent("father"), "phone", None),
        "母亲电话": getattr(child.parent("mother"), "phone", None),
        "出生日期": child.birth_date and child.birth_date.isoformat(),
        "学籍号": child.student_no,
    }
    assert stored[canonical] == values[canonical]


def test_spaces_in_headers_and_cells_are_trimmed(cast, tmp_path):
    head = [" 姓 名 ", "身份证号（18位）", "年级*", "班级"]
    path = sheet(tmp_path, [["  张小 ", f" {ident()} ", " 3 ", "1"]], head)
    assert run(path)[0] == 0
    assert Child.objects.filter(name="张小").exists()


def test_blank_rows_are_skipped_and_not_counted(cast, tmp_path):
    rows = [
        ["张小", ident(), 3, 1, "在家", "在家"],
        [],
        ["", "", "", "", "", ""],
        ["李小", ident(seq=2), 3, 1, "在家", "在家"],
    ]
    code, result, _ = run(sheet(tmp_path, rows))
    assert code == 0 and result["rows"] == 2 and result["created"] == 2


def test_row_with_only_a_serial_number_is_blank(cast, tmp_path):
    head = ["序号", *HEAD]
    rows = [[1, "张小", ident(), 3, 1, "在家", "在家"], [2], [3]]
    code, result, _ = run(sheet(tmp_path, rows, head))
    assert code == 0 and result["rows"] == 1


def test_grouped_two_row_header_with_merged_cells(cast, tmp_path):
    rows = [
        ["姓名", "身份证号", "年级", "班级", "父亲", "", "", "母亲", "", ""],
        ["", "", "", "", "姓名", "状况", "联系电话", "姓名", "状况", "电话"],
        ["张小", ident(), 3, 1, "张父", "打工", "13812345678", "李母", "在家", "13712345678"],
    ]
    merges = [
        (0, 4, 0, 6, "父亲"),
        (0, 7, 0, 9, "母亲"),
        (0, 0, 1, 0, "姓名"),
        (0, 1, 1, 1, "身份证号"),
        (0, 2, 1, 2, "年级"),
        (0, 3, 1, 3, "班级"),
    ]
    code, result, _ = run(write_xlsx(tmp_path / "g.xlsx", rows, merge=merges))
    assert code == 0 and result["rows"] == 1, result
    child = Child.objects.get(name="张小")
    father, mother = child.parent("father"), child.parent("mother")
    assert (father.name, father.status, father.phone) == ("张父", "away", "13812345678")
    assert (mother.name, mother.status, mother.phone) == ("李母", "home", "13712345678")
    assert child.category == "single"


def test_grouped_header_in_a_csv_without_merges(cast, tmp_path):
    rows = [
        ["学生花名册"],
        ["姓名", "身份证号", "年级", "班级", "父亲", "", "监护人", "", ""],
        ["", "", "", "", "状况", "电话", "姓名", "关系", "手机"],
        ["张小", ident(), 3, 1, "外出务工", "13812345678", "张奶", "奶奶", "13912345678"],
    ]
    code, result, _ = run(write_csv(tmp_path / "g.csv", rows, encoding="gbk"))
    assert code == 0 and result["rows"] == 1, result
    child = Child.objects.get(name="张小")
    assert (child.parent("father").status, child.parent("father").phone) == ("away", "13812345678")
    assert (child.guardian.name, child.guardian.relation) == ("张奶", "祖母")
    assert child.guardian.phone == "13912345678"


def test_bare_parent_columns_hold_their_names(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级", "父亲", "母亲", "监护人"]
    assert run(sheet(tmp_path, [["张小", ident(), 3, 1, "张父", "李母", "张奶"]], head))[0] == 0
    child = Child.objects.get(name="张小")
    assert (child.parent("father").name, child.parent("mother").name) == ("张父", "李母")
    assert child.guardian.name == "张奶"


def test_grade_cell_merged_over_several_rows_applies_to_each(cast, tmp_path):
    rows = [
        HEAD,
        ["张小", ident(), "四年级", 1, "在家", "在家"],
        ["李小", ident(seq=2), "", 1, "在家", "在家"],
    ]
    path = write_xlsx(tmp_path / "m.xlsx", rows, merge=[(1, 2, 2, 2, "四年级")])
    code, result, _ = run(path)
    assert code == 0, result
    assert set(
        Child.objects.filter(name__in=["张小", "李小"]).values_list(
            "school_class__grade", flat=True
        )
    ) == {4}


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_csv_in_gbk_and_utf8_with_or_without_bom(cast, tmp_path, encoding):
    rows = [["花名册"], HEAD, ["张小", ident(), "三年级", "2班", "外出打工", "在家"]]
    code, result, _ = run(write_csv(tmp_path / "r.csv", rows, encoding=encoding))
    assert code == 0 and result["created"] == 1, result
    child = Child.objects.get(name="张小")
    assert (child.school_class.grade, child.school_class.class_no) == (3, 2)
    assert child.parent("father").status == "away"


def test_utf16_tab_separated_text_from_excel(cast, tmp_path):
    text = "\t".join(HEAD) + "\r\n" + f"张小\t{ident()}\t3\t1\t在家\t在家"
    path = tmp_path / "r.txt"
    path.write_bytes(text.encode("utf-16"))
    code, result, _ = run(path)
    assert code == 0 and result["created"] == 1, result


def test_csv_with_scientific_notation_id_is_rejected(cast, tmp_path):
    rows = [HEAD, ["张小", "4.30523E+17", 3, 1, "在家", "在家"]]
    code, result, _ = run(write_csv(tmp_path / "r.csv", rows, encoding="gbk"))
    assert code == 1
    assert result["errors"][0]["column"] == "身份证号"
    assert "科学计数法" in result["errors"][0]["message"]


# --- ID numbers ------------------------------------------------------------------------------


def test_id_stored_as_number_is_rejected_never_repaired(cast, tmp_path):
    number = ident()
    path = sheet(tmp_path, [["张小", float(number), 3, 1, "在家", "在家"]])
    code, result, _ = run(path)
    assert code == 1 and result["created"] == 0
    error = result["errors"][0]
    assert error["column"] == "身份证号"
    assert (
        error["message"] == "身份证号被 Excel 转成了数字，后几位已丢失；请把该列设为文本后重新填写"
    )


def test_full_width_digits_and_lower_case_x_are_normalised(cast, tmp_path):
    number = female_x_id()
    wide = "".join(chr(ord(c) + 0xFEE0) for c in number[:17]) + "x"
    code, result, _ = run(sheet(tmp_path, [["张小", wide, "３", "（２）班", "在家", "在家"]]))
    assert code == 0, result
    child = child_of(number)
    assert child.id_number == number and child.gender == "female"
    assert child.school_class.class_no == 2


def test_lower_case_x_alone(cast, tmp_path):
    number = female_x_id()
    assert run(sheet(tmp_path, [["张小", number.lower(), 3, 1, "在家", "在家"]]))[0] == 0
    assert child_of(number).id_number.endswith("X")


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (ident()[:-1] + ("0" if ident()[-1] != "0" else "1"), "校验位"),
        (make_id_number("999999", BIRTH, 11), "地区码"),
        ("43052320140815", "18 位"),
    ],
)
def test_bad_id_numbers_are_rejected(cast, tmp_path, number, words):
    code, result, _ = run(sheet(tmp_path, [["张小", number, 3, 1, "在家", "在家"]]))
    assert code == 1
    assert [(e["column"], words in e["message"]) for e in result["errors"]] == [("身份证号", True)]


def test_impossible_birth_date_with_a_correct_check_digit(cast, tmp_path):
    from stdnum.cn.ric import calc_check_digit

    body = f"{REGION}20140230011"
    code, result, _ = run(sheet(tmp_path, [["张小", body + calc_check_digit(body + "0"), 3, 1]]))
    assert code == 1 and "出生日期" in result["errors"][0]["message"]


def test_retired_region_code_is_accepted(cast, tmp_path):
    # 110103 崇文区 merged away in 2010; late 户口 registration still carries it
    number = make_id_number("110103", dt.date(2015, 5, 5), 11)
    assert run(sheet(tmp_path, [["张小", number, 3, 1, "在家", "在家"]]))[0] == 0


def test_blank_birth_date_and_gender_are_taken_from_the_id(cast, tmp_path):
    number = ident(seq=12)
    head = ["姓名", "性别", "出生日期", "身份证号", "年级", "班级"]
    assert run(sheet(tmp_path, [["张小", "", "", number, 3, 1]], head))[0] == 0
    child = child_of(number)
    assert (child.birth_date, child.gender) == (BIRTH, "female")


def test_birth_date_or_gender_contradicting_the_id_is_rejected_naming_the_column(cast, tmp_path):
    head = ["姓名", "性别", "出生日期", "身份证号", "年级", "班级"]
    rows = [
        ["张小", "女", "2014-08-15", ident(seq=11), 3, 1],
        ["李小", "男", "2014-08-16", ident(seq=13), 3, 1],
        ["王小", "男", "2014-08-15", ident(seq=15), 3, 1],
    ]
    code, result, _ = run(sheet(tmp_path, rows, head))
    assert code == 1 and result["created"] == 1 and result["rejected"] == 2
    got = errors_by_row(result)
    assert [c for c, _ in got[2]] == ["性别"]
    assert [c for c, _ in got[3]] == ["出生日期"]
    assert "2014-08-15" in got[3][0][1]


def test_a_child_without_id_number_needs_student_no(cast, tmp_path):
    head = ["姓名", "身份证号", "学籍号", "年级", "班级"]
    rows = [["张小", "", "G20140001", 3, 1], ["李小", "", "", 3, 1]]
    code, result, _ = run(sheet(tmp_path, rows, head))
    assert code == 1 and result["created"] == 1
    assert errors_by_row(result)[3][0][0] == "身份证号"
    child = find_by_student_no("G20140001")
    assert child.id_number_hash is None
    # matched by 学籍号 on re-import
    head2 = ["姓名", "学籍号", "年级", "班级", "村"]
    code, result, _ = run(sheet(tmp_path, [["张小", "G20140001", 3, 1, "虎山村"]], head2, "b.xlsx"))
    assert code == 0 and result["updated"] == 1
    child.refresh_from_db()
    assert child.village == "虎山村"


# --- numbers, phones, dates, grades, vocabularies --------------------------------------------


def test_numeric_cells_are_read_as_their_digits(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级", "学号", "出生日期", "父亲电话", "组", "监护人年龄"]
    number = ident(dt.date(2015, 3, 2))
    row = ["张小", number, 3.0, 2.0, 20230101.0, 20150302.0, 13812345678.0, 1.0, 66.0]
    code, result, _ = run(sheet(tmp_path, [row], head))
    assert code == 0, result
    child = child_of(number)
    assert (child.school_class.grade, child.school_class.class_no) == (3, 2)
    assert child.school_no == "20230101" and child.group == "1"
    assert child.birth_date == dt.date(2015, 3, 2)
    assert child.parent("father").phone == "13812345678"
    assert child.guardian.age == 66


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0739-8123456", "0739-8123456"),
        ("１３８１２３４５６７８", "13812345678"),
        (13812345678.0, "13812345678"),
    ],
)
def test_phone_forms_are_normalised(cast, tmp_path, cell, stored):
    head = ["姓名", "身份证号", "年级", "班级", "监护人电话"]
    assert run(sheet(tmp_path, [["张小", ident(), 3, 1, cell]], head))[0] == 0
    assert Child.objects.get(name="张小").guardian.phone == stored


def test_second_phone_goes_to_notes_once(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级", "父亲电话", "备注"]
    number = ident()
    path = sheet(tmp_path, [["张小", number, 3, 1, "13812345678/13912345678", ""]], head)
    assert run(path)[0] == 0
    child = child_of(number)
    assert child.parent("father").phone == "13812345678"
    assert "13912345678" in child.notes and "父亲电话" in child.notes
    code, result, _ = run(path)
    assert code == 0 and result["unchanged"] == 1
    child.refresh_from_db()
    assert child.notes.count("13912345678") == 1


def test_invalid_phone_is_rejected_naming_the_sheets_column(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级", "监护人手机", "父亲电话"]
    rows = [["张小", ident(), 3, 1, "12345", "8123456"]]
    code, result, _ = run(sheet(tmp_path, rows, head))
    assert code == 1 and result["rejected"] == 1
    assert {e["column"] for e in result["errors"]} <= {"监护人电话", "监护人手机", "父亲电话"}
    assert len(result["errors"]) == 2  # every problem of the row


@pytest.mark.parametrize(
    "cell",
    [
        dt.date(2015, 3, 2),
        42065,
        "2015.3.2",
        "2015/3/2",
        "2015-03-02",
        "2015年3月2日",
        "20150302",
        20150302,
    ],
)
def test_birth_dates_in_every_form(cast, tmp_path, cell):
    number = ident(dt.date(2015, 3, 2))
    head = ["姓名", "身份证号", "出生日期", "年级", "班级"]
    code, result, _ = run(sheet(tmp_path, [["张小", number, cell, 3, 1]], head))
    assert code == 0, result
    assert child_of(number).birth_date == dt.date(2015, 3, 2)


def test_unreadable_date_is_rejected(cast, tmp_path):
    head = ["姓名", "身份证号", "出生日期", "年级", "班级"]
    code, result, _ = run(sheet(tmp_path, [["张小", ident(), "去年", 3, 1]], head))
    assert code == 1 and result["errors"][0]["column"] == "出生日期"


@pytest.mark.parametrize(
    ("grade", "class_no", "expected"),
    [
        (3, 2, (3, 2)),
        ("3", "2", (3, 2)),
        ("3年级", "2班", (3, 2)),
        ("三年级", "(2)班", (3, 2)),
        ("初一", "（2）班", (7, 2)),
        ("学前班", "1班", (0, 1)),
        ("", "三年级(2)班", (3, 2)),
    ],
)
def test_grade_and_class_forms(cast, tmp_path, grade, class_no, expected):
    code, result, _ = run(sheet(tmp_path, [["张小", ident(), grade, class_no, "在家", "在家"]]))
    assert code == 0, result
    klass = Child.objects.get(name="张小").school_class
    assert (klass.grade, klass.class_no) == expected and klass.school.code == "HS-BQ"


def test_classes_are_created_as_needed(cast, tmp_path):
    assert not SchoolClass.objects.filter(school__code="HS-BQ", grade=5, class_no=4).exists()
    assert run(sheet(tmp_path, [["张小", ident(), 5, 4, "在家", "在家"]]))[0] == 0
    assert SchoolClass.objects.filter(school__code="HS-BQ", grade=5, class_no=4).count() == 1


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("在家", "home"),
        ("务农", "home"),
        ("在本地", "home"),
        ("外出务工", "away"),
        ("打工", "away"),
        ("外出打工", "away"),
        ("务工", "away"),
        ("外出", "away"),
        ("已故", "deceased"),
        ("去世", "deceased"),
        ("死亡", "deceased"),
        ("病故", "deceased"),
        ("失踪", "missing"),
        ("下落不明", "missing"),
        ("无监护能力", "incapable"),
        ("重病", "incapable"),
        ("重残", "incapable"),
        ("服刑", "incapable"),
    ],
)
def test_parent_status_synonyms(cast, tmp_path, word, status):
    assert run(sheet(tmp_path, [["张小", ident(), 3, 1, word, word]]))[0] == 0
    child = Child.objects.get(name="张小")
    assert child.parent("father").status == status == child.parent("mother").status


def test_unknown_status_is_rejected(cast, tmp_path):
    code, result, _ = run(sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "出差"]]))
    assert code == 1
    assert result["errors"][0]["column"] == "母亲状况" and "出差" in result["errors"][0]["message"]


@pytest.mark.parametrize(
    ("word", "relation"),
    [
        ("爷爷", "祖父"),
        ("奶奶", "祖母"),
        ("外公", "外祖父"),
        ("姥爷", "外祖父"),
        ("外婆", "外祖母"),
        ("姥姥", "外祖母"),
        ("叔叔", "叔叔"),
    ],
)
def test_guardian_relation_in_everyday_words(cast, tmp_path, word, relation):
    head = ["姓名", "身份证号", "年级", "班级", "监护人姓名", "监护人关系"]
    assert run(sheet(tmp_path, [["张小", ident(), 3, 1, "张奶", word]], head))[0] == 0
    assert Child.objects.get(name="张小").guardian.relation == relation


def test_other_columns_land_on_the_card(cast, tmp_path):
    head = [
        "姓名",
        "身份证号",
        "年级",
        "班级",
        "民族",
        "户口性质",
        "是否随迁子女",
        "是否寄宿",
        "村",
        "组",
        "详细住址",
        "健康状况",
        "父亲姓名",
        "父亲状况",
        "父亲务工地",
        "母亲姓名",
        "母亲状况",
        "母亲务工地",
        "监护人姓名",
        "监护人关系",
        "监护人电话",
        "监护人年龄",
        "备注",
    ]
    row = [
        "张小",
        ident(),
        3,
        1,
        "苗族",
        "农业",
        "否",
        "是",
        "虎山村",
        "3组",
        "虎山村3组12号",
        "良好",
        "张父",
        "外出务工",
        "广东东莞",
        "李母",
        "外出务工",
        "浙江义乌",
        "张奶",
        "奶奶",
        "13912345678",
        "66岁",
        "爱画画",
    ]
    assert run(sheet(tmp_path, [row], head))[0] == 0
    c = Child.objects.get(name="张小")
    assert (c.ethnicity, c.hukou, c.is_migrant, c.boarding) == ("苗族", "rural", False, True)
    assert (c.village, c.group, c.address, c.health, c.notes) == (
        "虎山村",
        "3组",
        "虎山村3组12号",
        "良好",
        "爱画画",
    )
    assert c.parent("father").work_place == "广东东莞"
    assert c.parent("mother").work_place == "浙江义乌"
    assert (c.guardian.name, c.guardian.relation, c.guardian.age) == ("张奶", "祖母", 66)
    assert c.category == "double" and c.civil_affairs


def test_missing_name_grade_and_class_are_each_reported(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级"]
    code, result, _ = run(sheet(tmp_path, [["", ident(), "", ""]], head))
    assert code == 1 and result["rejected"] == 1
    assert {e["column"] for e in result["errors"]} == {"姓名", "年级", "班级"}


def test_absent_grade_column_rejects_rows(cast, tmp_path):
    code, result, _ = run(sheet(tmp_path, [["张小", ident()]], ["姓名", "身份证号"]))
    assert code == 1 and {e["column"] for e in result["errors"]} == {"年级", "班级"}


# --- matching, duplicates, other schools -----------------------------------------------------


def test_same_child_twice_rejects_the_later_row_naming_the_earlier(cast, tmp_path):
    number = ident()
    rows = [
        ["张小", number, 3, 1, "在家", "在家"],
        ["李小", ident(seq=2), 3, 1, "在家", "在家"],
        ["张小", number.lower(), 3, 1, "在家", "在家"],
    ]
    code, result, _ = run(sheet(tmp_path, rows))
    assert code == 1 and result["created"] == 2 and result["rejected"] == 1
    error = result["errors"][0]
    assert error["row"] == 4 and error["column"] == "身份证号" and "第 2 行" in error["message"]


def test_same_student_no_twice_is_a_duplicate(cast, tmp_path):
    head = ["姓名", "学籍号", "年级", "班级"]
    code, result, _ = run(sheet(tmp_path, [["张小", "G1", 3, 1], ["张小", "g1", 3, 1]], head))
    assert (
        code == 1
        and result["errors"][0]["row"] == 3
        and "第 2 行" in result["errors"][0]["message"]
    )


def test_child_active_at_another_school_is_rejected_naming_it(cast, tmp_path, kids):
    other = kids["c31a"]  # 虎山镇中心小学
    code, result, _ = run(sheet(tmp_path, [["张三", other.id_number, 3, 1, "在家", "在家"]]))
    assert code == 1
    assert result["errors"][0]["column"] == "身份证号"
    assert "虎山镇中心小学" in result["errors"][0]["message"]
    other.refresh_from_db()
    assert other.school.code == "HS-ZX" and other.parents.get(relation="father").status == "away"


def test_child_no_longer_active_elsewhere_is_taken_over_with_history(cast, tmp_path, kids):
    grad = kids["gt"]  # 古田小学, graduates
    grad.enrolment = Enrolment.GRADUATED
    grad.save()
    before = grad.history.count()
    code, result, _ = run(sheet(tmp_path, [["孙七", grad.id_number, "初一", 2, "在家", "在家"]]))
    assert code == 0 and result["updated"] == 1, result
    grad.refresh_from_db()
    assert grad.school.code == "HS-BQ" and grad.enrolment == "enrolled"
    assert (grad.school_class.school.code, grad.school_class.grade) == ("HS-BQ", 7)
    latest = grad.history.first()
    assert grad.history.count() == before + 1
    assert "导入接收" in latest.history_change_reason and "古田小学" in latest.history_change_reason
    assert grad.category == "none"


def test_id_and_student_no_pointing_at_different_children_is_rejected(cast, tmp_path, kids):
    a = kids["bq31a"]
    b = create_child(
        school_class=cast["classes"]["bq31"],
        data={"name": "钱八", "student_no": "G888"},
        by=None,
    )
    head = ["姓名", "身份证号", "学籍号", "年级", "班级"]
    code, result, _ = run(sheet(tmp_path, [["赵六", a.id_number, "G888", 3, 1]], head))
    assert code == 1
    assert result["errors"][0]["column"] in ("身份证号", "学籍号")
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.student_no == "" and b.student_no == "G888"


def test_changed_row_updates_with_history_reason_and_user(cast, tmp_path, kids):
    child = kids["bq31a"]
    make_user("importer")
    before = child.history.count()
    head = ["姓名", "身份证号", "年级", "班级", "父亲状况", "村"]
    path = sheet(tmp_path, [["赵六", child.id_number, 3, 2, "在家", "新村"]], head)
    code, result, _ = run(path, "HS-BQ", "--by", "importer")
    assert code == 0 and result["updated"] == 1
    child.refresh_from_db()
    assert child.village == "新村" and child.school_class.class_no == 2
    assert child.category == "single"  # mother still away
    latest = child.history.first()
    assert latest.history_change_reason == "由导入更新"
    assert latest.history_user.username == "importer"
    assert child.history.count() == before + 1
    father = child.parent("father")
    assert father.status == "home" and father.effective_from == SUITE_TODAY
    assert Parent.history.filter(id=father.pk).first().history_change_reason == "由导入更新"


def test_blank_cell_or_absent_column_never_clears_and_absent_children_untouched(
    cast, tmp_path, kids
):
    child = kids["bq31a"]
    others = {c.pk: c.version for c in Child.objects.exclude(pk=child.pk)}
    head = ["姓名", "身份证号", "年级", "班级", "父亲状况", "父亲电话", "监护人姓名", "村"]
    path = sheet(tmp_path, [["赵六", child.id_number, 3, 1, "", "", "", ""]], head)
    code, result, _ = run(path)
    assert code == 0 and result["unchanged"] == 1
    child.refresh_from_db()
    assert child.village == "虎山村" and child.parent("father").phone == "13812345678"
    assert child.parent("father").status == "away" and child.guardian.name == "张奶奶"
    assert {c.pk: c.version for c in Child.objects.exclude(pk=child.pk)} == others


def test_reimport_is_idempotent_and_adds_no_history(cast, tmp_path):
    rows = [
        ["张小", ident(), 3, 1, "外出务工", "在家"],
        ["李小", ident(seq=2), "三年级", "2班", "打工", "打工"],
    ]
    path = sheet(tmp_path, rows)
    assert run(path)[1]["created"] == 2
    counts = (Child.history.count(), Parent.history.count(), Guardian.history.count())
    versions = dict(Child.objects.values_list("pk", "version"))
    code, result, _ = run(path)
    assert code == 0 and (result["created"], result["updated"], result["unchanged"]) == (0, 0, 2)
    assert (Child.history.count(), Parent.history.count(), Guardian.history.count()) == counts
    assert dict(Child.objects.values_list("pk", "version")) == versions


# --- what the bulk path writes ---------------------------------------------------------------


def test_imported_card_equals_a_card_made_by_the_card_service(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级", "户口性质", "父亲姓名", "父亲状况", "父亲电话"]
    head += ["母亲状况", "监护人姓名", "监护人关系", "监护人电话", "村", "组"]
    number = ident()
    row = ["单小明", number, 3, 1, "农业", "单父", "外出务工", "13812345678"]
    row += ["已故", "单奶", "祖母", "13912345678", "虎山村", "1组"]
    assert run(sheet(tmp_path, [row], head))[0] == 0
    imported = child_of(number)
    klass = make_class(cast["schools"]["zx"], 6, 6)
    twin = create_child(
        school_class=klass,
        data={
            "name": "单小明",
            "id_number": ident(seq=13),
            "hukou": "rural",
            "father.name": "单父",
            "father.status": "away",
            "father.phone": "13812345678",
            "mother.status": "deceased",
            "guardian.name": "单奶",
            "guardian.relation": "祖母",
            "guardian.phone": "13912345678",
            "village": "虎山村",
            "group": "1组",
        },
        by=None,
    )
    skip = {"id", "school", "school_class", "id_number_enc", "id_number_hash", "id_number_masked"}
    skip |= {"id_last4", "created_at", "updated_at"}
    for f in Child._meta.concrete_fields:
        if f.name not in skip:
            assert getattr(imported, f.attname) == getattr(twin, f.attname), f.name
    assert imported.name_pinyin and imported.category == "double"
    assert imported.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert imported.id_last4 == number[-4:]
    for relation in ("father", "mother"):
        a, b = imported.parent(relation), twin.parent(relation)
        for f in ("name", "status", "phone", "effective_from", "away_since", "work_place"):
            assert getattr(a, f) == getattr(b, f), (relation, f)
    h = imported.history.get()
    assert (h.history_type, h.history_change_reason, h.id) == ("+", "由导入新建", imported.pk)
    assert h.name == "单小明" and h.school_id == imported.school_id
    assert Parent.history.filter(child_id=imported.pk, history_type="+").count() == 2
    assert Guardian.history.filter(child_id=imported.pk).get().history_change_reason == "由导入新建"
    # the search finds it by pinyin and by ID number like any card
    assert imported in Child.objects.search("sxm")
    assert imported in Child.objects.search(number)


def test_cards_created_after_an_import_get_fresh_ids(cast, tmp_path):
    run(sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"]]))
    later = create_child(
        school_class=cast["classes"]["bq31"], data={"name": "后来", "student_no": "G9"}, by=None
    )
    assert later.pk > Child.objects.get(name="张小").pk
    Parent.objects.create(child=later, relation="father", status="home")
    later.refresh_from_db()
    assert later.history.count() == 1


def test_service_returns_result_and_reports_progress(cast, tmp_path):
    seen = []
    path = sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"]])
    result = import_roster(
        path=path,
        school=cast["schools"]["bq"],
        term=None,
        by=None,
        dry_run=False,
        progress=seen.append,
    )
    assert result.created == 1 and result.term and seen == [1]
    assert result.as_dict()["errors"] == []


# --- the template ----------------------------------------------------------------------------


def test_template_has_columns_dropdowns_and_text_id_column(tmp_path):
    import openpyxl
    from openpyxl.utils import get_column_letter

    path = write_template(tmp_path / "template.xlsx")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]] == COLUMNS
    lists = {
        str(dv.sqref).split(":")[0][0]: dv.formula1 for dv in ws.data_validations.dataValidation
    }
    letter = {col: get_column_letter(i + 1) for i, col in enumerate(COLUMNS)}
    for col in ("性别", "父亲状况", "母亲状况", "户口性质", "是否随迁子女", "是否寄宿"):
        assert letter[col] in lists, col
    assert "外出务工" in lists[letter["父亲状况"]]
    text_columns = {
        i
        for dim in ws.column_dimensions.values()
        if dim.number_format == "@"
        for i in range(dim.min, dim.max + 1)
    }
    for col in ("身份证号", "监护人电话", "父亲电话", "母亲电话", "学籍号"):
        assert COLUMNS.index(col) + 1 in text_columns, col


def test_filled_template_imports(cast, tmp_path):
    import openpyxl

    path = write_template(tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    values = {"姓名": "张小", "身份证号": ident(), "年级": "三年级", "班级": "1班"}
    values |= {"父亲状况": "外出务工", "母亲状况": "在家", "是否寄宿": "否"}
    for i, col in enumerate(COLUMNS, 1):
        if col in values:
            ws.cell(row=2, column=i, value=values[col])
    wb.save(path)
    code, result, _ = run(path)
    assert code == 0 and result["created"] == 1
    assert Child.objects.get(name="张小").boarding is False


# --- pinyin fast path ------------------------------------------------------------------------

NAME_CHARS = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "单解仇区朴乐查盖召长重行银大小子涵梓轩浩宇欣怡雨萱一诺佳琪思远博文俊杰雅婷嘉晨曦天佑若明"
    "紫奕辰语桐诗然航妍泽乐乐都会朝阳和平安康"
)


@given(st.text(alphabet=NAME_CHARS, min_size=1, max_size=4))
@settings(max_examples=3000, deadline=None)
def test_roster_pinyin_equals_search_key(name):
    assert _pinyin(name) == search_key(name)


@pytest.mark.parametrize(
    "name", ["单小明", "曾乐乐", "长重", "银行", "重庆", "阿依古丽·买买提", "Tom李", "张3", "〇"]
)
def test_roster_pinyin_equals_search_key_for_odd_names(name):
    assert _pinyin(name) == search_key(name)
