"""Children's homes (留守儿童之家): setting one up, the duty rota, signing children in and out at
the door, family calls during a visit (logged as contacts), and a month's or a term's use.
Rights as in services.py: managers set up and staff the rota; the door follows the child."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.lib import dates
from guanai.lib.errors import Invalid
from guanai.org.models import School

from .cleaning import clean_date, clean_text, clean_time
from .models import Home, HomeDuty, HomeVisit
from .services import check_manager, check_writer, contactable, term_range


def clean_home(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out = {
        "name": clean_text(values, "name", errors, limit=100, required="请填写名称"),
        "opening_hours": clean_text(values, "opening_hours", errors, limit=100),
        "equipment": clean_text(values, "equipment", errors, limit=200),
    }
    if errors:
        raise Invalid(errors)
    return out


@transaction.atomic
def create_home(*, school: School, values: dict[str, Any], by: User) -> Home:
    check_manager(by, school)
    return Home.objects.create(school=school, **clean_home(values))


def home_staff(home: Home) -> QuerySet[User]:
    """Who may be on a home's rota: the school's staff (pairing.services.school_staff)."""
    from guanai.pairing.services import school_staff

    return school_staff(home.school)


@transaction.atomic
def add_duty(*, home: Home, values: dict[str, Any], by: User) -> HomeDuty:
    """Put a member of the school's staff on the rota for a day and a time slot (managers)."""
    check_manager(by, home.school)
    errors: dict[str, str] = {}
    on = clean_date(values, "on", errors, required="请填写值班日期")
    starts_at = clean_time(values, "starts_at", errors, required="请填写开始时间")
    ends_at = clean_time(values, "ends_at", errors, required="请填写结束时间")
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "结束时间应晚于开始时间"
    raw = values.get("staff")
    staff = None
    if raw in (None, ""):
        errors["staff"] = "请选择值班人员"
    else:
        pk = raw.pk if isinstance(raw, User) else (int(raw) if str(raw).isdigit() else 0)
        staff = home_staff(home).filter(pk=pk).first()
        if staff is None:
            errors["staff"] = f"值班人员应为{home.school.name}的教职工"
    if (
        not errors
        and HomeDuty.objects.filter(
            home=home, on=on, staff=staff, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists()
    ):
        errors["starts_at"] = f"{staff} 这一天的这个时段已经在值班表上"
    if errors:
        raise Invalid(errors)
    return HomeDuty.objects.create(
        home=home, on=on, starts_at=starts_at, ends_at=ends_at, staff=staff
    )


@transaction.atomic
def remove_duty(*, duty: HomeDuty, by: User) -> None:
    check_manager(by, duty.home.school)
    duty.delete()


def rota(home: Home, *, first: dt.date | None = None, days: int = 7) -> QuerySet[HomeDuty]:
    """The rota from `first` (today) for `days` days, by day and time."""
    first = first or timezone.localdate()
    return (
        HomeDuty.objects.filter(home=home, on__gte=first, on__lt=first + dt.timedelta(days=days))
        .select_related("staff")
        .order_by("on", "starts_at", "id")
    )


def on_duty(home: Home, at: dt.datetime | None = None) -> list[HomeDuty]:
    """Who is on duty at the home now (or at `at`): the slots covering that moment."""
    at = timezone.localtime(at or timezone.now())
    return list(
        HomeDuty.objects.filter(
            home=home, on=at.date(), starts_at__lte=at.time(), ends_at__gt=at.time()
        )
        .select_related("staff")
        .order_by("starts_at", "id")
    )


def may_sign(user: User, home: Home, child: Child) -> bool:
    return (
        not user.is_read_only
        and scope.schools(user, "contact").filter(pk=home.school_id).exists()
        and contactable(user).filter(pk=child.pk).exists()
    )


def open_visit(home: Home, child: Child) -> HomeVisit | None:
    return HomeVisit.objects.filter(home=home, child=child, signed_out_at__isnull=True).first()


@transaction.atomic
def sign_in(*, home: Home, child: Child, by: User) -> tuple[HomeVisit, bool]:
    """Sign a child in at the door; one already inside stays signed in (created False)."""
    check_writer(by)
    if not may_sign(by, home, child):
        raise PermissionDenied("您不能为这名儿童签到")
    visit = open_visit(home, child)
    if visit is not None:
        return visit, False
    now = timezone.now()
    duty = next(iter(on_duty(home, now)), None)
    return HomeVisit.objects.create(
        home=home,
        child=child,
        signed_in_at=now,
        by=by,
        on_duty=duty.staff if duty else None,
    ), True


@transaction.atomic
def sign_out(*, home: Home, child: Child, by: User) -> HomeVisit:
    check_writer(by)
    if not may_sign(by, home, child):
        raise PermissionDenied("您不能为这名儿童签退")
    visit = open_visit(home, child)
    if visit is None:
        raise Invalid({"child": "这名儿童还没有签到"})
    visit.signed_out_at = timezone.now()
    visit.save(update_fields=["signed_out_at"])
    return visit


def log_family_call(
    *,
    home: Home,
    child: Child,
    with_whom: str,
    notes: str = "",
    by: User,
    key: str = "",
    at: dt.datetime | None = None,
):
    """A call or video call with a parent during a visit: a contact of kind `family_call`
    through the contacts service (so it counts for the parent–child call rule)."""
    from guanai.contacts.services import clean_contact, log_contact

    check_writer(by)
    if not may_sign(by, home, child):
        raise PermissionDenied("您不能为这名儿童登记亲情电话")
    if not (with_whom or "").strip():
        raise Invalid({"with_whom": "请填写通话的家长，如“母亲 李红”"})
    values = clean_contact(
        kind="family_call",
        at=at or timezone.now(),
        with_whom=with_whom,
        notes=(notes or "").strip() or f"在{home.name}与家长通话",
        by=by,
    )
    contact, _created = log_contact(child=child, by=by, values=values, idempotency_key=key)
    return contact


def month_range(month: str | None) -> tuple[dt.date, dt.date]:
    """'2026-11' → first and last day; None → this month. Invalid naming `month`."""
    today = timezone.localdate()
    if not month:
        first = today.replace(day=1)
    else:
        try:
            year, mon = (int(p) for p in month.split("-"))
            first = dt.date(year, mon, 1)
        except (ValueError, TypeError):
            raise Invalid({"month": "格式应为 2026-11"}, source="query") from None
    return first, dates.add_months(first, 1) - dt.timedelta(days=1)


def monthly_use(home: Home, user: User, *, month: str | None = None) -> dict[str, Any]:
    """Sign-ins of a month at a home: visits, distinct children, and per child (in scope)."""
    first, last = month_range(month)
    visits = HomeVisit.objects.filter(
        home=home,
        signed_in_at__date__gte=first,
        signed_in_at__date__lte=last,
        child__in=Child.objects.visible_to(user),
    )
    per_child = (
        visits.values("child_id", "child__name")
        .annotate(n=Count("id"))
        .order_by("-n", "child__name")
    )
    return {
        "month": f"{first:%Y-%m}",
        "visits": visits.count(),
        "children": len(per_child),
        "per_child": [
            {"child": r["child_id"], "name": r["child__name"], "visits": r["n"]} for r in per_child
        ],
    }


def never_came(home: Home, user: User, *, term: str | None = None) -> QuerySet[Child]:
    """Left-behind children of the home's school, in the user's scope, with no sign-in at the
    home this term."""
    first, last = term_range(term)
    came = HomeVisit.objects.filter(
        home=home, signed_in_at__date__gte=first, signed_in_at__date__lte=last
    ).values("child_id")
    return (
        Child.objects.visible_to(user)
        .active()
        .left_behind()
        .filter(school_id=home.school_id)
        .exclude(pk__in=came)
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name_pinyin", "id")
    )


def present_now(home: Home, user: User) -> QuerySet[HomeVisit]:
    return (
        HomeVisit.objects.filter(home=home, signed_out_at__isnull=True)
        .filter(child__in=Child.objects.visible_to(user))
        .select_related("child", "child__school_class", "on_duty")
        .order_by("signed_in_at")
    )
