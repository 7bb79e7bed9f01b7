"""Pages of the village children's director (儿童主任) and of the school ↔ village exchange.
Scope through Child.objects.visible_to: a village outside the user's scope is not found."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from guanai.accounts import scope
from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.exports import XLSX, table_xlsx
from guanai.lib.errors import Invalid
from guanai.lib.villages import village_label

from . import services
from .forms import EntrustmentForm
from .models import Entrustment

CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def _village(request: HttpRequest, key: str) -> str:
    if not services.may_open(request.user, key):
        raise Http404("没有找到这个村")
    return key


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The villages the user may open; a children's director with one village goes straight
    to it."""
    villages = services.villages_of(request.user)
    own = scope.village_units(request.user)
    if len(own) == 1 and len(villages) == 1:
        return redirect("villages:village", key=villages[0][0])
    return render(request, "villages/index.html", {"villages": villages})


@login_required
def village(request: HttpRequest, key: str) -> HttpResponse:
    """A village's children: school, class, category, guardian, last contact, confirmation
    signed or not, open alerts."""
    key = _village(request, key)
    q = request.GET.get("q", "").strip()
    rows = services.village_rows(request.user, key, q=q)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "villages/village.html",
        {
            "key": key,
            "label": village_label(key),
            "page": page,
            "q": q,
            "count": len(rows),
            "can_contact": scope.acts_as(request.user, "contact"),
            "can_entrust": scope.acts_as(request.user, "entrust"),
            "can_export": scope.acts_as(request.user, "village_export"),
            "unsigned": sum(1 for r in rows if r.child.is_left_behind and not r.signed_on),
        },
    )


def _xlsx(request: HttpRequest, *, filename: str, what: str, header, rows) -> HttpResponse:
    """An Excel download through guanai/exports.py, logged as an export."""
    if not scope.acts_as(request.user, "village_export"):
        raise PermissionDenied("您的角色不能导出村名单")
    now = timezone.localtime()
    content, count = table_xlsx(
        sheet_name=what[:31],
        title=f"{what} · 导出人 {request.user} · {now:%Y-%m-%d %H:%M}",
        header=header,
        rows=rows,
    )
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        detail=f"导出{what} {count} 条",
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def register_export(request: HttpRequest, key: str) -> HttpResponse:
    """The 民政 登记表 (附件1) of the village's children under the 民政 definition today."""
    key = _village(request, key)
    today = timezone.localdate()
    header, rows = services.register_rows(request.user, key, on=today)
    return _xlsx(
        request,
        filename=f"village-register-{today:%Y%m%d}.xlsx",
        what=f"{village_label(key)}农村留守儿童基本情况登记表",
        header=header,
        rows=rows,
    )


def _since(request: HttpRequest) -> dt.date:
    from guanai.lib.dates import query_date_or, term_start

    day, problem = query_date_or(
        request.GET.get("since"), term_start(timezone.localdate()), label="起始日期"
    )
    if problem:
        messages.warning(request, problem)
    return day


@login_required
def changes(request: HttpRequest, key: str) -> HttpResponse:
    """Children of the village whose card changed since the term started (or `since`)."""
    key = _village(request, key)
    since = _since(request)
    entries = services.changed_cards(request.user, key, since=since)
    if request.GET.get("export") == "xlsx":
        return _xlsx(
            request,
            filename=f"village-changes-{since:%Y%m%d}.xlsx",
            what=f"{village_label(key)}档卡变更名单（{since:%Y-%m-%d} 起）",
            header=services.CHANGED_COLUMNS,
            rows=services.changed_rows(entries),
        )
    return render(
        request,
        "villages/changes.html",
        {
            "key": key,
            "label": village_label(key),
            "entries": entries,
            "since": since,
            "can_export": scope.acts_as(request.user, "village_export"),
        },
    )


@login_required
def entrustments(request: HttpRequest) -> HttpResponse:
    """The confirmations recorded for the children the user sees, newest first."""
    qs = Entrustment.objects.visible_to(request.user).select_related(
        "child", "child__school", "child__school_class", "recorded_by"
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "villages/entrustments.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def entrustment_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Record a signed 委托监护确认书 for one child (the `entrust` units)."""
    from guanai.children.models import Child

    child = get_object_or_404(Child.objects.visible_to(request.user), pk=child_pk)
    if not services.entrust_children(request.user).filter(pk=child.pk).exists():
        raise PermissionDenied("只有儿童主任、儿童督导员、校领导和镇管理员可以登记委托监护确认书")
    form = EntrustmentForm(
        request.POST or None,
        request.FILES or None,
        initial=services.guardian_defaults(child) | {"signed_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_entrustment(
                child=child,
                guardian_name=form.cleaned_data["guardian_name"],
                guardian_relation=form.cleaned_data["guardian_relation"],
                signed_on=form.cleaned_data["signed_on"],
                scan=form.cleaned_data.get("scan"),
                by=request.user,
            )
        except Invalid as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, f"已登记{child.name}的委托监护确认书")
            return redirect("children:detail", pk=child.pk)
    return render(
        request,
        "villages/entrustment_new.html",
        {"form": form, "child": child},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def scan(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation's scan, for those who see the child; each opening is logged. The content
    type comes from the stored extension (checked on upload), never from sniffing."""
    entrustment = get_object_or_404(
        Entrustment.objects.visible_to(request.user).select_related("child"), pk=pk
    )
    ext = entrustment.scan.name.rsplit(".", 1)[-1].lower()
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.VIEW_SENSITIVE,
        child=entrustment.child,
        detail="查看委托监护确认书扫描件",
    )
    response = FileResponse(
        entrustment.scan.open("rb"),
        content_type=CONTENT_TYPES.get(ext, "application/octet-stream"),
        filename=f"entrustment-{pk}.{ext}",
        as_attachment=ext == "pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response
