"""The inspection report: one A4 page (PDF, CJK font embedded) with the checklist scores, the
sample and what the visits found, the accuracy rate and the 整改 items. Rendered with
WeasyPrint like the letters (guanai/contacts/letters_pdf.py, whose font lookup it shares)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from guanai.children.models import Child
from guanai.contacts.letters_pdf import FONT_DIRS, cjk_font_file

from . import services
from .findings import accuracy
from .models import Inspection


def report_context(inspection: Inspection) -> dict:
    children = Child.objects.filter(pk__in=inspection.sample).select_related("school_class")
    by_id = {c.pk: c for c in children}
    findings = {f.child_id: f for f in inspection.findings.prefetch_related("checks")}
    rows = []
    for pk in inspection.sample:
        child, finding = by_id.get(pk), findings.get(pk)
        if child is None:
            continue
        wrong = [c for c in finding.checks.all() if not c.correct] if finding else []
        rows.append({"child": child, "finding": finding, "wrong": wrong})
    acc = accuracy(inspection)
    return {
        "inspection": inspection,
        "checklist": inspection.checklist.prefetch_related("attachments"),
        "inspectors": "、".join(str(u) for u in inspection.inspectors.all()) or "未指定",
        "compare": services.compare_with_previous(inspection),
        "total": sum(i.score or 0 for i in inspection.checklist.all()),
        "rows": rows,
        "accuracy": acc,
        "percent": "" if acc["rate"] is None else f"{acc['rate'] * 100:.1f}%",
        "items": inspection.rectifications.select_related("owner"),
        "printed": timezone.localtime(),
        "reproduced": services.reproduced(inspection),
    }


def render_report(inspection: Inspection) -> bytes:
    """The report as PDF bytes."""
    from weasyprint import HTML

    font = cjk_font_file()
    if font is None:
        raise RuntimeError("缺少中文字体（Noto Sans CJK）：请安装 fonts-noto-cjk")
    vendored = FONT_DIRS[0] in font.parents
    html = render_to_string(
        "inspections/report_pdf.html",
        report_context(inspection) | {"font_url": font.as_uri() if vendored else ""},
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
