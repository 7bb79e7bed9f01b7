"""Pages for access beyond one's role: asking, deciding, break-the-glass and its review
(accounts/access_requests.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from guanai.children.models import Child
from guanai.lib.errors import Invalid

from . import access_requests as svc
from . import scope
from .models import AccessKind, AccessRequest, AccessRequestStatus

KIND_CHOICES = [(k.value, k.label) for k in svc.ASKABLE]
HOUR_CHOICES = [(2, "2 小时"), (8, "8 小时"), (24, "1 天"), (72, "3 天"), (168, "7 天")]


def _child(request: HttpRequest, pk: int) -> Child:
    return get_object_or_404(
        Child.objects.visible_to(request.user, "view").select_related("school"), pk=pk
    )


def _card(child: Child) -> str:
    return reverse("children:detail", args=[child.pk])


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Ask for the full ID number, the health or the psychology section of one child."""
    child = _child(request, child_pk)
    if not svc.may_request(request.user):
        raise PermissionDenied("您的角色不能申请查看")
    askable = [(k, label) for k, label in KIND_CHOICES if not svc.readable(request.user, child, k)]
    errors: dict[str, str] = {}
    data = request.POST if request.method == "POST" else {"kind": request.GET.get("kind", "")}
    if request.method == "POST":
        try:
            made = svc.request_access(
                user=request.user,
                child=child,
                kind=data.get("kind", ""),
                reason=data.get("reason", ""),
                hours=data.get("hours") or svc.DEFAULT_HOURS,
            )
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已提交申请，等待{child.school.name}校领导审批")
            return redirect("accounts:access_request", pk=made.pk)
    return render(
        request,
        "accounts/access_request_new.html",
        {
            "child": child,
            "kinds": askable,
            "hours": HOUR_CHOICES,
            "f": data,
            "errors": errors,
            "default_hours": svc.DEFAULT_HOURS,
        },
        status=422 if errors else 200,
    )


def _visible_requests(request: HttpRequest):
    """A request is seen by its requester and by whoever may decide it (or review it)."""
    user = request.user
    return (
        AccessRequest.objects.filter(pk__in=svc.my_requests(user).values("pk"))
        | AccessRequest.objects.filter(pk__in=svc.decidable(user).values("pk"))
        | AccessRequest.objects.filter(pk__in=svc.emergencies_for(user).values("pk"))
    ).select_related("user", "child", "school", "decided_by", "reviewed_by")


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: its state for the requester (and, while live, the full ID number it opens,
    each view logged); the decision form for a leader of the child's school."""
    item = get_object_or_404(_visible_requests(request), pk=pk)
    mine = item.user_id == request.user.pk
    id_number = None
    if mine and item.is_live and item.opens(AccessKind.ID_NUMBER) and request.GET.get("show_id"):
        from guanai.children.access import log_id_read

        id_number = item.child.id_number or item.child.student_no or ""
        log_id_read(request, item.child, where="访问申请页")
    may_decide = (
        not mine
        and item.status == AccessRequestStatus.PENDING
        and svc.decidable(request.user).filter(pk=item.pk).exists()
    )
    return render(
        request,
        "accounts/access_request.html",
        {
            "item": item,
            "mine": mine,
            "may_decide": may_decide,
            "hours": HOUR_CHOICES,
            "id_number": id_number,
            "student_no": item.child.student_no if id_number is not None else None,
            "card_url": _card(item.child),
        },
    )


@login_required
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A leader approves (for a time) or refuses (with a note) a pending request."""
    if not scope.units(request.user, "approve_access") and not request.user.is_superuser:
        raise PermissionDenied("只有校领导可以审批访问申请")
    item = get_object_or_404(
        _visible_requests(request).filter(pk__in=svc.decidable(request.user).values("pk")), pk=pk
    )
    approve = request.POST.get("decision") == "approve"
    try:
        svc.decide(
            request=item,
            by=request.user,
            approve=approve,
            note=request.POST.get("note", ""),
            hours=request.POST.get("hours"),
        )
    except Invalid as exc:
        for message in exc.errors.values():
            messages.error(request, message)
        return redirect("accounts:access_request", pk=item.pk)
    messages.success(request, "已批准" if approve else "已记录：不批准")
    return redirect("accounts:access_inbox")


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(svc.my_requests(request.user), pk=pk)
    try:
        svc.withdraw(request=item, by=request.user)
    except Invalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    else:
        messages.success(request, "已撤回")
    return redirect("accounts:access_requests")


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    """我的访问申请: pending, live and ended, newest first."""
    page = Paginator(svc.my_requests(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/access_requests.html", {"page": page})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """A school leader's requests to decide (pending first), and the latest decided ones."""
    if not scope.units(request.user, "approve_access") and not request.user.is_superuser:
        raise PermissionDenied("只有校领导审批访问申请")
    qs = svc.decidable(request.user).select_related("user", "child", "school", "decided_by")
    pending = list(qs.pending().order_by("created_at", "id"))
    decided = qs.exclude(status=AccessRequestStatus.PENDING).order_by("-decided_at", "-id")[:30]
    return render(
        request,
        "accounts/access_inbox.html",
        {"pending": pending, "decided": decided, "hours": HOUR_CHOICES},
    )


# --- break-the-glass ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def emergency_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    """An inspector or town administrator opens a child's ID number, health and psychology at
    once, stating why; it lasts 2 hours and the school's leaders and the auditor see it."""
    child = _child(request, child_pk)
    if not svc.may_break_glass(request.user, child):
        raise PermissionDenied("只有本镇的督导员和镇管理员可以紧急查看")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            svc.break_glass(
                user=request.user, child=child, reason=request.POST.get("reason", ""), http=request
            )
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.warning(
                request,
                f"已开启紧急查看 {svc.EMERGENCY_HOURS} 小时；本次查看已记录，"
                "学校领导和审计员会看到并复核",
            )
            return redirect(_card(child))
    return render(
        request,
        "accounts/emergency_new.html",
        {
            "child": child,
            "f": request.POST,
            "errors": errors,
            "hours": svc.EMERGENCY_HOURS,
            "least": svc.MIN_EMERGENCY_REASON,
        },
        status=422 if errors else 200,
    )


def _reviewer_required(request: HttpRequest) -> None:
    if not scope.units(request.user, "review_emergency") and not request.user.is_superuser:
        raise PermissionDenied("紧急查看记录由校领导和审计员复核")


@login_required
def emergencies(request: HttpRequest) -> HttpResponse:
    """紧急查看记录: every emergency opening in the reader's school or town, unreviewed first."""
    _reviewer_required(request)
    qs = (
        svc.emergencies_for(request.user)
        .select_related("user", "child", "school", "reviewed_by")
        .order_by("reviewed_at", "-created_at", "-id")
    )
    if request.GET.get("open") == "1":
        qs = qs.filter(reviewed_at__isnull=True)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "accounts/emergencies.html", {"page": page, "f": request.GET})


@login_required
@require_POST
def emergency_review(request: HttpRequest, pk: int) -> HttpResponse:
    _reviewer_required(request)
    item = get_object_or_404(svc.emergencies_for(request.user), pk=pk)
    svc.review(request=item, by=request.user)
    messages.success(request, f"已复核{item.reference}")
    return redirect("accounts:emergencies")
