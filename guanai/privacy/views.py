"""监护人请求 (查阅、更正、删除): the list with overdue ones marked, recording a request, and its
reply. Thin: scope (GuardianRequest.objects.visible_to, the children of the `manage` units) →
form → services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.exports import xlsx_download
from guanai.lib.errors import Invalid
from guanai.protection.forms import show_errors

from . import services
from .forms import ReplyForm, RequestForm
from .models import REPLY_DAYS, GuardianRequest, RequestStatus

PICK_LIMIT = 30
STATES = (("open", "办理中"), ("overdue", "已超期"), ("all", "全部"))


def may_read(user) -> bool:
    return scope.acts_as(user, "manage") or scope.acts_as(user, "inspect")


def may_write(user) -> bool:
    return scope.acts_as(user, "manage")


def writable_children(user):
    cond = scope.unit_children_q(user, "manage")
    return Child.objects.all() if cond is None else Child.objects.filter(cond)


def _check_read(user) -> None:
    if not may_read(user):
        raise PermissionDenied("只有校领导、镇管理员和督导员可以查看监护人请求")


def _check_write(user) -> None:
    if not may_write(user):
        raise PermissionDenied("这个账号只能查看，不能登记或答复监护人请求")


@login_required
def requests_list(request: HttpRequest) -> HttpResponse:
    _check_read(request.user)
    today = timezone.localdate()
    state = request.GET.get("state", "open")
    if state not in dict(STATES):
        state = "open"
    qs = GuardianRequest.objects.visible_to(request.user).select_related(
        "child__school", "child__school_class", "replied_by"
    )
    overdue_count = qs.overdue(today).count()
    if state == "open":
        qs = qs.filter(status=RequestStatus.OPEN)
    elif state == "overdue":
        qs = qs.overdue(today)
    if request.GET.get("export") == "xlsx":
        return xlsx_download(
            request,
            filename="guardian-requests.xlsx",
            what="监护人请求",
            header=services.EXPORT_HEADER,
            rows=services.export_rows(qs.order_by("received_on", "id"), today),
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "privacy/requests.html",
        {
            "page": page,
            "rows": [(r, r.is_overdue(today)) for r in page],
            "state": state,
            "states": STATES,
            "overdue_count": overdue_count,
            "writer": may_write(request.user),
            "can_export": getattr(request.user, "can_export", False),
            "reply_days": REPLY_DAYS,
        },
    )


@login_required
def pick(request: HttpRequest) -> HttpResponse:
    _check_write(request.user)
    q = request.GET.get("q", "").strip()[:50]
    found = list(
        writable_children(request.user)
        .search(q)
        .select_related("school", "school_class")
        .order_by("name", "pk")[:PICK_LIMIT]
        if q
        else []
    )
    return render(request, "privacy/pick.html", {"q": q, "found": found, "limit": PICK_LIMIT})


@login_required
def new(request: HttpRequest, child_pk: int) -> HttpResponse:
    _check_write(request.user)
    child = (
        writable_children(request.user)
        .select_related("school", "school_class")
        .filter(pk=child_pk)
        .first()
    )
    if child is None:
        raise Http404("未找到该学生")
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.record_request(child=child, by=request.user, **form.cleaned_data)
        except Invalid as exc:
            show_errors(form, exc)
        else:
            messages.success(
                request, f"已登记。请在 {item.due_on:%Y-%m-%d} 前答复（收到后 {REPLY_DAYS} 天）。"
            )
            return redirect("privacy:request", pk=item.pk)
    return render(request, "privacy/request_new.html", {"child": child, "form": form})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check_read(request.user)
    item = get_object_or_404(
        GuardianRequest.objects.visible_to(request.user).select_related(
            "child__school", "child__school_class", "replied_by", "recorded_by"
        ),
        pk=pk,
    )
    writer = GuardianRequest.objects.visible_to(request.user, "write").filter(pk=pk).exists()
    form = ReplyForm(
        initial={
            "status": item.status,
            "reply": item.reply,
            "replied_on": item.replied_on or timezone.localdate(),
        }
    )
    if request.method == "POST":
        if not writer:
            raise PermissionDenied("这个账号只能查看，不能答复监护人请求")
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                services.reply_request(item=item, by=request.user, **form.cleaned_data)
            except Invalid as exc:
                show_errors(form, exc)
            else:
                messages.success(request, "答复已保存")
                return redirect("privacy:request", pk=pk)
    return render(
        request,
        "privacy/request.html",
        {
            "item": item,
            "form": form,
            "writer": writer,
            "overdue": item.is_overdue(timezone.localdate()),
        },
    )
