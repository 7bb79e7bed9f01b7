"""The national student-registration system (全国中小学生学籍信息管理系统, 学籍): its own student
sheet read into the roster import, its 是否留守儿童 compared with the card, and the yearly
留守 update written out for the school's 学籍 administrator (docs/xueji.md).

The 学籍 sheet is not a second importer: each of its rows is translated into the roster's own
columns (SPEC §6.2) and goes through `roster.import_roster` like any school sheet, so matching,
"blank never clears", rejections and idempotence are the roster's. What is particular to the
学籍 sheet lives here: its codes (性别 1/2, 民族 01, 户口性质 1/2, 就读方式 1/2, 是否留守儿童 0/1/2),
its two family members 成员1… / 成员2… (who is the father, the mother, the guardian) and the
学籍 category, which is stored as the 学籍 system says it and never derived.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone

from guanai.lib.grades import grade_name
from guanai.lib.text import clean, digits_of_number
from guanai.lib.vocab import VocabError, parse_relation, parse_yes_no

from .classification import CATEGORY_LABELS
from .models import Child, Enrolment, XuejiCategory

# --- the 学籍 category -----------------------------------------------------------------------

XUEJI_CODES = {
    "0": "none",
    "1": "single",
    "2": "double",
    "非留守儿童": "none",
    "非留守": "none",
    "否": "none",
    "单亲留守儿童": "single",
    "单亲留守": "single",
    "单留守": "single",
    "双亲留守儿童": "double",
    "双亲留守": "double",
    "双留守": "double",
}
XUEJI_LABELS = {c.value: c.label for c in XuejiCategory}


def parse_xueji_category(value: Any) -> str | None:
    """是否留守儿童 as the 学籍 sheet writes it (`非留守儿童`/`单亲留守儿童`/`双亲留守儿童` or
    `0`/`1`/`2`) → none/single/double; None for blank. Raises VocabError otherwise."""
    text = clean(digits_of_number(value)).replace(" ", "")
    if not text:
        return None
    if text in XUEJI_CODES:
        return XUEJI_CODES[text]
    raise VocabError(f"“{text}”应为 非留守儿童、单亲留守儿童、双亲留守儿童（或 0、1、2）")


def expected_xueji(category: str) -> str | None:
    """What the 学籍 system should say for a derived category: single and double as they
    are, 随迁 and 非留守 as 非留守儿童 (随迁 is a separate 学籍 field), None for 未摸排 (no
    comparison is possible before the parents' status is known)."""
    return {"single": "single", "double": "double", "migrant": "none", "none": "none"}.get(category)


def mismatch_q() -> Q:
    """Children whose stored 学籍 category disagrees with the derived one (docs/xueji.md):
    a 学籍 value is present, the card is screened (not 未摸排), and the 学籍 value is not
    `expected_xueji(category)`."""
    agrees = (
        Q(category="single", xueji_category="single")
        | Q(category="double", xueji_category="double")
        | Q(category__in=("none", "migrant"), xueji_category="none")
    )
    return Q(xueji_category__isnull=False) & ~Q(category="unknown") & ~agrees


def is_mismatch(child: Child) -> bool:
    """`mismatch_q` for one card in memory."""
    if child.xueji_category is None or child.category == "unknown":
        return False
    return child.xueji_category != expected_xueji(child.category)


def person_id_number(person) -> str:
    """A parent's or guardian's full ID number ('' when unknown). Callers showing it must
    write the access log."""
    from guanai.lib import crypto

    return crypto.decrypt(person.id_number_enc) if person and person.id_number_enc else ""


# --- reading the 学籍 student sheet ------------------------------------------------------------

MEMBER_FIELDS = (
    "姓名",
    "关系",
    "关系说明",
    "联系电话",
    "是否监护人",
    "身份证件类型",
    "身份证件号",
    "工作单位",
)
MEMBER = re.compile(r"^(?:家庭)?成员([12])(.+)$")
# The 学籍 system's own headers that this import reads (extras are ignored).
OWN_COLUMNS = (
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "身份证件类型",
    "身份证件号",
    "全国学籍号",
    "学籍号",
    "户口性质",
    "年级",
    "班级",
    "班号",
    "就读方式",
    "现住址",
    "家庭地址",
    "健康状况",
    "是否留守儿童",
    "是否进城务工人员随迁子女",
    "残疾类型",
    "是否孤儿",
    "是否独生子女",
)
# GB 3304 民族代码
_NAMES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 "
    "哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 "
    "柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 "
    "塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 "
    "鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
)
ETHNICITY = dict(enumerate(_NAMES.split(" "), start=1)) | {97: "其他", 98: "外国血统中国籍人士"}
GENDER_CODES = {"1": "男", "2": "女"}
HUKOU_CODES = {"1": "农业", "2": "非农业"}
BOARDING_CODES = {"1": "否", "2": "是", "走读": "否", "住校": "是"}
DISABILITY_CODES = {
    "1": "视力残疾",
    "2": "听力残疾",
    "3": "言语残疾",
    "4": "肢体残疾",
    "5": "智力残疾",
    "6": "精神残疾",
    "7": "多重残疾",
    "8": "其他残疾",
}
NO_DISABILITY = {"0", "无", "无残疾", "否", "非残疾"}
ID_TYPES = {"", "1", "01", "居民身份证", "身份证", "中华人民共和国居民身份证"}
FATHER = {"父亲", "父子", "父女", "父", "爸爸", "51"}
MOTHER = {"母亲", "母子", "母女", "母", "妈妈", "52"}
# GB/T 4761 家庭关系代码, the ones a guardian has
RELATION_CODES = {"61": "祖父", "62": "祖母", "63": "外祖父", "64": "外祖母", "97": "其他亲属"}

