"""The 民政 returns: 《农村留守儿童基本情况登记表》 (民发〔2016〕42号 附件1) as one Excel sheet for a
school or the town, and its summary table (附件3, 汇总表) with the table's own consistency rules
(表间勾稽关系) checked before anything is written (docs/xueji.md).

Children counted: enrolled children who fall under the 民政 definition (国发〔2016〕13号) at the
reference date — the card's classification recomputed at that date (`Child.classification`),
so a child who turned 16 before it, or whose parent left less than the threshold before it,
is not counted.

The summary table's columns (numbered as in the official table; the headings are written in
words on the sheet): 1 total; 2/5/8 aged 0–5, 6–13, 14–15, each by gender (3/4, 6/7, 9/10);
11–18 schooling (幼儿园 … 不在学); 19/20 户口 registered or not; 21–25 boarding by stage; 26–29 who
actually cares; 30–32 the guardianship assessment. Every child must land in exactly one column
of each group: a card lacking what a group needs (gender, boarding, guardian, assessment)
breaks a rule, and the rule's violation names those children — the return is refused until
the cards are completed.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from guanai.lib.dates import age_on
from guanai.lib.grades import grade_name

from .models import Child, Enrolment
from .xueji import person_id_number

DEFINITION = (
    "统计口径：民政口径农村留守儿童（国发〔2016〕13号、民发〔2016〕42号）——因父母双方外出务工"
    "或一方外出务工另一方无监护能力（重病、重残等），无法与父母正常共同生活的不满十六周岁"
    "农村户籍未成年人。"
)
GRANDPARENTS = ("祖父", "祖母", "外祖父", "外祖母")
PARENTS = ("父亲", "母亲")

SUMMARY_HEADINGS: dict[int, str] = {
    1: "农村留守儿童总数",
    2: "0–5周岁",
    3: "0–5周岁 男",
    4: "0–5周岁 女",
    5: "6–13周岁",
    6: "6–13周岁 男",
    7: "6–13周岁 女",
    8: "14–16周岁",
    9: "14–16周岁 男",
    10: "14–16周岁 女",
    11: "幼儿园",
    12: "未入园",
    13: "小学",
    14: "初中",
    15: "高中",
    16: "中职",
    17: "辍学",
    18: "不在学",
    19: "已登记户口",
    20: "未登记户口",
    21: "学前",
    22: "高中阶段",
    23: "不在学或辍学",
    24: "义务教育阶段寄宿",
    25: "义务教育阶段非寄宿",
    26: "祖父母或外祖父母监护",
    27: "其他亲属或亲友监护",
    28: "父母一方监护",
    29: "无人监护",
    30: "监护情况较好",
    31: "监护情况一般",
    32: "监护情况差",
}
GROUPS = {
    "年龄": (2, 5, 8),
    "就学情况": tuple(range(11, 19)),
    "户口登记": (19, 20),
    "寄宿情况": tuple(range(21, 26)),
    "实际监护": tuple(range(26, 30)),
    "监护情况评估": (30, 31, 32),
}
# What a child lacks when it lands in no column of a group.
MISSING = {
    "性别": "性别未填写",
    "寄宿情况": "是否寄宿未填写",
    "实际监护": "监护人未登记（或标注“监护缺失”）",
    "监护情况评估": "监护情况评估未填写",
}


@dataclass(frozen=True)
class Rule:
    """One 勾稽关系: the sum of `left` equals the sum of `right`."""

    left: tuple[int, ...]
    right: tuple[int, ...]
    group: str  # the group whose missing placements break it

    @property
    def text(self) -> str:
        def side(cols: tuple[int, ...]) -> str:
            return "+".join(f"{c}列" for c in cols)

        return f"{side(self.left)} = {side(self.right)}"


RULES = [
    Rule((1,), (2, 5, 8), "年龄"),
    Rule((1,), tuple(range(11, 19)), "就学情况"),
    Rule((1,), (19, 20), "户口登记"),
    Rule((1,), tuple(range(21, 26)), "寄宿情况"),
    Rule((1,), tuple(range(26, 30)), "实际监护"),
    Rule((1,), (30, 31, 32), "监护情况评估"),
    Rule((2,), (3, 4), "性别"),
    Rule((5,), (6, 7), "性别"),
    Rule((8,), (9, 10), "性别"),
    Rule((13, 14), (24, 25), "寄宿情况"),
]


def _broken(columns: dict[int, int]) -> list[str | None]:
    out: list[str | None] = []
    for rule in RULES:
        a = sum(columns.get(c, 0) for c in rule.left)
        b = sum(columns.get(c, 0) for c in rule.right)
        out.append(f"{rule.text}（{a} ≠ {b}）" if a != b else None)
    return out


def check_rules(columns: dict[int, int]) -> list[str]:
    """The rules a summary row breaks, each as `1列 = 2列+5列+8列（12 ≠ 11）`. Pure."""
    return [text for text in _broken(columns) if text]


@dataclass
class Placement:
    """Where one child is counted: group → column (None when the card lacks what it needs)."""

    child: Child
    columns: dict[str, int | None] = field(default_factory=dict)


def _stage(grade: int) -> int:
    if grade == 0:
        return 11  # 学前班 counts as 幼儿园
    if grade <= 6:
        return 13
    if grade <= 9:
        return 14
    return 15


def guardian_column(child: Child) -> int | None:
    if "no_guardian" in (child.tags or []):
        return 29
    guardian = getattr(child, "guardian", None)
    relation = guardian.relation if guardian else ""
    if not (guardian and guardian.name):
        return None
    if relation in GRANDPARENTS:
        return 26
    if relation in PARENTS:
        return 28
    return 27


def place(child: Child, on: dt.date) -> Placement:
    """The columns of the summary table one child is counted in."""
    p = Placement(child)
    age = age_on(child.birth_date, on)
    band = 2 if age <= 5 else 5 if age <= 13 else 8
    p.columns["年龄"] = band
    p.columns["性别"] = {"male": band + 1, "female": band + 2}.get(child.gender)
    grade = child.school_class.grade
    stage = _stage(grade)
    p.columns["就学情况"] = stage
    p.columns["户口登记"] = 19  # the 民政 definition needs a (rural) 户口
    if stage == 11:
        p.columns["寄宿情况"] = 21
    elif stage == 15:
        p.columns["寄宿情况"] = 22
    else:
        p.columns["寄宿情况"] = {True: 24, False: 25}.get(child.boarding)
    p.columns["实际监护"] = guardian_column(child)
    p.columns["监护情况评估"] = {"good": 30, "fair": 31, "poor": 32}.get(
        child.guardianship_assessment
    )
    return p


@dataclass
class Summary:
    on: dt.date
    placements: list[Placement]
    columns: dict[int, int]
    violations: list[str]  # each rule broken, followed by the children that break it


def summarise(children: Iterable[Child], *, on: dt.date) -> Summary:
    placements = [place(c, on) for c in children]
    counts: Counter[int] = Counter({1: len(placements)})
    for p in placements:
        for col in p.columns.values():
            if col is not None:
                counts[col] += 1
    columns = {c: counts.get(c, 0) for c in SUMMARY_HEADINGS}
    violations = []
    for rule, text in zip(RULES, _broken(columns), strict=True):
        if text is None:
            continue
        lacking = [p for p in placements if p.columns.get(rule.group) is None]
        if rule.group == "性别":  # only the children of the band the rule is about
            lacking = [p for p in lacking if p.columns["年龄"] == rule.left[0]]
        if rule.left == (13, 14):  # only children in compulsory education
            lacking = [p for p in lacking if p.columns["就学情况"] in (13, 14)]
        names = "、".join(_who(p.child) for p in lacking[:50])
        more = f" 等 {len(lacking)} 人" if len(lacking) > 50 else ""
        reason = MISSING.get(rule.group, "")
        violations.append(f"{text}：{reason}——{names}{more}" if lacking else text)
    return Summary(on, placements, columns, violations)


def _who(child: Child) -> str:
    cls = child.school_class
    return f"{child.school.name}{grade_name(cls.grade)}({cls.class_no})班 {child.name}"


def civil_children(queryset, *, on: dt.date) -> list[Child]:
    """The enrolled children of `queryset` under the 民政 definition at `on`, recomputed from
    the parents' facts at that date."""
    qs = (
        queryset.filter(enrolment=Enrolment.ENROLLED, birth_date__isnull=False)
        .exclude(category="unknown")
        .select_related("school", "school_class", "guardian")
        .prefetch_related("parents")
        .order_by("school__code", "school_class__grade", "school_class__class_no", "id")
    )
    return [c for c in qs.iterator(chunk_size=500) if c.classification(on).civil_affairs]


