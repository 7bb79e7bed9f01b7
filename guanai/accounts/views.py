"""Login, user and role management for town administrators, and the access log."""

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts import audit, scope
from guanai.exports import XLSX, table_xlsx
from guanai.lib.dates import query_date_or

from .forms import LoginForm, RoleAssignmentForm, UserForm
from .models import AccessAction, AccessLog, ApiToken, RevokeReason, RoleAssignment, User
from .permissions import client_ip, town_admin_required
from .services import (
    SecondFactorLocked,
    check_totp,
    confirm_totp,
    has_confirmed_totp,
    log_access,
    revoke_token,
    start_totp_enrolment,
    totp_locked_until,
)


class LoginView(auth_views.LoginView):
    """Password first; users with a confirmed authenticator then give a TOTP code."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if has_confirmed_totp(user):
            self.request.session["otp_user"] = user.pk
            self.request.session["otp_backend"] = user.backend
            self.request.session["otp_next"] = self.get_success_url()
            return redirect("accounts:otp")
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def otp_login(request: HttpRequest) -> HttpResponse:
    """Second step of login: the 6-digit code from the authenticator app."""
    user_pk = request.session.get("otp_user")
    if not user_pk:
        return redirect("accounts:login")
    error = ""
    if request.method == "POST":
        user = User.objects.get(pk=user_pk)
        ip = client_ip(request)
        try:
            ok = check_totp(user=user, code=request.POST.get("code"), ip=ip)
        except SecondFactorLocked as exc:
            return render(request, "accounts/otp.html", {"error": str(exc)}, status=429)
        if ok:
            next_url = request.session.get("otp_next") or "/"
            backend = request.session.get("otp_backend")
            for key in ("otp_user", "otp_backend", "otp_next"):
                request.session.pop(key, None)
            auth_login(request, user, backend=backend)
            return redirect(next_url)
        if totp_locked_until(user=user, ip=ip):
            request.session.flush()
            messages.error(request, "动态口令连续错误 5 次，已锁定 15 分钟，请稍后重新登录")
            return redirect("accounts:login")
        error = "动态口令不正确或已使用过，请输入认证器上最新的 6 位数字"
    return render(request, "accounts/otp.html", {"error": error})


@login_required
@require_http_methods(["GET", "POST"])
def twofa(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (TOTP) for the signed-in user."""
    secret = uri = ""
    enrolled = has_confirmed_totp(request.user)
    if request.method == "POST" and request.POST.get("action") == "start":
        secret, uri = start_totp_enrolment(user=request.user)
        enrolled = False
    elif request.method == "POST" and request.POST.get("action") == "confirm":
        if confirm_totp(user=request.user, code=request.POST.get("code", "")):
            messages.success(request, "已启用动态口令，下次登录需要输入认证器上的 6 位数字")
            return redirect("accounts:twofa")
        messages.error(request, "动态口令不正确，请重新扫描或输入密钥后再试")
    return render(
        request, "accounts/twofa.html", {"secret": secret, "uri": uri, "enrolled": enrolled}
    )


def _towns(request: HttpRequest):
    return scope.towns(request.user, "manage")


@town_admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = (
        User.objects.manageable_by(request.user)
        .prefetch_related(
            Prefetch(
                "role_assignments",
                RoleAssignment.objects.select_related("town", "school", "school_class__school"),
            )
        )
        .order_by("username")
    )
    q = request.GET.get("q", "").strip()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    page = Paginator(users, 30).get_page(request.GET.get("page"))
    return render(
        request, "accounts/users.html", {"page": page, "q": q, "today": timezone.localdate()}
    )


