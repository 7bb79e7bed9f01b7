"""Builders of 学籍 student sheets for the tests: the 学籍 system's 71 headers plus 全国学籍号,
年级 and 班级, as its export writes them (copied from the sample under data/)."""

import datetime as dt
import random
from pathlib import Path
from typing import Any

import xlsxwriter

from guanai.lib.idcard import make_id_number

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "xueji-student-sheet-sample.xlsx"
REGION = "431121"

MEMBER = [
    "姓名",
    "关系",
    "关系说明",
    "现住址",
    "户口所在地行政区划",
    "联系电话",
    "是否监护人",
    "身份证件类型",
    "身份证件号",
    "民族",
    "工作单位",
    "职务",
]
HEADERS = [
    "学校标识码",
    "姓名",
    "性别",
    "出生日期",
    "出生地行政区划代码",
    "籍贯",
    "民族",
    "国籍/地区",
    "身份证件类型",
    "港澳台侨外",
    "健康状况",
    "政治面貌",
    "身份证件号",
    "户口性质",
    "户口所在地行政区划",
    "班号",
    "入学年月",
    "入学方式",
    "就读方式",
    "现住址",
    "通信地址",
    "家庭地址",
    "联系电话",
    "邮政编码",
    "是否独生子女",
    "是否受过学前教育",
    "是否留守儿童",
    "是否需要申请资助",
    "是否享受一补",
    "是否孤儿",
    "是否烈士或优抚子女",
    "上下学距离",
    "上下学方式",
    "是否需要乘坐校车",
    "曾用名",
    "身份证件有效期",
    "血型",
    "特长",
    "学籍辅号",
    "班内学号",
    "学生来源",
    "电子信箱",
    "主页地址",
    "残疾类型",
    "是否由政府购买学位",
    "随班就读",
    *[f"成员1{f}" for f in MEMBER],
    *[f"成员2{f}" for f in MEMBER],
    "是否进城务工人员随迁子女",
    "全国学籍号",
    "年级",
    "班级",
]
assert len(HEADERS) == 74


def ident(birth: dt.date, seq: int) -> str:
    return make_id_number(REGION, birth, seq)


def member(slot: int, **values: Any) -> dict[str, Any]:
    """成员N… cells from keyword names: name, relation, phone, guardian, work, note."""
    keys = {
        "name": "姓名",
        "relation": "关系",
        "note": "关系说明",
        "phone": "联系电话",
        "guardian": "是否监护人",
        "work": "工作单位",
        "id_type": "身份证件类型",
        "id_number": "身份证件号",
    }
    return {f"成员{slot}{keys[k]}": v for k, v in values.items()}


def student(
    name: str, number: str, *, grade: Any = "3", class_: Any = "1", **cells: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "学校标识码": "2143012345",
        "姓名": name,
        "身份证件类型": "居民身份证",
        "身份证件号": number,
        "国籍/地区": "中国",
        "全国学籍号": "G" + number,
        "年级": grade,
        "班级": class_,
        "入学年月": "202409",
    }
    row.update(cells)
    return row


def write_sheet(path: Path, rows: list[dict[str, Any]], *, shuffle: int | None = None) -> Path:
    """A sheet with all 74 headers (in a shuffled order when `shuffle` is a seed); ints and
    floats are written as numeric cells, everything else as text."""
    headers = list(HEADERS)
    if shuffle is not None:
        random.Random(shuffle).shuffle(headers)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("学生信息")
    for c, h in enumerate(headers):
        sheet.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        unknown = set(row) - set(headers)
        assert not unknown, unknown
        for c, h in enumerate(headers):
            value = row.get(h)
            if value is None or value == "":
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    book.close()
    return path