# --- the registration sheet (附件1) -----------------------------------------------------------

REGISTER_COLUMNS = [
    "序号",
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份证号码",
    "是否登记户口",
    "户籍所在地",
    "现居住地",
    "身体情况",
    "残疾类别及等级",
    "患病类型",
    "是否学校寄宿",
    "就学情况",
    "就读学校",
    "年级班级",
    "祖父姓名",
    "祖父出生日期",
    "祖母姓名",
    "祖母出生日期",
    "外祖父姓名",
    "外祖父出生日期",
    "外祖母姓名",
    "外祖母出生日期",
    "父亲姓名",
    "父亲出生日期",
    "父亲当前务工地点",
    "父亲联系电话",
    "母亲姓名",
    "母亲出生日期",
    "母亲当前务工地点",
    "母亲联系电话",
    "父亲公民身份证号码",
    "母亲公民身份证号码",
    "父母双方同时外出",
    "父母一方外出、另一方无监护能力",
    "无监护能力",
    "父母外出有无委托其他监护人",
    "委托监护人姓名",
    "受委托监护人电话",
    "委托监护人公民身份证号码",
    "与被监护人关系",
    "委托监护人居住地地址",
    "监护类型",
    "家庭经济来源",
    "救助帮扶情况",
]
STAGE_WORDS = {11: "幼儿园", 13: "小学", 14: "初中", 15: "高中"}
HEALTHY = {"", "健康", "良好", "健康或良好", "正常"}