# The roster columns (SPEC §6.2) a translated row fills, and the 学籍-only ones read by the
# roster import when the header is a 学籍 header.
CANONICAL = (
    "姓名",
    "性别",
    "身份证号",
    "学籍号",
    "出生日期",
    "民族",
    "年级",
    "班级",
    "户口性质",
    "是否随迁子女",
    "详细住址",
    "是否寄宿",
    "健康状况",
    "残疾类型",
    "是否留守儿童",
    "父亲姓名",
    "父亲务工地",
    "父亲电话",
    "母亲姓名",
    "母亲务工地",
    "母亲电话",
    "监护人姓名",
    "监护人关系",
    "监护人电话",
    "父亲身份证号",
    "母亲身份证号",
    "监护人身份证号",
    "是否孤儿",
    "是否独生子女",
)
INDEX = {c: i for i, c in enumerate(CANONICAL)}
PERSON_COLUMN = {
    "姓名": "姓名",
    "务工地": "工作单位",
    "电话": "联系电话",
    "关系": "关系",
    "身份证号": "身份证件号",
}


def is_student_sheet(texts: list[str]) -> bool:
    """Whether a header row is the 学籍 system's student sheet: it has the family member
    columns (成员1姓名 …) or the 学校标识码 — a school's own roster has neither."""
    return any(MEMBER.match(t) for t in texts) or "学校标识码" in texts


class Translated(list):
    """A 学籍 row in the roster's columns (CANONICAL order), with what the roster needs to
    speak of the sheet's own columns: `labels` (roster column → the sheet's header) and
    `problems` (column, message) found while translating."""

    labels: dict[str, str]
    problems: list[tuple[str, str]]


@dataclass
class _Member:
    slot: int
    name: str
    role: str  # father | mother | other | ''
    relation: str  # the guardian relation as stored (祖母, 父亲 …)
    phone: Any
    work: str
    guardian: bool | None
    id_number: Any  # '' unless the member's ID document is a 居民身份证


