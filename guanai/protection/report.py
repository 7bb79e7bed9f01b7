"""The written report of a dropout case (控辍保学 书面报告) as PDF: when persuasion fails, the
school reports to the county education office and the town government (义务教育法 §13–14).
Chinese in the CJK font found as for the letters (contacts/letters_pdf.py)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from guanai.contacts.letters import cn_date
from guanai.contacts.letters_pdf import FONT_DIRS, cjk_font_file

from .models import DropoutCase


def case_report_context(case: DropoutCase) -> dict:
    child = case.child
    guardian = getattr(child, "guardian", None)
    parents = list(child.parents.all())
    return {
        "case": case,
        "child": child,
        "guardian": guardian,
        "parents": parents,
        "attempts": list(case.attempts.all()),
        "today": cn_date(timezone.localdate()),
        "draft": case.status == "open",
    }


def case_report_pdf(case: DropoutCase) -> bytes:
    from weasyprint import HTML

    font = cjk_font_file()
    if font is None:
        raise RuntimeError(
            "缺少中文字体（Noto Sans CJK）：请运行 ./bin/demo 或 apt-get install fonts-noto-cjk"
        )
    vendored = FONT_DIRS[0] in font.parents
    html = render_to_string(
        "protection/dropout_report_pdf.html",
        case_report_context(case) | {"font_url": font.as_uri() if vendored else ""},
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
