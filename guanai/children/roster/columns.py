"""The roster template's columns (SPEC §6.2), the names sheets give them, and what an import
reports (errors, the result)."""

from dataclasses import dataclass, field
from typing import Any

from ..classification import STATUS_LABELS

# --- the template (SPEC §6.2) ----------------------------------------------------------------

COLUMNS = [
    "姓名",
    "性别",
    "身份证号",
    "学籍号",
    "出生日期",
    "民族",
    "年级",
    "班级",
    "学号",
    "户口性质",
    "是否随迁子女",
    "村",
    "组",
    "详细住址",
    "是否寄宿",
    "健康状况",
    "父亲姓名",
    "父亲状况",
    "父亲外出时间",
    "父亲务工地",
    "父亲电话",
    "母亲姓名",
    "母亲状况",
    "母亲外出时间",
    "母亲务工地",
    "母亲电话",
    "监护人姓名",
    "监护人关系",
    "监护人电话",
    "监护人年龄",
    "备注",
]
# Column → card input key (guanai.children.validation); 年级, 班级 and phones are read here.
KEY_OF_COLUMN = {
    "姓名": "name",
    "性别": "gender",
    "身份证号": "id_number",
    "学籍号": "student_no",
    "出生日期": "birth_date",
    "民族": "ethnicity",
    "学号": "school_no",
    "户口性质": "hukou",
    "是否随迁子女": "is_migrant",
    "村": "village",
    "组": "group",
    "详细住址": "address",
    "是否寄宿": "boarding",
    "健康状况": "health",
    "父亲姓名": "father.name",
    "父亲状况": "father.status",
    "父亲外出时间": "father.away_since",
    "父亲务工地": "father.work_place",
    "父亲电话": "father.phone",
    "母亲姓名": "mother.name",
    "母亲状况": "mother.status",
    "母亲外出时间": "mother.away_since",
    "母亲务工地": "mother.work_place",
    "母亲电话": "mother.phone",
    "监护人姓名": "guardian.name",
    "监护人关系": "guardian.relation",
    "监护人电话": "guardian.phone",
    "监护人年龄": "guardian.age",
    "备注": "notes",
    # read from the 学籍 system's student sheet only (guanai/children/xueji.py)
    "残疾类型": "disability",
}
COLUMN_OF_KEY = {v: k for k, v in KEY_OF_COLUMN.items()}
PHONE_COLUMNS = ("父亲电话", "母亲电话", "监护人电话")
YES_NO_COLUMNS = ("是否随迁子女", "是否寄宿")
# Cells passed to clean_card as they are (after NFKC + trim).
CARD_COLUMNS = [
    c
    for c in KEY_OF_COLUMN
    if c not in PHONE_COLUMNS + YES_NO_COLUMNS + ("身份证号", "学籍号", "学号", "备注")
]