@dataclass
class StudentSheet:
    """Where the 学籍 columns are in the sheet."""

    own: dict[str, int]  # 学籍 header → cell index
    members: dict[tuple[int, str], int]  # (slot, field) → cell index
    base_labels: dict[str, str]

    def label(self, slot: int, field: str) -> str:
        return f"成员{slot}{field}"


def read_header(texts: list[str], cells: list[Any]) -> StudentSheet:
    own: dict[str, int] = {}
    members: dict[tuple[int, str], int] = {}
    for i, text in enumerate(texts):
        m = MEMBER.match(text)
        if m:
            members.setdefault((int(m[1]), m[2]), i)
        elif text in OWN_COLUMNS:
            own.setdefault(text, i)
    labels = {
        "姓名": "姓名",
        "性别": "性别",
        "身份证号": "身份证件号",
        "学籍号": "全国学籍号" if "全国学籍号" in own else "学籍号",
        "出生日期": "出生日期",
        "民族": "民族",
        "年级": "年级",
        "班级": "班级" if "班级" in own else "班号",
        "户口性质": "户口性质",
        "是否随迁子女": "是否进城务工人员随迁子女",
        "详细住址": "现住址" if "现住址" in own else "家庭地址",
        "是否寄宿": "就读方式",
        "健康状况": "健康状况",
        "残疾类型": "残疾类型",
        "是否留守儿童": "是否留守儿童",
        "是否孤儿": "是否孤儿",
        "是否独生子女": "是否独生子女",
    }
    return StudentSheet(own, members, labels)


def _text(value: Any) -> str:
    return clean(digits_of_number(value))


def _member(sheet: StudentSheet, cells: list[Any], slot: int, out: Translated) -> _Member | None:
    def get(field: str) -> Any:
        i = sheet.members.get((slot, field))
        return cells[i] if i is not None and i < len(cells) and cells[i] is not None else ""

    name = _text(get("姓名"))
    rel_raw = _text(get("关系")).replace(" ", "")
    note = _text(get("关系说明")).replace(" ", "")
    phone, work = get("联系电话"), _text(get("工作单位"))
    id_type = _text(get("身份证件类型")).replace(" ", "")
    id_number = get("身份证件号") if id_type in ID_TYPES else ""
    if not (name or rel_raw or _text(phone) or work):
        return None
    guardian: bool | None = None
    marked = get("是否监护人")
    if _text(marked):
        try:
            guardian = parse_yes_no(marked)
        except VocabError as exc:
            out.problems.append((sheet.label(slot, "是否监护人"), str(exc)))
    word = rel_raw or note
    if word in FATHER:
        role, relation = "father", "父亲"
    elif word in MOTHER:
        role, relation = "mother", "母亲"
    else:
        role = "other" if word else ""
        relation = RELATION_CODES.get(word) or parse_relation(word)
        if relation in ("其他", "其他亲属") and note:
            relation = parse_relation(note)
    return _Member(slot, name, role, relation, phone, work, guardian, id_number)