@town_admin_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User.objects.manageable_by(request.user), pk=pk) if pk else None
    form = UserForm(request.POST or None, instance=user)
    # A new account comes with its first role in the town, or it would be out of everyone's
    # scope the moment it is saved (role-less accounts are managed on the command line only).
    role_form = RoleAssignmentForm(
        request.POST if request.method == "POST" and user is None else None,
        town=_towns(request).first(),
        initial={"valid_from": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid() & (user is not None or role_form.is_valid()):
        with transaction.atomic():
            saved = form.save()
            if user is None:
                role_form.instance.user = saved
                role_form.save()
        messages.success(request, f"已保存用户 {saved.username}")
        return redirect("accounts:user_edit", pk=saved.pk)
    roles = (
        user.role_assignments.select_related("town", "school", "school_class__school")
        if user
        else []
    )
    return render(
        request,
        "accounts/user_edit.html",
        {
            "form": form,
            "edited": user,
            "roles": roles,
            "role_form": role_form,
            "tokens": user.api_tokens.live() if user else [],
            "today": timezone.localdate(),
        },
    )


@town_admin_required
@require_POST
def role_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User.objects.manageable_by(request.user), pk=pk)
    form = RoleAssignmentForm(
        request.POST, town=_towns(request).first(), instance=RoleAssignment(user=user)
    )
    if form.is_valid():
        form.save()
        messages.success(request, "已添加角色")
        return redirect("accounts:user_edit", pk=user.pk)
    return render(
        request,
        "accounts/user_edit.html",
        {
            "form": UserForm(instance=user),
            "edited": user,
            "role_form": form,
            "roles": user.role_assignments.all(),
            "today": timezone.localdate(),
        },
        status=422,
    )


@town_admin_required
@require_POST
def role_end(request: HttpRequest, pk: int, role_pk: int) -> HttpResponse:
    """End a role today; the row stays, so who held which role when is never lost."""
    user = get_object_or_404(User.objects.manageable_by(request.user), pk=pk)
    ra = get_object_or_404(user.role_assignments, pk=role_pk)
    ra.valid_to = timezone.localdate() - dt.timedelta(days=1)
    ra.valid_from = min(ra.valid_from, ra.valid_to)
    ra.save()
    messages.success(request, "已结束该角色")
    return redirect("accounts:user_edit", pk=user.pk)


@town_admin_required
@require_POST
def user_token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    """An administrator ends a token of someone he manages (a lost laptop, a leaver)."""
    user = get_object_or_404(User.objects.manageable_by(request.user), pk=pk)
    token = get_object_or_404(user.api_tokens.live(), pk=token_pk)
    revoke_token(token=token, by=request.user, reason=RevokeReason.ADMIN)
    messages.success(request, "已撤销该令牌，使用它的程序需要重新申请")
    return redirect("accounts:user_edit", pk=user.pk)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """My account: roles, second factor and the API tokens that still work."""
    return render(
        request,
        "accounts/account.html",
        {
            "tokens": ApiToken.objects.live().filter(user=request.user),
            "enrolled": has_confirmed_totp(request.user),
            "token_days": settings.GUANAI_TOKEN_DAYS,
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.live().filter(user=request.user), pk=pk)
    revoke_token(token=token, by=request.user, reason=RevokeReason.OWNER)
    messages.success(request, "已撤销该令牌，使用它的程序需要重新申请")
    return redirect("accounts:account")


def audit_required(view):
    """The access log's readers (the scope table's `audit`): the auditor of a town, and its
    administrator, who reads it but can neither change it nor make himself its auditor."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not (request.user.is_superuser or scope.units(request.user, "audit")):
            raise PermissionDenied("只有审计员和镇管理员可以查看访问日志")
        return view(request, *args, **kwargs)

    return wrapper


def town_logs(user):
    """The access-log rows of the towns whose log the user reads. A row without a school (a
    search by a whole ID number, a town-wide list) belongs to the town of whoever acted:
    another town's searches are not this town's to read."""
    towns = scope.towns(user, "audit")
    town_people = RoleAssignment.objects.filter(
        Q(town__in=towns) | Q(school__town__in=towns) | Q(school_class__school__town__in=towns)
    ).values("user_id")
    return AccessLog.objects.filter(
        Q(school__town__in=towns) | Q(school__isnull=True, user_id__in=town_people)
    ).select_related("child", "school", "user")


@audit_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Who saw or exported whose data; filter by user, child, action and date; export the
    filtered rows; check the hash chain. Reading the log is itself logged (查看访问日志)."""
    logs = town_logs(request.user)
    g = request.GET
    if g.get("user"):
        logs = logs.filter(
            Q(username__icontains=g["user"].strip()) | Q(user__display_name__contains=g["user"])
        )
    if g.get("child"):
        logs = logs.filter(child__name__contains=g["child"].strip())
    if g.get("action") in AccessAction.values:
        logs = logs.filter(action=g["action"])
    for key, label, lookup in (
        ("since", "起始日期", "at__date__gte"),
        ("until", "截止日期", "at__date__lte"),
    ):
        # A page's policy for a bad date in its link: the filter is left out, saying so.
        day, problem = query_date_or(g.get(key), None, label=label)
        if problem:
            messages.error(request, problem)
        if day:
            logs = logs.filter(**{lookup: day})
    query = g.copy()
    for key in ("page", "export", "verify"):
        query.pop(key, None)
    filters = _filter_words(g)
    if g.get("export") == "xlsx":
        if logs.count() <= ACCESS_LOG_EXPORT_MAX:
            return _export_access_log(request, logs, filters)
        messages.error(
            request,
            f"符合条件的记录超过 {ACCESS_LOG_EXPORT_MAX} 条，请按日期或用户缩小范围后再导出",
        )
    verdict = None
    if g.get("verify") == "1":
        verdict = audit.verify()
    page = Paginator(logs, ACCESS_LOG_PAGE).get_page(g.get("page"))
    response = render(
        request,
        "accounts/access_log.html",
        {
            "page": page,
            "f": g,
            "actions": AccessAction.choices,
            "query": query.urlencode(),
            "verdict": verdict,
            "reviews_emergencies": bool(scope.units(request.user, "review_emergency")),
        },
    )
    # After the page is built: the reader's own row shows on the next reading, not in this one.
    what = "核对访问日志哈希链" if verdict is not None else "查看访问日志"
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.VIEW_LOG,
        detail=f"{what}（{filters}）" if filters else what,
    )
    return response


def _filter_words(g) -> str:
    """The filters of a reading of the log, as its own log row says them."""
    labels = dict(AccessAction.choices)
    parts = [
        f"用户 {g['user'].strip()}" if g.get("user", "").strip() else "",
        f"学生 {g['child'].strip()}" if g.get("child", "").strip() else "",
        f"操作 {labels[g['action']]}" if g.get("action") in labels else "",
        f"自 {g['since']}" if g.get("since") else "",
        f"至 {g['until']}" if g.get("until") else "",
    ]
    return "，".join(p for p in parts if p)[:120]


ACCESS_LOG_PAGE = 50
# One workbook is built in memory: a longer stretch is exported in parts (by date or user).
ACCESS_LOG_EXPORT_MAX = 100_000


def _export_access_log(request: HttpRequest, logs, filters: str) -> HttpResponse:
    """The filtered access log as Excel through the one workbook writer (guanai/exports.py),
    hashes included so an auditor can check the chain; the export is logged. The export right
    here is reading the log (`audit`), not the list-export right: an auditor exports no list."""
    labels = dict(AccessAction.choices)

    def rows():
        for log in logs.order_by("id").iterator(chunk_size=2000):
            yield [
                log.id,
                f"{timezone.localtime(log.at):%Y-%m-%d %H:%M:%S}",
                log.username,
                labels.get(log.action, log.action),
                log.child.name if log.child else "",
                log.school.name if log.school else "",
                log.detail,
                log.ip or "",
                log.prev_hash,
                log.row_hash,
            ]

    now = timezone.localtime()
    content, count = table_xlsx(
        sheet_name="访问日志",
        title=f"访问日志 · 导出人 {request.user} · {now:%Y-%m-%d %H:%M}",
        header=audit.EXPORT_HEADER,
        rows=rows(),
    )
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        detail=f"导出访问日志 {count} 条" + (f"（{filters}）" if filters else ""),
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="access-log-{timezone.localdate():%Y%m%d}.xlsx"'
    )
    return response
