"""Excel downloads of lists (导出 Excel): one sheet with a title row, a bold header and the rows,
every cell written as it is shown on the page, and one access-log row per export.

Lists of children's data leave the system only this way, so the export right (`can_export`)
and the access log live here, not in each view.
"""

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | dt.date | None


def table_xlsx(
    *, sheet_name: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> tuple[bytes, int]:
    """The workbook's bytes and the number of rows written. Text stays text: written as a
    string into a text-formatted ('@') cell, an ID number or a phone never turns into a number,
    and a name such as `=HYPERLINK(…)` or a note such as `+1-2` never into a formula, not even
    when someone edits the cell in Excel. Dates are real dates shown as yyyy-mm-dd."""
    import xlsxwriter

    buffer = io.BytesIO()
    # strings_to_formulas off: even a caller's write() would store `=…` as text.
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    # A sheet's name cannot hold []:*?/\ (a round named 秋季/冬季) nor be longer than 31.
    sheet = book.add_worksheet(re.sub(r"[\[\]:*?/\\]", "_", sheet_name)[:31].strip("'"))
    sheet.write_string(0, 0, title, text)
    widths = [max(6, len(h) * 2 + 2) for h in header]
    for col, name in enumerate(header):
        sheet.write_string(1, col, name, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(count + 1, col, dt.datetime.combine(value, dt.time()), day)
                width = 12
            elif isinstance(value, bool):
                sheet.write_string(count + 1, col, "是" if value else "否", text)
                width = 4
            elif isinstance(value, int | float):
                sheet.write_number(count + 1, col, value)
                width = len(str(value)) + 2
            else:
                sheet.write_string(count + 1, col, str(value), text)
                width = len(str(value)) * 2 + 2  # CJK characters are about two columns wide
            if col < len(widths):
                widths[col] = min(max(widths[col], width), 60)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(2, 0)
    book.close()
    return buffer.getvalue(), count


def xlsx_download(
    request: HttpRequest,
    *,
    filename: str,
    what: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    school=None,
) -> HttpResponse:
    """Answer an Excel download of a list, logged as an export ("导出<what> N 条"). Users
    without the export right get 403 (the pages hide the button for them)."""
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    user = request.user
    if not getattr(user, "can_export", False):
        raise PermissionDenied("您的角色不能导出名单")
    now = timezone.localtime()
    content, count = table_xlsx(
        sheet_name=what,
        title=f"{what} · 导出人 {user} · {now:%Y-%m-%d %H:%M}",
        header=header,
        rows=rows,
    )
    log_access(
        request=request,
        user=user,
        action=AccessAction.EXPORT,
        school=school,
        detail=f"导出{what} {count} 条",
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
