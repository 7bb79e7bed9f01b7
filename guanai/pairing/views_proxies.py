"""Proxy parent pages (代理家长): the register, one proxy parent with their children and the
children of their village who still need one, and a proxy parent's own page."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts import scope
from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.children.access import search_children
from guanai.children.models import Child
from guanai.contacts.rules import due_items
from guanai.exports import xlsx_download

from .forms import ProxyAssignForm, ProxyDetailsForm, ProxyRegisterForm, RetireForm, put_errors
from .models import EXCLUSIONS, ProxyKind, ProxyParent
from .permissions import check_manage_school, managed_schools
from .proxies import (
    assign_child,
    current_assignments,
    end_assignment,
    max_children,
    proxy_assignments,
    register_proxy_parent,
    retire_proxy_parent,
    suggest_children,
    suggest_proxies,
    update_proxy_parent,
)
from .responsibility import Invalid, responsible_for

PROXY_RULE = "proxy_contact"

PAGE_SIZE = 30


def _proxies(request: HttpRequest) -> QuerySet[ProxyParent]:
    return ProxyParent.objects.visible_to(request.user)


def _may_manage(request: HttpRequest, proxy: ProxyParent) -> bool:
    user = request.user
    return not user.is_read_only and managed_schools(user).filter(pk=proxy.school_id).exists()


@login_required
def proxy_list(request: HttpRequest) -> HttpResponse:
    """The register: search by name or village, current load; `?child=` suggests proxy parents
    for one child (those of the child's village first)."""
    g = request.GET
    child = None
    if g.get("child", "").isdigit():
        child = get_object_or_404(Child.objects.visible_to(request.user), pk=int(g["child"]))
    qs = _proxies(request).select_related("school")
    if g.get("active") != "all":
        qs = qs.filter(active=True)
    if g.get("q", "").strip():
        q = g["q"].strip()
        qs = qs.filter(Q(name__contains=q) | Q(village__contains=q))
    if g.get("kind") in ProxyKind.values:
        qs = qs.filter(kind=g["kind"])
    current = current_assignments()
    if g.get("mine") == "1":
        mine = Child.objects.filter(responsible_for(request.user))
        qs = qs.filter(user__in=current.filter(child__in=mine).values("user_id"))
    qs = qs.annotate(
        load=Count(
            "user__child_assignments",
            filter=Q(user__child_assignments__in=current),
            distinct=True,
        )
    ).order_by("school_id", "village", "name", "pk")
    due = _proxy_due(request)
    if g.get("export") == "xlsx":
        return _export(request, qs, due)
    page = Paginator(qs, PAGE_SIZE).get_page(g.get("page"))
    for proxy in page.object_list:
        proxy.due = due.get(proxy.user_id, 0)
    query = g.copy()
    query.pop("page", None)
    ctx = {
        "page": page,
        "due_total": sum(due.values()),
        "query": query.urlencode(),
        "f": g,
        "kinds": ProxyKind.choices,
        "limit": max_children(),
        "child": child,
        "suggestions": suggest_proxies(child, _proxies(request)) if child else [],
        "can_register": not request.user.is_read_only and managed_schools(request.user).exists(),
    }
    return render(request, "pairing/proxies.html", ctx)


def _proxy_due(request: HttpRequest) -> Counter[int]:
    """Per proxy parent (user id): their children in the viewer's scope who are due for a
    meeting or call under the proxy-parent rule today."""
    today = timezone.localdate()
    children = Child.objects.visible_to(request.user).filter(
        pk__in=current_assignments(today).values("child_id")
    )
    items = due_items(children, as_of=today, rule_codes=[PROXY_RULE])
    return Counter(i.proxy_user_id for i in items if i.proxy_user_id)


def _export(request: HttpRequest, qs: QuerySet[ProxyParent], due: Counter[int]) -> HttpResponse:
    """The register as filtered (every page) as Excel, with each one's current children."""
    today = timezone.localdate()
    visible = Child.objects.visible_to(request.user)
    children: dict[int, list[str]] = defaultdict(list)
    for a in (
        current_assignments(today)
        .filter(child__in=visible)
        .select_related("child__school_class")
        .order_by("child__school_class__grade", "child__name")
    ):
        children[a.user_id].append(f"{a.child.name}（{a.child.school_class}）")
    return xlsx_download(
        request,
        filename=f"proxy-parents-{today:%Y%m%d}.xlsx",
        what="代理家长名册",
        header=[
            "学校",
            "姓名",
            "身份",
            "电话",
            "居住村",
            "住址",
            "在册",
            "声明日期",
            "代理儿童",
            "代理人数",
            "待联系人数",
        ],
        rows=(
            [
                p.school.name,
                p.name,
                p.get_kind_display(),
                p.phone,
                p.village,
                p.address,
                "在册" if p.active else f"已退出（{p.end_reason}）",
                p.declared_on,
                "、".join(children.get(p.user_id, [])),
                p.load,
                due.get(p.user_id, 0),
            ]
            for p in qs
        ),
    )


@writer_required
@require_http_methods(["GET", "POST"])
def proxy_create(request: HttpRequest) -> HttpResponse:
    """Register a proxy parent with the §22 declaration and give them a login."""
    schools = list(managed_schools(request.user).order_by("id"))
    if not schools:
        raise PermissionDenied("只有校领导或镇管理员可以登记代理家长")
    form = ProxyRegisterForm(request.POST or None)
    by_code = {s.code: s for s in schools}
    code = request.POST.get("school") or schools[0].code
    status = 200
    if request.method == "POST":
        school = by_code.get(code)
        if school is None:
            form.add_error(None, "请选择您负责的学校")
        if form.is_valid() and school is not None:
            d = form.cleaned_data
            try:
                proxy = register_proxy_parent(
                    school=school,
                    data=d,
                    declared=d["declared"],
                    declared_on=d["declared_on"],
                    username=d["username"],
                    password=d["password"],
                    by=request.user,
                )
            except Invalid as exc:
                put_errors(form, exc)
            else:
                messages.success(
                    request, f"已登记代理家长 {proxy.name}，登录名 {proxy.user.username}"
                )
                return redirect("pairing:proxy_detail", pk=proxy.pk)
        status = 422
    return render(
        request,
        "pairing/proxy_form.html",
        {
            "form": form,
            "schools": schools,
            "school_code": code,
            "creating": True,
            "exclusions": EXCLUSIONS,
        },
        status=status,
    )


@login_required
def proxy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One proxy parent: details, declaration, children now and before, and children of their
    village without a proxy parent."""
    proxy = get_object_or_404(
        _proxies(request).select_related("school", "user", "declaration_recorded_by"), pk=pk
    )
    return _detail(request, proxy)


def _detail(
    request: HttpRequest, proxy: ProxyParent, *, status: int = 200, **forms: Any
) -> HttpResponse:
    can_manage = _may_manage(request, proxy)
    scope = Child.objects.visible_to(request.user)
    rows = list(
        proxy_assignments()
        .filter(user=proxy.user)
        .select_related("child__school_class")
        .order_by("-valid_from", "-pk")
    )
    visible = set(scope.filter(pk__in=[a.child_id for a in rows]).values_list("pk", flat=True))
    current = set(current_assignments().filter(user=proxy.user).values_list("pk", flat=True))
    q = request.GET.get("q", "").strip()
    found = []
    if can_manage and q:
        found = list(
            search_children(
                request, scope.filter(school_id=proxy.school_id, enrolment="enrolled"), q
            )
            .select_related("school_class")
            .order_by("name", "pk")[:20]
        )
    return render(
        request,
        "pairing/proxy_detail.html",
        {
            "proxy": proxy,
            "can_manage": can_manage,
            "is_self": proxy.user_id == request.user.pk,
            "rows": [(a, a.child_id in visible, a.pk in current) for a in rows],
            "load": len(current),
            "limit": max_children(),
            "suggested": suggest_children(proxy, scope) if can_manage and proxy.active else [],
            "found": found,
            "q": q,
            "assign_form": forms.get("assign_form") or ProxyAssignForm(),
            "retire_form": forms.get("retire_form") or RetireForm(),
            "history": proxy.history.select_related("history_user").order_by("-history_date")[:20],
        },
        status=status,
    )


def _managed(request: HttpRequest, pk: int) -> ProxyParent:
    proxy = get_object_or_404(_proxies(request).select_related("school", "user"), pk=pk)
    check_manage_school(request.user, proxy.school)
    return proxy


@writer_required
@require_http_methods(["GET", "POST"])
def proxy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a proxy parent's details."""
    proxy = _managed(request, pk)
    initial = {k: getattr(proxy, k) for k in ProxyDetailsForm.base_fields}
    form = ProxyDetailsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                update_proxy_parent(proxy=proxy, data=form.cleaned_data, by=request.user)
            except Invalid as exc:
                put_errors(form, exc)
            else:
                messages.success(request, "已保存")
                return redirect("pairing:proxy_detail", pk=proxy.pk)
        status = 422
    return render(request, "pairing/proxy_form.html", {"form": form, "proxy": proxy}, status=status)


@writer_required
@require_POST
def proxy_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign a child (in the user's scope) to the proxy parent for a period."""
    proxy = _managed(request, pk)
    form = ProxyAssignForm(request.POST)
    if form.is_valid():
        child = get_object_or_404(
            Child.objects.visible_to(request.user, "change"), pk=form.cleaned_data["child"]
        )
        try:
            assign_child(
                proxy=proxy,
                child=child,
                valid_from=form.cleaned_data["valid_from"],
                valid_to=form.cleaned_data["valid_to"],
                by=request.user,
            )
        except Invalid as exc:
            put_errors(form, exc)
        else:
            messages.success(request, f"已指定 {proxy.name} 为 {child.name} 的代理家长")
            return redirect("pairing:proxy_detail", pk=proxy.pk)
    return _detail(request, proxy, assign_form=form, status=422)


@writer_required
@require_POST
def proxy_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the proxy parent off the register; their children and login scope end today."""
    proxy = _managed(request, pk)
    form = RetireForm(request.POST)
    if form.is_valid():
        try:
            retire_proxy_parent(proxy=proxy, reason=form.cleaned_data["reason"], by=request.user)
        except Invalid as exc:
            put_errors(form, exc)
        else:
            messages.success(request, f"{proxy.name} 已退出代理家长名册")
            return redirect("pairing:proxy_detail", pk=proxy.pk)
    return _detail(request, proxy, retire_form=form, status=422)


@writer_required
@require_POST
def proxy_assignment_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one child's proxy assignment today."""
    assignment = get_object_or_404(
        proxy_assignments().filter(user__proxy_parent__in=_proxies(request)),
        pk=pk,
    )
    proxy = assignment.user.proxy_parent
    check_manage_school(request.user, proxy.school)
    try:
        end_assignment(assignment=assignment, by=request.user)
    except Invalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    else:
        messages.success(request, f"已结束 {assignment.child.name} 的代理")
    return redirect("pairing:proxy_detail", pk=proxy.pk)


@login_required
def my_children(request: HttpRequest) -> HttpResponse:
    """A proxy parent's own page: the children assigned to them now, on a phone."""
    proxy = ProxyParent.objects.filter(user=request.user).select_related("school").first()
    if proxy is None and not scope.acts_as(request.user, "follow_named"):
        raise Http404("您不是代理家长")
    rows = list(
        current_assignments()
        .filter(user=request.user, child__in=Child.objects.visible_to(request.user))
        .select_related("child__school_class", "child__guardian")
        .order_by("child__name", "pk")
    )
    # the proxy-parent rule: who is due for a meeting or call (and since when)
    due = {
        i.child: i
        for i in due_items(
            Child.objects.filter(pk__in=[a.child_id for a in rows]),
            as_of=timezone.localdate(),
            rule_codes=[PROXY_RULE],
        )
        if i.proxy_user_id == request.user.pk
    }
    for a in rows:
        a.due = due.get(a.child_id)
        guardian = getattr(a.child, "guardian", None)
        if guardian is not None and guardian.phone:  # shown in full, to call: logged
            log_access(
                request=request,
                user=request.user,
                action=AccessAction.VIEW_SENSITIVE,
                child=a.child,
                detail="代理家长页查看监护人电话",
            )
    return render(request, "pairing/my_children.html", {"proxy": proxy, "rows": rows})
