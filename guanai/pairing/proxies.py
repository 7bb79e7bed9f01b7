"""代理家长: the register of proxy parents, their logins, their children, and matching help.

A proxy parent's login holds the 代理家长 role at the school; their scope is only the children
assigned to them (`ChildAssignment`, kind proxy_parent, dated), which the one scope method
already gives — and `children.access` gives them the reduced card.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import Role, RoleAssignment, User
from guanai.children.models import LEFT_BEHIND, AssignmentKind, Child, ChildAssignment, Enrolment
from guanai.lib.dates import range_errors
from guanai.lib.phone import PhoneError, normalize_phone
from guanai.lib.text import clean
from guanai.lib.villages import normalize_village
from guanai.org.models import School

from .models import ProxyKind, ProxyParent
from .responsibility import Invalid, valid_on


def max_children() -> int:
    """How many children one proxy parent may look after at the same time (a setting)."""
    return int(getattr(settings, "GUANAI_PROXY_MAX_CHILDREN", 3))


def proxy_assignments() -> QuerySet[ChildAssignment]:
    return ChildAssignment.objects.filter(kind=AssignmentKind.PROXY_PARENT)


def current_assignments(on: dt.date | None = None) -> QuerySet[ChildAssignment]:
    return valid_on(proxy_assignments(), on or timezone.localdate())


def _text(data: dict, key: str, label: str, limit: int, *, required: bool = False) -> str:
    value = clean(data.get(key))
    if required and not value:
        raise Invalid({key: f"请填写{label}"})
    if len(value) > limit:
        raise Invalid({key: f"{label}最多 {limit} 个字"})
    return value


def _clean_details(data: dict) -> dict:
    """Name, phone, kind, village, address, notes — the same rules for form and API."""
    out = {
        "name": _text(data, "name", "姓名", 50, required=True),
        "village": _text(data, "village", "居住村", 40),
        "address": _text(data, "address", "住址", 200),
        "notes": _text(data, "notes", "备注", 2000),
    }
    try:
        out["phone"] = normalize_phone(data.get("phone"))
    except PhoneError as exc:
        raise Invalid({"phone": str(exc)}) from None
    if not out["phone"]:
        raise Invalid({"phone": "请填写电话"})
    kind = clean(data.get("kind"))
    if kind not in ProxyKind.values:
        raise Invalid({"kind": "身份应为 教师、村（社区）干部 或 志愿者"})
    out["kind"] = kind
    return out


@transaction.atomic
def register_proxy_parent(
    *,
    school: School,
    data: dict,
    declared: bool,
    declared_on: dt.date | None,
    username: str,
    password: str = "",
    by: User | None,
) -> ProxyParent:
    """Enter a proxy parent in the register and give them a login with the 代理家长 role.

    `username` names an existing account (a teacher who is also a proxy parent keeps theirs)
    or a new one, created with `password` (at least 8 characters). Without the declaration
    that they are not excluded by 未成年人保护法 §22 (一)–(三) nobody is registered.
    """
    details = _clean_details(data)
    if not declared:
        raise Invalid(
            {"declared": "须记录本人已声明不存在未成年人保护法第二十二条（一）至（三）项情形"}
        )
    if declared_on is None:
        raise Invalid({"declared_on": "请填写声明日期"})
    if declared_on > timezone.localdate():
        raise Invalid({"declared_on": "声明日期不能晚于今天"})
    username = clean(username)
    if not username:
        raise Invalid({"username": "请填写登录名"})
    if len(username) > 150 or " " in username:
        raise Invalid({"username": "登录名不能有空格，最多 150 个字符"})
    user = User.objects.filter(username=username).first()
    if user is None:
        if len(password or "") < 8:
            raise Invalid({"password": "新账号的初始密码至少 8 位"})
        user = User.objects.create_user(
            username=username,
            password=password,
            display_name=details["name"],
            phone=details["phone"],
        )
    elif ProxyParent.objects.filter(user=user).exists():
        raise Invalid({"username": f"账号 {username} 已登记为代理家长"})
    elif user.is_superuser or scope.towns(user, "view").exists():
        raise Invalid({"username": f"账号 {username} 是镇级账号，不能作为代理家长"})
    proxy = ProxyParent(
        user=user,
        school=school,
        declared=True,
        declared_on=declared_on,
        declaration_recorded_by=by,
        created_by=by,
        **details,
    )
    proxy._history_user = by
    proxy._change_reason = "登记代理家长"
    proxy.save()
    held = RoleAssignment.objects.filter(user=user, role=Role.PROXY_PARENT, school=school)
    if not valid_on(held, timezone.localdate()).exists():
        role = RoleAssignment(user=user, role=Role.PROXY_PARENT, school=school)
        role._history_user = by
        role._change_reason = "登记代理家长"
        role.save()
    return proxy


@transaction.atomic
def update_proxy_parent(*, proxy: ProxyParent, data: dict, by: User | None) -> ProxyParent:
    """Correct a proxy parent's details (history kept)."""
    proxy = ProxyParent.objects.select_for_update().get(pk=proxy.pk)
    for key, value in _clean_details(data).items():
        setattr(proxy, key, value)
    proxy._history_user = by
    proxy._change_reason = "修改代理家长信息"
    proxy.save()
    return proxy