def translate(sheet: StudentSheet, cells: list[Any]) -> Translated:
    """One 学籍 row in the roster's columns. Codes become words the roster reads; values the
    roster itself validates (ID numbers, dates, phones, yes/no) are passed as they are."""
    out = Translated([""] * len(CANONICAL))
    out.problems = []

    def own(col: str) -> Any:
        i = sheet.own.get(col)
        if i is None or i >= len(cells) or cells[i] is None:
            return ""
        value = cells[i]
        return clean(value) if isinstance(value, str) else value

    def put(col: str, value: Any) -> None:
        out[INDEX[col]] = value

    put("姓名", own("姓名"))
    gender = own("性别")
    put("性别", GENDER_CODES.get(_text(gender), gender))
    put("出生日期", own("出生日期"))
    ethnicity = own("民族")
    code = _text(ethnicity)
    if code.isdigit():
        if int(code) in ETHNICITY:
            ethnicity = ETHNICITY[int(code)]
        else:
            out.problems.append(("民族", f"民族代码“{code}”不存在"))
            ethnicity = ""
    put("民族", ethnicity)
    if _text(own("身份证件类型")).replace(" ", "") in ID_TYPES:
        put("身份证号", own("身份证件号"))
    put("学籍号", own("全国学籍号") or own("学籍号"))
    put("年级", own("年级"))
    put("班级", own("班级") if _text(own("班级")) else own("班号"))
    hukou = own("户口性质")
    put("户口性质", HUKOU_CODES.get(_text(hukou), hukou))
    put("是否随迁子女", own("是否进城务工人员随迁子女"))
    put("详细住址", own("现住址") or own("家庭地址"))
    boarding = own("就读方式")
    put("是否寄宿", BOARDING_CODES.get(_text(boarding), boarding))
    put("健康状况", own("健康状况"))
    disability = _text(own("残疾类型"))
    if disability not in NO_DISABILITY:
        put("残疾类型", DISABILITY_CODES.get(disability, disability))
    # Read by the roster as yes/no (是/否, 1/0); 是否孤儿 sets or clears the card's 孤儿 tag and
    # never the parents' 状况 (a 学籍 孤儿 may have a parent the card still lists as away).
    put("是否孤儿", own("是否孤儿"))
    put("是否独生子女", own("是否独生子女"))
    try:
        put("是否留守儿童", parse_xueji_category(own("是否留守儿童")) or "")
    except VocabError as exc:
        out.problems.append(("是否留守儿童", str(exc)))

    labels = dict(sheet.base_labels)
    members = [m for m in (_member(sheet, cells, s, out) for s in (1, 2)) if m is not None]
    parents: dict[str, _Member] = {}
    for m in members:
        if m.role not in ("father", "mother"):
            continue
        if m.role in parents:
            who = "父亲" if m.role == "father" else "母亲"
            out.problems.append(
                (sheet.label(m.slot, "关系"), f"成员1和成员2都是{who}；请核对两位成员的关系")
            )
            continue
        parents[m.role] = m
        prefix = "父亲" if m.role == "father" else "母亲"
        put(prefix + "姓名", m.name)
        put(prefix + "电话", m.phone)
        put(prefix + "务工地", m.work)
        put(prefix + "身份证号", m.id_number)
        for part, field in PERSON_COLUMN.items():
            labels[prefix + part] = sheet.label(m.slot, field)
    guardian = _guardian([m for m in members if m.guardian])
    if guardian is not None:
        put("监护人姓名", guardian.name)
        put("监护人关系", guardian.relation)
        put("监护人电话", guardian.phone)
        put("监护人身份证号", guardian.id_number)
        for part, field in PERSON_COLUMN.items():
            labels["监护人" + part] = sheet.label(guardian.slot, field)
    out.labels = labels
    return out


def _guardian(marked: list[_Member]) -> _Member | None:
    """The member marked 是否监护人 = 是. Both marked: the one who is not a parent (parents are
    guardians in law; the other one is who actually cares), else — both parents — nobody:
    the card's guardian is then left as it is, like when no member is marked."""
    if len(marked) <= 1:
        return marked[0] if marked else None
    others = [m for m in marked if m.role not in ("father", "mother")]
    return others[0] if others else None


