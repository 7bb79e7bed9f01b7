"""Pages for the national systems (issue #17): the 学籍与档卡不一致 list, the 学籍 export and the
民政 returns. Scope through visible_to() and scope.schools()/towns(); exports are for the roles
with the export right and write the access log."""

import tempfile
from pathlib import Path
from typing import BinaryIO

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from guanai.accounts import scope
from guanai.exports import XLSX, xlsx_download
from guanai.lib.dates import DateError, query_date
from guanai.lib.grades import GRADE_NAMES
from guanai.lib.htmx import is_partial
from guanai.org.models import School

from .minzheng import SummaryRefused, civil_children, export_minzheng, register_pdf
from .models import Child
from .xueji import MISMATCH_COLUMNS, export_xueji, mismatch_q, mismatch_rows

PAGE_SIZE = 25


def _mismatches(request: HttpRequest):
    qs = (
        Child.objects.visible_to(request.user)
        .active()
        .filter(mismatch_q(), school_class__in=scope.classes(request.user))
        .select_related("school", "school_class")
    )
    g = request.GET
    if g.get("school"):
        qs = qs.filter(school__code=g["school"])
    if g.get("grade", "").isdigit():
        qs = qs.filter(school_class__grade=int(g["grade"]))
    if g.get("class_no", "").isdigit():
        qs = qs.filter(school_class__class_no=int(g["class_no"]))
    return qs.order_by("school_id", "school_class__grade", "school_class__class_no", "name", "id")


@login_required
def mismatch_list(request: HttpRequest) -> HttpResponse:
    """学籍与档卡不一致: children whose 学籍 是否留守儿童 disagrees with the card (docs/xueji.md)."""
    qs = _mismatches(request)
    if request.GET.get("export") == "xlsx":
        return xlsx_download(
            request,
            filename=f"xueji-mismatch-{timezone.localdate():%Y%m%d}.xlsx",
            what="学籍与档卡不一致名单",
            header=["学校", *MISMATCH_COLUMNS],
            rows=([c.school.name, *r] for c, r in zip(qs, mismatch_rows(qs), strict=True)),
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "page": page,
        "rows": list(zip(page.object_list, mismatch_rows(page.object_list), strict=True)),
        "query": query.urlencode(),
        "f": request.GET,
        "grades": sorted(GRADE_NAMES.items()),
        "schools": scope.schools(request.user).order_by("id"),
    }
    template = (
        "children/xueji_mismatch_table.html"
        if is_partial(request)
        else "children/xueji_mismatch.html"
    )
    return render(request, template, ctx)


def _exporter(request: HttpRequest):
    """Schools the user may export for (leaders and town administrators); 403 for others."""
    if not getattr(request.user, "can_export", False):
        raise PermissionDenied("您的角色不能导出名单")
    return scope.schools(request.user, "manage").order_by("id")


def _school(request: HttpRequest, schools) -> School | None:
    code = request.GET.get("school")
    if not code:
        return None
    school = schools.filter(code=code).first()
    if school is None:
        raise Http404("没有这所学校")
    return school


def _detached(path: Path) -> BinaryIO:
    """Open a temporary file and remove it from disk; the open handle is streamed, then closed."""
    handle = path.open("rb")
    path.unlink()
    path.parent.rmdir()
    return handle


@login_required
def xueji_export(request: HttpRequest) -> HttpResponse:
    """The yearly 留守 update for the school's 学籍 administrator (guanai export-xueji)."""
    schools = _exporter(request)
    school = _school(request, schools)
    if school is None:
        return render(request, "children/xueji_export.html", {"schools": schools})
    tmp = Path(tempfile.mkdtemp()) / "xueji.xlsx"
    export_xueji(school=school, path=tmp, by=request.user)
    name = f"学籍留守信息-{school.name}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(_detached(tmp), as_attachment=True, filename=name, content_type=XLSX)


@login_required
def minzheng_export(request: HttpRequest) -> HttpResponse:
    """The 民政 登记表 and 汇总表 for a school or the town at a reference date; a summary that
    breaks its rules is shown instead of exported."""
    schools = _exporter(request)
    towns = scope.towns(request.user, "manage").order_by("id")
    today = timezone.localdate()
    units = [(f"town:{t.pk}", f"{t.name}（全镇）") for t in towns]
    units += [(f"school:{s.code}", s.name) for s in schools]
    ctx = {"units": units, "f": request.GET, "today": today}
    try:
        on = query_date(request.GET.get("as_of"), label="统计基准日") or today
    except DateError as exc:
        ctx["error"] = str(exc)
        return render(request, "children/minzheng.html", ctx, status=422)
    kind, _, key = (request.GET.get("unit") or "").partition(":")
    school = town = None
    if kind == "school":
        school = schools.filter(code=key).first()
    elif kind == "town":
        town = towns.filter(pk=int(key)).first() if key.isdigit() else None
    if kind and school is None and town is None:
        raise Http404("没有这个学校或镇")
    if school is None and town is None:
        return render(request, "children/minzheng.html", ctx)
    if school is not None:
        qs, unit = Child.objects.filter(school=school), school.name
    else:
        qs, unit = Child.objects.filter(school__town=town), town.name
    tmp = Path(tempfile.mkdtemp()) / "minzheng.xlsx"
    try:
        export_minzheng(
            children=civil_children(qs, on=on),
            unit=unit,
            on=on,
            path=tmp,
            by=request.user,
            school=school,
        )
    except SummaryRefused as exc:
        tmp.parent.rmdir()
        ctx.update({"violations": exc.violations, "unit": unit, "on": on})
        return render(request, "children/minzheng.html", ctx)
    name = f"民政农村留守儿童登记表-{unit}-{on:%Y%m%d}.xlsx"
    return FileResponse(_detached(tmp), as_attachment=True, filename=name, content_type=XLSX)


@login_required
def minzheng_card_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One child's 登记表 as A4 PDF at a reference date (?as_of=, default today): for those
    with the export right who see the child (full ID numbers; the export is logged)."""
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    child = get_object_or_404(
        Child.objects.visible_to(request.user)
        .select_related("school", "school_class", "guardian")
        .prefetch_related("parents"),
        pk=pk,
    )
    _exporter(request)
    try:
        on = query_date(request.GET.get("as_of"), label="统计基准日") or timezone.localdate()
    except DateError as exc:
        return HttpResponse(str(exc), status=422, content_type="text/plain; charset=utf-8")
    data = register_pdf(child=child, unit=child.school.name, on=on, by=request.user)
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        child=child,
        school=child.school,
        detail=f"导出民政登记表 PDF（截至 {on:%Y-%m-%d}，含完整身份证号）",
    )
    name = f"农村留守儿童基本情况登记表-{child.name}-{on:%Y%m%d}.pdf"
    return HttpResponse(
        data,
        content_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}"},
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