def _work_place(parent) -> str:
    if parent is None:
        return ""
    if parent.work_province or parent.work_city:
        return f"{parent.work_province}{parent.work_city}"
    return parent.work_place


def guardianship_type(child: Child, on: dt.date) -> str:
    """监护类型 of the form, from the card: 无人监护, 父或母无监护能力, 受委托监护人监护能力不足,
    监护情况一般, 监护情况较好."""
    statuses = {p.relation: p.status for p in child.parents.all()}
    guardian = getattr(child, "guardian", None)
    if "no_guardian" in (child.tags or []):
        return "无人监护"
    if "incapable" in statuses.values():
        return "父或母无监护能力"
    if guardian is not None and guardian.capacity == "poor":
        return "受委托监护人监护能力不足"
    return {"good": "监护情况较好", "fair": "监护情况一般"}.get(child.guardianship_assessment, "")


def register_row(number: int, child: Child, on: dt.date) -> list[Any]:
    parents = {p.relation: p for p in child.parents.all()}
    father, mother = parents.get("father"), parents.get("mother")
    guardian = getattr(child, "guardian", None)
    relation = guardian.relation if guardian else ""
    grand = {r: (guardian.name if guardian and relation == r else "") for r in GRANDPARENTS}
    health = "残疾" if child.disability else ("健康" if child.health in HEALTHY else "患病")
    status = {r: p.status for r, p in parents.items()}
    both_away = status.get("father") == status.get("mother") == "away"
    one_incapable = "incapable" in status.values() and "away" in status.values()
    incapable = "、".join(
        w for r, w in (("father", "父亲"), ("mother", "母亲")) if status.get(r) == "incapable"
    )
    entrusted = guardian is not None and bool(guardian.name) and relation not in PARENTS
    cls = child.school_class
    address = child.address or f"{child.village}{child.group}"
    return [
        number,
        child.name,
        {"male": "男", "female": "女"}.get(child.gender, ""),
        child.ethnicity,
        child.birth_date,
        child.id_number if child.id_number_enc else "",
        "是",
        "",  # 户籍所在地: not on the card
        address,
        health,
        child.disability,
        child.health if health == "患病" else "",
        {True: "是", False: "否"}.get(child.boarding, ""),
        STAGE_WORDS[_stage(cls.grade)],
        child.school.name,
        f"{grade_name(cls.grade)}({cls.class_no})班",
        grand["祖父"],
        "",
        grand["祖母"],
        "",
        grand["外祖父"],
        "",
        grand["外祖母"],
        "",
        father.name if father else "",
        "",
        _work_place(father),
        father.phone if father else "",
        mother.name if mother else "",
        "",
        _work_place(mother),
        mother.phone if mother else "",
        person_id_number(father),
        person_id_number(mother),
        "是" if both_away else "否",
        "是" if one_incapable else "否",
        incapable,
        "是" if entrusted else "否",
        guardian.name if entrusted else "",
        guardian.phone if entrusted else "",
        person_id_number(guardian) if entrusted else "",
        relation if entrusted else "",
        "",  # the entrusted guardian's address: not on the card
        guardianship_type(child, on),
        child.income_sources,
        child.assistance,
    ]