def translated_rows(
    sheet: StudentSheet, rows: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in rows:
        yield number, translate(sheet, cells)


# --- the yearly 留守 update for the 学籍 administrator ------------------------------------------

EXPORT_COLUMNS = [
    "姓名",
    "身份证件号",
    "全国学籍号",
    "年级",
    "班级",
    "是否留守儿童",
    "是否进城务工人员随迁子女",
]
CHECK_COLUMNS = ["姓名", "身份证件号", "年级", "班级", "档卡类别", "依据", "学籍系统现为"]


def class_label(grade: int, class_no: int) -> str:
    return f"{grade_name(grade)}({class_no})班"


def xueji_rows(school) -> Iterator[tuple[Child, list[Any]]]:
    """The school's enrolled children in the export's columns, by grade, class and id."""
    children = (
        Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED)
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "id")
    )
    for child in children.iterator(chunk_size=1000):
        grade, class_no = child.school_class.grade, child.school_class.class_no
        category = expected_xueji(child.category) or "none"
        yield (
            child,
            [
                child.name,
                child.id_number if child.id_number_enc else "",
                child.student_no if child.student_no_enc else "",
                grade_name(grade),
                class_label(grade, class_no),
                XUEJI_LABELS[category],
                "是" if child.is_migrant else "否",
            ],
        )


def export_xueji(*, school, path: str | Path, by=None) -> tuple[int, int]:
    """Write the school's yearly 留守 update for the 学籍 system: one row per enrolled child
    (full ID numbers and 学籍号 as text), 是否留守儿童 from the card's derived category; the
    随迁 and 未摸排 children, written as 非留守儿童, listed again on the sheet 待核对.
    Writes the access log. Returns (children written, children to check)."""
    import xlsxwriter

    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    path = Path(path)
    who = f"{by.display_name or by.username}（{by.username}）" if by is not None else "命令行"
    at = timezone.localtime()
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": "@"})
    sheet = book.add_worksheet("学籍留守信息")
    check = book.add_worksheet("待核对")
    for sh, header in ((sheet, EXPORT_COLUMNS), (check, CHECK_COLUMNS)):
        for i, col in enumerate(header):
            sh.write_string(0, i, col, bold)
            sh.set_column(i, i, 22 if "号" in col or col in ("依据",) else 14, text)
        sh.freeze_panes(1, 1)
    count = checks = 0
    for child, values in xueji_rows(school):
        count += 1
        for i, value in enumerate(values):
            if value != "":
                sheet.write_string(count, i, value, text)
        if child.category in ("migrant", "unknown"):
            checks += 1
            xueji = XUEJI_LABELS.get(child.xueji_category or "", "")
            row = [*values[:2], *values[3:5], CATEGORY_LABELS[child.category]]
            for i, value in enumerate([*row, child.category_reason, xueji]):
                if value != "":
                    check.write_string(checks, i, value, text)
    notes = book.add_worksheet("说明")
    for i, line in enumerate(
        [
            f"{school.name} 学籍系统留守儿童信息年度更新",
            f"导出人：{who}    导出时间：{at:%Y-%m-%d %H:%M}",
            (
                "“是否留守儿童”取自档卡按父母情况认定的类别：单留守 → 单亲留守儿童，"
                "双留守 → 双亲留守儿童，其余 → 非留守儿童。"
            ),
            (
                "随迁子女和尚未摸排（父母状况未填）的儿童写作非留守儿童，并列在“待核对”表中，"
                "请核实后再录入学籍系统。"
            ),
            "本表含完整身份证号和学籍号，请妥善保管，用后删除。",
        ]
    ):
        notes.write_string(i, 0, line)
    notes.set_column(0, 0, 100)
    book.close()
    log_access(
        request=None,
        user=by,
        action=AccessAction.EXPORT,
        school=school,
        detail=f"导出学籍留守信息 {count} 人（含完整身份证号）：{path.name}",
    )
    return count, checks


def mismatch_rows(children) -> Iterator[list[Any]]:
    """The 学籍与档卡不一致 list's cells (masked ID numbers), for the page and its export."""
    for child in children:
        yield [
            child.name,
            child.id_number_masked,
            grade_name(child.school_class.grade),
            class_label(child.school_class.grade, child.school_class.class_no),
            CATEGORY_LABELS[child.category],
            XUEJI_LABELS.get(child.xueji_category or "", ""),
            child.category_reason,
        ]


MISMATCH_COLUMNS = ["姓名", "身份证号", "年级", "班级", "档卡认定", "学籍系统", "档卡依据"]
