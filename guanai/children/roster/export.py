"""The school's roster out and the empty template (re-import unchanged)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from guanai.org.models import School

from ..classification import STATUS_LABELS
from ..models import Child, Enrolment, Gender, Hukou
from .columns import CLOSED_LISTS, COLUMNS, OPEN_LISTS, TEXT_COLUMNS

# --- export and template ---------------------------------------------------------------------


def _formats(book) -> dict[str, Any]:
    return {
        "text": book.add_format({"num_format": "@"}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": "@"}
        ),
        "title": book.add_format({"bold": True, "font_size": 13}),
    }


def _layout(sheet, formats: dict[str, Any], header_row: int, last_row: int) -> None:
    """Column widths, text format for ID and phone columns, drop-downs for closed columns."""
    for i, col in enumerate(COLUMNS):
        width = 20 if col in TEXT_COLUMNS or col == "详细住址" else max(8, len(col) * 2 + 2)
        sheet.set_column(i, i, width, formats["text"] if col in TEXT_COLUMNS else None)
        choices = CLOSED_LISTS.get(col) or OPEN_LISTS.get(col)
        if choices:
            sheet.data_validation(
                header_row + 1,
                i,
                max(last_row, header_row + 1),
                i,
                {
                    "validate": "list",
                    "source": choices,
                    "show_error": col in CLOSED_LISTS,
                    "error_title": col,
                    "error_message": "请从下拉列表中选择：" + "、".join(choices),
                },
            )
    sheet.freeze_panes(header_row + 1, 1)


def write_template(path: str | Path) -> Path:
    """Write the empty roster template of SPEC §6.2: the header row, text-formatted ID and phone
    columns and drop-down lists for the closed columns."""
    import xlsxwriter

    path = Path(path)
    book = xlsxwriter.Workbook(str(path))
    formats = _formats(book)
    sheet = book.add_worksheet("花名册")
    for i, col in enumerate(COLUMNS):
        sheet.write_string(0, i, col, formats["header"])
    _layout(sheet, formats, 0, 5000)
    notes = book.add_worksheet("填写说明")
    for i, line in enumerate(
        [
            "必填：姓名、年级、班级、身份证号（没有身份证号的儿童填写学籍号）。",
            "身份证号、电话请按文本填写，不要让 Excel 转成数字（会丢失后几位）。",
            "年级写 3、三年级 或 初一；班级写 2 或 2班。",
            "父亲状况、母亲状况：在家、外出务工、已故、失踪、无监护能力。",
            (
                "父亲外出时间、母亲外出时间：外出务工从哪天起，写 2025-03-01 或 2025年3月1日"
                f"（可不填）；外出满 {settings.GUANAI_AWAY_MONTHS} 个月才算留守，"
                "不能填今天以后的日期。"
            ),
            "空白单元格不会清除系统中已有的信息；同一儿童再次导入只更新有变化的内容。",
        ]
    ):
        notes.write_string(i, 0, line)
    notes.set_column(0, 0, 90)
    book.close()
    return path


def _export_row(child: Child) -> list[Any]:
    parents = {p.relation: p for p in child.parents.all()}
    guardian = getattr(child, "guardian", None)
    out: dict[str, Any] = {
        "姓名": child.name,
        "性别": Gender(child.gender).label if child.gender else "",
        "身份证号": child.id_number if child.id_number_enc else "",
        "学籍号": child.student_no,
        "出生日期": child.birth_date.isoformat() if child.birth_date else "",
        "民族": child.ethnicity,
        "年级": child.school_class.grade,
        "班级": child.school_class.class_no,
        "学号": child.school_no,
        "户口性质": Hukou(child.hukou).label if child.hukou else "",
        "是否随迁子女": "是" if child.is_migrant else "否",
        "村": child.village,
        "组": child.group,
        "详细住址": child.address,
        "是否寄宿": {True: "是", False: "否", None: ""}[child.boarding],
        "健康状况": child.health,
        "备注": child.notes,
    }
    for relation, label in (("father", "父亲"), ("mother", "母亲")):
        p = parents.get(relation)
        out[f"{label}姓名"] = p.name if p else ""
        out[f"{label}状况"] = STATUS_LABELS.get(p.status, "") if p else ""
        out[f"{label}外出时间"] = p.away_since.isoformat() if p and p.away_since else ""
        out[f"{label}务工地"] = p.work_place if p else ""
        out[f"{label}电话"] = p.phone if p else ""
    out["监护人姓名"] = guardian.name if guardian else ""
    out["监护人关系"] = guardian.relation if guardian else ""
    out["监护人电话"] = guardian.phone if guardian else ""
    out["监护人年龄"] = guardian.age if guardian and guardian.age is not None else ""
    return [out[c] for c in COLUMNS]


def export_roster(*, school: School, path: str | Path, by=None, by_label: str | None = None) -> int:
    """Write the school's enrolled children in the template's columns under a title row naming
    the school, the exporter and the time (full ID numbers as text cells, so the file
    re-imports unchanged). Writes the access log. Returns the number of children written."""
    import xlsxwriter

    from guanai.accounts.services import log_access

    path = Path(path)
    label = by_label or (
        f"{by.display_name or by.username}（{by.username}）" if by is not None else "命令行"
    )
    at = timezone.localtime()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    formats = _formats(book)
    sheet = book.add_worksheet("花名册")
    sheet.write_string(
        0,
        0,
        f"{school.name}（{school.code}）学生花名册    导出人：{label}    "
        f"导出时间：{at:%Y-%m-%d %H:%M}",
        formats["title"],
    )
    for i, col in enumerate(COLUMNS):
        sheet.write_string(1, i, col, formats["header"])
    children = (
        Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED)
        .select_related("school_class", "guardian")
        .prefetch_related("parents")
        .order_by("school_class__grade", "school_class__class_no", "id")
    )
    count = 0
    for child in children.iterator(chunk_size=1000):
        count += 1
        for i, value in enumerate(_export_row(child)):
            if isinstance(value, int):
                sheet.write_number(count + 1, i, value)
            elif value != "":
                sheet.write_string(count + 1, i, value, formats["text"])
    _layout(sheet, formats, 1, count + 1 + 500)
    book.close()
    log_access(
        request=None,
        user=by,
        action="export",
        school=school,
        detail=f"导出花名册 {count} 人（含完整身份证号）：{path.name}",
    )
    return count