class SummaryRefused(Exception):
    """The summary table breaks its own rules: nothing is exported."""

    def __init__(self, violations: list[str]):
        super().__init__("\n".join(violations))
        self.violations = violations


def export_minzheng(
    *, children: list[Child], unit: str, on: dt.date, path: str | Path, by=None, school=None
) -> Summary:
    """Write the 登记表 (one row per child) and the 汇总表 for a unit (a school's or a town's
    name) at the reference date `on`. Raises SummaryRefused, writing nothing, when the summary
    breaks a rule. Writes the access log (the sheet holds full ID numbers)."""
    import xlsxwriter

    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    summary = summarise(children, on=on)
    if summary.violations:
        raise SummaryRefused(summary.violations)
    path = Path(path)
    who = f"{by.display_name or by.username}（{by.username}）" if by is not None else "命令行"
    at = timezone.localtime()
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    text = book.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
    bold = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "num_format": "@"}
    )
    title = book.add_format({"bold": True, "font_size": 14})
    day = book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    stamp = (
        f"填报单位：{unit}    填报日期：{at:%Y-%m-%d}    "
        f"年龄计算截止（统计基准日）：{on:%Y-%m-%d}    导出人：{who}"
    )
    reg = book.add_worksheet("登记表")
    reg.write_string(0, 0, "农村留守儿童基本情况登记表（民发〔2016〕42号 附件1）", title)
    reg.write_string(1, 0, stamp)
    reg.write_string(2, 0, DEFINITION)
    for i, col in enumerate(REGISTER_COLUMNS):
        reg.write_string(3, i, col, bold)
        reg.set_column(i, i, 20 if "号码" in col or "地" in col else 11)
    for n, child in enumerate(children, start=1):
        for i, value in enumerate(register_row(n, child, on)):
            if isinstance(value, dt.date):
                reg.write_datetime(3 + n, i, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, int):
                reg.write_number(3 + n, i, value)
            elif value:
                reg.write_string(3 + n, i, str(value), text)
    reg.freeze_panes(4, 2)
    total = book.add_worksheet("汇总表")
    total.write_string(0, 0, "农村留守儿童摸底排查汇总表（民发〔2016〕42号 附件3）", title)
    total.write_string(1, 0, stamp)
    total.write_string(2, 0, DEFINITION)
    total.write_string(3, 0, "填报单位", bold)
    for col, heading in SUMMARY_HEADINGS.items():
        total.write_string(3, col, f"{col}列 {heading}", bold)
        total.write_number(4, col, summary.columns[col])
        total.set_column(col, col, 10)
    total.write_string(4, 0, unit)
    total.set_column(0, 0, 20)
    total.write_string(6, 0, "表间勾稽关系（导出前已核对）：" + "；".join(r.text for r in RULES))
    book.close()
    log_access(
        request=None,
        user=by,
        action=AccessAction.EXPORT,
        school=school,
        detail=f"导出民政口径农村留守儿童登记表 {len(children)} 人（截至 {on:%Y-%m-%d}）：{path.name}",
    )
    return summary


def register_pdf(*, child: Child, unit: str, on: dt.date, by) -> bytes:
    """One child's 登记表 as an A4 PDF (WeasyPrint, the CJK font of the letters). The caller
    checks scope and the export right, and writes the access log (full ID numbers)."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from guanai.lib.pdf import font_url

    url = font_url()
    result = child.classification(on)
    values = dict(zip(REGISTER_COLUMNS, register_row(1, child, on), strict=True))
    html = render_to_string(
        "children/minzheng_pdf.html",
        {
            "r": values,
            "one_incapable": values["父母一方外出、另一方无监护能力"],
            "unit": unit,
            "on": on,
            "today": timezone.localdate(),
            "now": timezone.localtime(),
            "by": str(by) if by is not None else "命令行",
            "civil": result.civil_affairs,
            "civil_reason": result.civil_reason,
            "definition": DEFINITION.removeprefix("统计口径："),
            "font_url": url,
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
