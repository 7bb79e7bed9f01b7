"""Login, user and role management for town administrators, and the access log."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from guanai.org.models import Town

from .forms import LoginForm, RoleAssignmentForm, UserForm
from .models import AccessAction, AccessLog, RoleAssignment, User
from .permissions import town_admin_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _towns(request: HttpRequest):
    if request.user.is_superuser:
        return Town.objects.all()
    return Town.objects.filter(
        role_assignments__in=[ra for ra in request.user.active_roles() if ra.role == "town_admin"]
    ).distinct()


def _town_users(request: HttpRequest):
    towns = _towns(request)
    in_town = Q(role_assignments__town__in=towns) | Q(role_assignments__school__town__in=towns)
    return User.objects.filter(in_town | Q(role_assignments__isnull=True)).distinct()


@town_admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = (
        _town_users(request)
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
    user = get_object_or_404(_town_users(request), pk=pk) if pk else None
    form = UserForm(request.POST or None, instance=user)
    town = _towns(request).first()
    role_form = RoleAssignmentForm(town=town, initial={"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        saved = form.save()
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
            "today": timezone.localdate(),
        },
    )


@town_admin_required
@require_POST
def role_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(_town_users(request), pk=pk)
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
    user = get_object_or_404(_town_users(request), pk=pk)
    ra = get_object_or_404(user.role_assignments, pk=role_pk)
    ra.valid_to = timezone.localdate() - dt.timedelta(days=1)
    ra.valid_from = min(ra.valid_from, ra.valid_to)
    ra.save()
    messages.success(request, "已结束该角色")
    return redirect("accounts:user_edit", pk=user.pk)


@town_admin_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Who saw or exported whose data; filter by user, child, action and date."""
    towns = _towns(request)
    logs = AccessLog.objects.filter(
        Q(school__town__in=towns) | Q(school__isnull=True)
    ).select_related("child", "school", "user")
    g = request.GET
    if g.get("user"):
        logs = logs.filter(username__icontains=g["user"].strip())
    if g.get("child"):
        logs = logs.filter(child__name__contains=g["child"].strip())
    if g.get("action") in AccessAction.values:
        logs = logs.filter(action=g["action"])
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        try:
            if g.get(key):
                logs = logs.filter(**{lookup: dt.date.fromisoformat(g[key])})
        except ValueError:
            messages.error(request, "日期格式应为 2026-11-29")
    page = Paginator(logs, 50).get_page(g.get("page"))
    query = g.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/access_log.html",
        {"page": page, "f": g, "actions": AccessAction.choices, "query": query.urlencode()},
    )