ALIASES = {
    # SPEC §6.2
    "身份证号码": "身份证号",
    "证件号码": "身份证号",
    "公民身份号码": "身份证号",
    "身份证件号": "身份证号",
    "监护人联系电话": "监护人电话",
    "监护人手机": "监护人电话",
    "父亲联系电话": "父亲电话",
    "母亲联系电话": "母亲电话",
    "出生年月日": "出生日期",
    "生日": "出生日期",
    "全国学籍号": "学籍号",
    "学生姓名": "姓名",
    # other spellings seen in school sheets and the 学籍 system's exports
    "身份证件号码": "身份证号",
    "身份证": "身份证号",
    "学生身份证号": "身份证号",
    "学生身份证号码": "身份证号",
    "公民身份证号": "身份证号",
    "公民身份证号码": "身份证号",
    "证件号": "身份证号",
    "学籍号码": "学籍号",
    "全国学籍号码": "学籍号",
    "学籍编号": "学籍号",
    "儿童姓名": "姓名",
    "户口类型": "户口性质",
    "户籍性质": "户口性质",
    "随迁子女": "是否随迁子女",
    "是否进城务工人员随迁子女": "是否随迁子女",
    "是否随迁": "是否随迁子女",
    "寄宿": "是否寄宿",
    "是否住校": "是否寄宿",
    "是否寄宿生": "是否寄宿",
    "家庭住址": "详细住址",
    "家庭地址": "详细住址",
    "住址": "详细住址",
    "所在村": "村",
    "村社区": "村",
    "村民小组": "组",
    "健康情况": "健康状况",
    "身体状况": "健康状况",
    "监护人联系方式": "监护人电话",
    "监护人手机号": "监护人电话",
    "监护人电话号码": "监护人电话",
    "与监护人关系": "监护人关系",
    "监护人与儿童关系": "监护人关系",
    "监护人与学生关系": "监护人关系",
    "委托监护人姓名": "监护人姓名",
    "委托监护人电话": "监护人电话",
    "委托监护人关系": "监护人关系",
    "委托监护人年龄": "监护人年龄",
    # a bare 父亲 / 母亲 / 监护人 column holds the name (or groups a second header row)
    "父亲": "父亲姓名",
    "母亲": "母亲姓名",
    "监护人": "监护人姓名",
    "委托监护人": "监护人姓名",
}
for _who in ("父亲", "母亲"):
    ALIASES.update(
        {
            f"{_who}手机": f"{_who}电话",
            f"{_who}手机号": f"{_who}电话",
            f"{_who}电话号码": f"{_who}电话",
            f"{_who}联系方式": f"{_who}电话",
            f"{_who}状态": f"{_who}状况",
            f"{_who}外出务工地": f"{_who}务工地",
            f"{_who}务工地点": f"{_who}务工地",
            f"{_who}务工地址": f"{_who}务工地",
            f"{_who}外出务工时间": f"{_who}外出时间",
            f"{_who}外出日期": f"{_who}外出时间",
            f"{_who}外出年月": f"{_who}外出时间",
            f"{_who}外出务工日期": f"{_who}外出时间",
            f"{_who}离家时间": f"{_who}外出时间",
        }
    )
COLUMN_OF_HEADER = {c: c for c in COLUMNS} | ALIASES
# Grouped two-row headers: 父亲 over 姓名 | 状况 | 电话 …
GROUPS = {"父亲": "父亲", "母亲": "母亲", "监护人": "监护人", "委托监护人": "监护人"}
SUB_ALIASES = {
    "联系电话": "电话",
    "手机": "电话",
    "手机号": "电话",
    "联系方式": "电话",
    "状态": "状况",
    "情况": "状况",
    "务工地点": "务工地",
    "外出务工地": "务工地",
    "外出务工时间": "外出时间",
    "外出日期": "外出时间",
    "外出年月": "外出时间",
    "与儿童关系": "关系",
    "与学生关系": "关系",
}
CLOSED_LISTS = {
    "性别": ["男", "女"],
    "户口性质": ["农业", "非农业"],
    "是否随迁子女": ["是", "否"],
    "是否寄宿": ["是", "否"],
    "父亲状况": list(STATUS_LABELS.values()),
    "母亲状况": list(STATUS_LABELS.values()),
}
OPEN_LISTS = {"监护人关系": ["祖父", "祖母", "外祖父", "外祖母", "父亲", "母亲", "其他亲属"]}
TEXT_COLUMNS = {"身份证号", "学籍号", "学号", "父亲电话", "母亲电话", "监护人电话"}

REASON_CREATED = "由导入新建"
REASON_UPDATED = "由导入更新"
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
CHUNK = 900  # rows looked up together (under SQLite's old 999-parameter limit)
WRITE_BATCH = 2000


class RosterError(Exception):
    """The file cannot be imported at all (unreadable, no header row): exit status 2."""


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's own 1-based row number
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do); `as_dict` is SPEC §6.1's JSON."""

    term: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    header_row: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
        }

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})