@transaction.atomic
def retire_proxy_parent(*, proxy: ProxyParent, reason: str, by: User | None) -> ProxyParent:
    """Take a proxy parent off the register: their assignments and their role end today."""
    reason = clean(reason)
    if not reason:
        raise Invalid({"reason": "请填写退出原因"})
    proxy = ProxyParent.objects.select_for_update().get(pk=proxy.pk)
    if not proxy.active:
        raise Invalid({"reason": "该代理家长已退出"})
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for a in (
        proxy_assignments()
        .filter(user=proxy.user)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=yesterday))
    ):
        a.valid_to = yesterday
        a._history_user = by
        a._change_reason = f"代理家长退出：{reason}"[:100]
        a.save()
    for ra in RoleAssignment.objects.filter(
        user=proxy.user, role=Role.PROXY_PARENT, school=proxy.school
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=yesterday)):
        ra.valid_to = yesterday  # a role started today is left with an empty period
        ra._history_user = by
        ra._change_reason = "代理家长退出"
        ra.save()
    proxy.active = False
    proxy.end_reason = reason[:200]
    proxy._history_user = by
    proxy._change_reason = f"退出：{reason}"[:100]
    proxy.save()
    return proxy


def _overlapping(qs: QuerySet, start: dt.date, end: dt.date | None) -> QuerySet:
    qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    return qs.filter(valid_from__lte=end) if end is not None else qs


@transaction.atomic
def assign_child(
    *,
    proxy: ProxyParent,
    child: Child,
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    by: User | None,
) -> ChildAssignment:
    """Assign a child to a proxy parent for a period. A proxy parent looks after at most
    `GUANAI_PROXY_MAX_CHILDREN` children at any one time, all of their own school."""
    proxy = (
        ProxyParent.objects.select_for_update().select_related("user", "school").get(pk=proxy.pk)
    )
    if not proxy.active:
        raise Invalid({"proxy": f"{proxy.name} 已退出代理家长名册"})
    if valid_from is None:
        raise Invalid({"valid_from": "请填写起始日期"})
    errors = range_errors(valid_from, valid_to, field_start="valid_from", field_end="valid_to")
    if errors:
        raise Invalid(errors)
    if child.school_id != proxy.school_id:
        raise Invalid({"child": f"只能为{proxy.school.name}的学生指定该代理家长"})
    if child.enrolment != Enrolment.ENROLLED:
        raise Invalid({"child": f"{child.name} 已不在读"})
    theirs = _overlapping(proxy_assignments().filter(user=proxy.user), valid_from, valid_to)
    if theirs.filter(child=child).exists():
        raise Invalid({"child": f"{child.name} 在这段时间已由 {proxy.name} 代理"})
    limit = max_children()
    if theirs.values("child_id").distinct().count() >= limit:
        raise Invalid({"child": f"{proxy.name} 在这段时间已代理 {limit} 名儿童，已达上限"})
    assignment = ChildAssignment(
        user=proxy.user,
        child=child,
        kind=AssignmentKind.PROXY_PARENT,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    assignment._history_user = by
    assignment._change_reason = "指定代理家长"
    assignment.save()
    return assignment


@transaction.atomic
def end_assignment(*, assignment: ChildAssignment, by: User | None) -> ChildAssignment:
    """End a proxy assignment today (its last day is yesterday); the row stays."""
    a = ChildAssignment.objects.select_for_update().get(pk=assignment.pk)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    if a.valid_to is not None and a.valid_to <= yesterday:
        raise Invalid({"assignment": "该代理已结束"})
    a.valid_to = yesterday
    a._history_user = by
    a._change_reason = "结束代理"
    a.save()
    return a


# --- matching help ----------------------------------------------------------------------------


@dataclass
class ProxySuggestion:
    proxy: ProxyParent
    load: int
    same_village: bool


def suggest_proxies(child: Child, proxies: QuerySet[ProxyParent]) -> list[ProxySuggestion]:
    """Active proxy parents of the child's school with room for one more child, those living
    in the child's village first, then the least loaded."""
    today = timezone.localdate()
    current = current_assignments(today)
    rows = (
        proxies.active()
        .filter(school_id=child.school_id)
        .annotate(
            load=Count(
                "user__child_assignments",
                filter=Q(user__child_assignments__in=current),
                distinct=True,
            )
        )
        .order_by("pk")
    )
    village = normalize_village(child.village)
    out = [
        ProxySuggestion(p, p.load, bool(village) and normalize_village(p.village) == village)
        for p in rows
        if p.load < max_children()
    ]
    out.sort(key=lambda s: (not s.same_village, s.load, s.proxy.pk))
    return out


def suggest_children(proxy: ProxyParent, scope: QuerySet[Child]) -> list[Child]:
    """Left-behind children of the proxy's village (within `scope`) who have no proxy parent
    now: 双留守 first, then by class."""
    village = normalize_village(proxy.village)
    if not village:
        return []
    taken = current_assignments().values("child_id")
    candidates = (
        scope.filter(
            school_id=proxy.school_id,
            enrolment=Enrolment.ENROLLED,
            category__in=LEFT_BEHIND,
        )
        .exclude(pk__in=taken)
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name", "pk")
    )
    found = [c for c in candidates if normalize_village(c.village) == village]
    found.sort(key=lambda c: c.category != "double")
    return found[:20]
