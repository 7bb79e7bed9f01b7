"""Workflows of activities, donations and children's homes, shared by pages, API and the demo.

Who may do what (the API and the pages ask here, never a role): an activity, a donation or a
home is read by the readers of its school (`scope.schools(user, "view")`) and planned, recorded
or set up by its managers (`manage`); attendance and door sign-ins follow the child — anyone
who may contact a child (`contact`) takes her attendance or signs her in. Someone named to
children without a unit of his own (a proxy parent) takes his own children's attendance, and
only at a 代理家长活动. A read-only role (督导员) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum  # noqa: F401
from django.http import Http404
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.lib import dates
from guanai.lib.errors import Invalid
from guanai.org.models import School

from .models import (
    Activity,
    ActivityKind,
    Allocation,
    Channel,
    Donation,
    DonorKind,
    GiftKind,
    Home,
    HomeDuty,
    HomeVisit,
    Participant,
    PublicityItem,
    plain,
)

READ_ONLY = "督导员为只读角色，不能登记"
MANAGERS_ONLY = "只有校领导和镇管理员可以进行此操作"
MAX_MONEY = Decimal("99999999.99")


# --- rights -----------------------------------------------------------------------------------


def check_writer(user: User) -> None:
    """A read-only role changes nothing: 403 before anything is looked up."""
    if user.is_read_only:
        raise PermissionDenied(READ_ONLY)


def check_manager(user: User, school: School | None = None) -> None:
    """403 unless the user runs school-wide work (for `school`, when given)."""
    check_writer(user)
    managed = scope.schools(user, "manage")
    if school is not None:
        managed = managed.filter(pk=school.pk)
    if not managed.exists():
        raise PermissionDenied(MANAGERS_ONLY)


def may_manage(user: User, school: School) -> bool:
    return not user.is_read_only and scope.schools(user, "manage").filter(pk=school.pk).exists()


def contactable(user: User) -> QuerySet[Child]:
    return Child.objects.visible_to(user, "contact")


def may_mark(user: User, activity: Activity, child: Child) -> bool:
    """Whether the user takes this child's attendance at this activity."""
    if user.is_read_only or not contactable(user).filter(pk=child.pk).exists():
        return False
    if child.school_id != activity.school_id:
        return False
    if scope.holds_child(user, "contact", child):
        return True
    # named to the child only (a proxy parent): his own children at a proxy-parent activity
    return activity.kind == ActivityKind.PROXY_PARENT


# --- cleaning ---------------------------------------------------------------------------------


def _text(values: dict, key: str, errors: dict, *, limit: int, required: str = "") -> str:
    value = str(values.get(key) or "").strip()
    if required and not value:
        errors[key] = required
    elif len(value) > limit:
        errors[key] = f"不能超过 {limit} 个字"
    return value


def _date(values: dict, key: str, errors: dict, *, required: str = "") -> dt.date | None:
    raw = values.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = required
        return None
    if isinstance(raw, dt.date):
        day = raw
    else:
        try:
            day = dates.parse_date(raw)
        except dates.DateError as exc:
            errors[key] = str(exc)
            return None
    if day is None or not dates.plausible(day, timezone.localdate()):
        errors[key] = "日期不合理，请核对"
        return None
    return day


def _money(values: dict, key: str, errors: dict, *, required: str = "") -> Decimal | None:
    raw = values.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = required
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        errors[key] = "应为数字，如 500 或 12.5"
        return None
    if not value.is_finite() or value <= 0:
        errors[key] = "应大于 0"
        return None
    if value > MAX_MONEY or value != value.quantize(Decimal("0.01")):
        errors[key] = "数字太大或小数超过两位"
        return None
    return value.quantize(Decimal("0.01"))


def clean_activity(values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The model values of an activity's plan; Invalid naming each bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def given(key: str) -> bool:
        return not partial or key in values

    if given("kind"):
        kind = values.get("kind")
        if kind not in ActivityKind.values:
            errors["kind"] = "应为 " + "、".join(str(x) for x in ActivityKind.labels)
        out["kind"] = kind
    if given("title"):
        out["title"] = _text(values, "title", errors, limit=100, required="请填写活动名称")
    for key, limit in (("goal", 2000), ("place", 100), ("organiser", 100), ("partners", 200)):
        if given(key):
            out[key] = _text(values, key, errors, limit=limit)
    if given("summary"):
        out["summary"] = _text(values, "summary", errors, limit=5000)
    if given("starts_on"):
        out["starts_on"] = _date(values, "starts_on", errors, required="请填写开始日期")
    if given("ends_on"):
        out["ends_on"] = _date(values, "ends_on", errors) or out.get("starts_on")
    if given("budget"):
        out["budget"] = _money(values, "budget", errors)
    if errors:
        raise Invalid(errors)
    return out


# --- activities -------------------------------------------------------------------------------


def _check_dates(activity: Activity) -> None:
    if activity.ends_on and activity.starts_on and activity.ends_on < activity.starts_on:
        raise Invalid({"ends_on": "结束日期不能早于开始日期"})


@transaction.atomic
def create_activity(*, school: School, values: dict[str, Any], by: User) -> Activity:
    check_manager(by, school)
    cleaned = clean_activity(values)
    activity = Activity(school=school, created_by=by, **cleaned)
    _check_dates(activity)
    activity.save()
    return activity


@transaction.atomic
def update_activity(*, activity: Activity, values: dict[str, Any], by: User) -> Activity:
    check_manager(by, activity.school)
    cleaned = clean_activity(values, partial=True)
    if "starts_on" in cleaned and cleaned["starts_on"] is None:
        raise Invalid({"starts_on": "请填写开始日期"})
    if "ends_on" in cleaned and cleaned["ends_on"] is None:
        cleaned["ends_on"] = cleaned.get("starts_on", activity.starts_on)
    for key, value in cleaned.items():
        setattr(activity, key, value)
    _check_dates(activity)
    activity.save()
    return activity


LISTS = {
    "overdue": "联系逾期的儿童",
    "never_reached": "本学期从未联系的留守儿童",
}


def overdue_ids(user: User, children: QuerySet[Child]) -> set[int]:
    """Children due a contact today under the user's due lists (contacts.rules.due_items, the
    same function as the due page: the rules, terms and proxy-parent lists are its own)."""
    from guanai.contacts import access
    from guanai.contacts.rules import due_items

    codes = access.due_rule_codes(user)
    if codes == []:
        return set()
    return {i.child for i in due_items(children, as_of=timezone.localdate(), rule_codes=codes)}


def never_reached(user: User, *, term: str | None = None) -> QuerySet[Child]:
    """Left-behind children in the user's scope (enrolled) with no contact of any kind logged
    this term (or `term`). The contacts app has no such list yet: counted here from its
    records, one subquery."""
    from guanai.contacts.models import Contact
    from guanai.contacts.rules import local_midnight

    first, last = term_range(term)
    since, until = local_midnight(first), local_midnight(last + dt.timedelta(days=1))
    reached = Contact.objects.filter(at__gte=since, at__lt=until).values("child_id")
    return Child.objects.visible_to(user).active().left_behind().exclude(pk__in=reached)


def candidates(
    user: User,
    activity: Activity,
    *,
    klass: int | None = None,
    category: str = "",
    listed: str = "",
):
    """Children who may be put on the list: enrolled at the activity's school, in the user's
    scope; a class (id), a category (single/double/…, or "left_behind") or a list (`LISTS`:
    "overdue" — due a contact now —, "never_reached" — no contact this term) narrows it."""
    qs = Child.objects.visible_to(user).active().filter(school_id=activity.school_id)
    if klass:
        qs = qs.filter(school_class_id=klass)
    if category == "left_behind":
        qs = qs.left_behind()
    elif category:
        qs = qs.filter(category=category)
    if listed == "overdue":
        qs = qs.filter(pk__in=overdue_ids(user, qs))
    elif listed == "never_reached":
        qs = qs.filter(pk__in=never_reached(user).values("pk"))
    elif listed:
        raise Invalid({"list": "应为 " + "、".join(LISTS.values())}, source="query")
    return qs


@transaction.atomic
def add_participants(*, activity: Activity, child_ids: list[int], by: User) -> list[Participant]:
    """Put children on the list (managers of the school). Ids of children the user does not
    see: 404, like any id outside the scope; seen but not enrolled at the school: Invalid."""
    check_manager(by, activity.school)
    wanted = list(dict.fromkeys(child_ids))
    seen = set(Child.objects.visible_to(by).filter(pk__in=wanted).values_list("pk", flat=True))
    if len(seen) < len(wanted):
        raise Http404
    found = set(candidates(by, activity).filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise Invalid({"children": f"不是本校在读儿童：{len(missing)} 人"})
    have = set(activity.participants.values_list("child_id", flat=True))
    new = [Participant(activity=activity, child_id=pk) for pk in wanted if pk not in have]
    Participant.objects.bulk_create(new)
    return list(activity.participants.filter(child_id__in=wanted))


@transaction.atomic
def mark(*, activity: Activity, child: Child, present: bool, by: User) -> Participant:
    """Take one child's attendance; a child not on the list yet is added as a late-comer."""
    check_writer(by)
    if not may_mark(by, activity, child):
        raise PermissionDenied("您不能为这名儿童点名")
    participant, _created = Participant.objects.select_for_update().get_or_create(
        activity=activity, child=child, defaults={"late_added": True}
    )
    participant.present = present
    participant.marked_by = by
    participant.marked_at = timezone.now()
    participant.save()
    return participant


def term_range(term: str | None = None) -> tuple[dt.date, dt.date]:
    return dates.term_bounds(term or dates.current_term(timezone.localdate()))


def attended_ids(term: str | None = None) -> QuerySet:
    """Ids of children present at an activity that started in the term."""
    first, last = term_range(term)
    return Participant.objects.filter(
        present=True, activity__starts_on__gte=first, activity__starts_on__lte=last
    ).values("child_id")


def uncovered(user: User, *, term: str | None = None, school: School | None = None):
    """Left-behind children in the user's scope (enrolled) who took part in nothing this term,
    by school, grade, class and name."""
    qs = Child.objects.visible_to(user).active().left_behind().exclude(pk__in=attended_ids(term))
    if school is not None:
        qs = qs.filter(school=school)
    return qs.select_related("school", "school_class").order_by(
        "school__code", "school_class__grade", "school_class__class_no", "name_pinyin", "id"
    )


def coverage(user: User, *, term: str | None = None) -> list[dict[str, Any]]:
    """Per class of the user's scope: left-behind children, how many took part in something
    this term, and who did not."""
    base = Child.objects.visible_to(user).active().left_behind()
    done = set(base.filter(pk__in=attended_ids(term)).values_list("pk", flat=True))
    rows: dict[int, dict[str, Any]] = {}
    for child in base.select_related("school", "school_class").order_by(
        "school__code", "school_class__grade", "school_class__class_no", "name_pinyin", "id"
    ):
        k = child.school_class
        row = rows.setdefault(
            k.pk,
            {"school": child.school, "klass": k, "total": 0, "reached": 0, "missed": []},
        )
        row["total"] += 1
        if child.pk in done:
            row["reached"] += 1
        else:
            row["missed"].append(child)
    return list(rows.values())


def activities_for_child(child: Child, user: User) -> list[dict[str, Any]]:
    """The activities a child was on the list of, newest first, for the card: only those the
    user may see, each with whether she came. [] for a child outside the user's scope."""
    if not Child.objects.visible_to(user).filter(pk=child.pk).exists():
        return []
    places = (
        Participant.objects.filter(child=child, activity__in=Activity.objects.visible_to(user))
        .select_related("activity")
        .order_by("-activity__starts_on", "-id")
    )
    return [
        {
            "activity": p.activity,
            "kind": p.activity.get_kind_display(),
            "present": p.present,
            "status": {True: "参加", False: "缺席", None: "未点名"}[p.present],
        }
        for p in places
    ]


# --- donations --------------------------------------------------------------------------------


def clean_donation(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "donor": _text(values, "donor", errors, limit=100, required="请填写捐赠方"),
        "donor_contact": _text(values, "donor_contact", errors, limit=100),
        "notes": _text(values, "notes", errors, limit=2000),
        "item": _text(values, "item", errors, limit=100),
    }
    donor_kind = values.get("donor_kind") or DonorKind.PERSON
    if donor_kind not in DonorKind.values:
        errors["donor_kind"] = "应为 个人 或 单位"
    kind = values.get("kind")
    if kind not in GiftKind.values:
        errors["kind"] = "应为 现金 或 物品"
    elif kind == GiftKind.ITEMS and not out["item"]:
        errors.setdefault("item", "请填写捐赠的物品，如“书包”")
    out["donor_kind"], out["kind"] = donor_kind, kind
    out["amount"] = _money(values, "amount", errors, required="请填写金额或数量")
    if kind == GiftKind.ITEMS and out["amount"] is not None and out["amount"] % 1:
        errors["amount"] = "物品数量应为整数"
    out["received_on"] = _date(values, "received_on", errors, required="请填写接收日期")
    if out["received_on"] and out["received_on"] > timezone.localdate():
        errors["received_on"] = "接收日期不能晚于今天"
    if errors:
        raise Invalid(errors)
    if kind == GiftKind.MONEY:
        out["item"] = ""
    return out


@transaction.atomic
def record_donation(*, school: School, values: dict[str, Any], by: User) -> Donation:
    check_manager(by, school)
    return Donation.objects.create(school=school, recorded_by=by, **clean_donation(values))


@transaction.atomic
def allocate(*, donation: Donation, child: Child, values: dict[str, Any], by: User) -> Allocation:
    """Hand part of a donation to a child. The donation's row is locked while its balance is
    read, so two allocations at once never together exceed what was received."""
    check_manager(by, donation.school)
    locked = Donation.objects.select_for_update().get(pk=donation.pk)
    errors: dict[str, str] = {}
    if child.school_id != locked.school_id:
        errors["child"] = "只能发放给本校的儿童"
    amount = _money(values, "amount", errors, required="请填写发放的金额或数量")
    if locked.kind == GiftKind.ITEMS and amount is not None and amount % 1:
        errors["amount"] = "物品数量应为整数"
    handed_on = _date(values, "handed_on", errors, required="请填写发放日期")
    if handed_on and handed_on < locked.received_on:
        errors["handed_on"] = "发放日期不能早于接收日期"
    elif handed_on and handed_on > timezone.localdate():
        errors["handed_on"] = "发放日期不能晚于今天"
    handed_by = _text(values, "handed_by", errors, limit=50, required="请填写经手人")
    receipt = _text(values, "receipt_code", errors, limit=50)
    reason = _text(values, "reason", errors, limit=200)
    what = _text(values, "what", errors, limit=100) or locked.item
    if amount is not None and "amount" not in errors:
        left = locked.balance()
        if amount > left:
            errors["amount"] = f"超过余额：这笔捐赠还剩 {plain(left)} {locked.unit}"
    if errors:
        raise Invalid(errors)
    return Allocation.objects.create(
        donation=locked,
        child=child,
        what=what,
        amount=amount,
        handed_on=handed_on,
        handed_by=handed_by,
        receipt_code=receipt,
        reason=reason,
        recorded_by=by,
    )


# Grades and classes as people write them: 三年级, 3年级, (1)班, （2）班, 3班, 三·一班.
CLASS_WORDS = re.compile(
    r"[一二三四五六七八九十\d]+\s*年级|[(（]?\s*[一二三四五六七八九十\d]+\s*[)）]?\s*班"
)


def story_names(donation: Donation) -> list[str]:
    """The names a story about this donation must not contain: each child it went to, full
    name and, for names of three characters or more, the given name."""
    names: set[str] = set()
    for name in donation.allocations.values_list("child__name", flat=True).distinct():
        name = (name or "").strip()
        if name:
            names.add(name)
            if len(name) >= 3:
                names.add(name[1:])
    return sorted(names, key=lambda n: (-len(n), n))


def story_problems(donation: Donation, text: str) -> str:
    """Why a story cannot go on the donor's certificate ('' when it may)."""
    named = [n for n in story_names(donation) if n in text]
    if named:
        return "故事中不能出现受助儿童的姓名：" + "、".join(named)
    if CLASS_WORDS.search(text):
        return "故事中不能写年级或班级"
    return ""


@transaction.atomic
def set_stories(*, donation: Donation, stories: str, by: User) -> Donation:
    """Write the anonymised stories for the donor (the school's managers): short texts about
    what the gift did, refused when they name a child it went to or a grade or class."""
    check_manager(by, donation.school)
    errors: dict[str, str] = {}
    text = _text({"stories": stories}, "stories", errors, limit=2000)
    if not errors and (problem := story_problems(donation, text)):
        errors["stories"] = problem
    if errors:
        raise Invalid(errors)
    donation.stories = text
    donation.save(update_fields=["stories"])
    return donation


def certificate(donation: Donation) -> dict[str, Any]:
    """What the donor's certificate says: the gift, how much of it was handed out to how many
    children, per school and per item — counts only, no child's name or class — and the
    stories (left out, with the reason, if a child it later went to is named in them)."""
    rows = (
        donation.allocations.values("child__school__name", "what")
        .annotate(children=Count("child", distinct=True), amount=Sum("amount"), times=Count("id"))
        .order_by("child__school__name", "what")
    )
    totals = donation.allocations.aggregate(
        children=Count("child", distinct=True), amount=Sum("amount"), times=Count("id")
    )
    given = totals["amount"] or Decimal(0)
    problem = story_problems(donation, donation.stories) if donation.stories else ""
    stories = [] if problem else [p.strip() for p in donation.stories.split("\n") if p.strip()]
    return {
        "d": donation,
        "per_school": [
            {
                "school": r["child__school__name"],
                "what": r["what"] or ("现金" if donation.kind == GiftKind.MONEY else donation.item),
                "children": r["children"],
                "times": r["times"],
                "amount": plain(r["amount"]),
            }
            for r in rows
        ],
        "children": totals["children"],
        "times": totals["times"],
        "given": plain(given),
        "left": plain(donation.amount - given),
        "stories": stories,
        "stories_left_out": problem,
        "printed": timezone.localdate(),
    }


def certificate_pdf(donation: Donation) -> bytes:
    """The donor's certificate (捐赠证书 / 感谢信): one A4 page, CJK font embedded."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from guanai.lib.pdf import font_url

    html = render_to_string(
        "activities/certificate_pdf.html", certificate(donation) | {"font_url": font_url()}
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def fairness(user: User, *, school: School | None = None) -> dict[str, list]:
    """Left-behind children in scope who received nothing, and those who received several
    times (with the recorded reasons), most first."""
    kids = Child.objects.visible_to(user).active().left_behind()
    if school is not None:
        kids = kids.filter(school=school)
    kids = kids.select_related("school", "school_class").annotate(n=Count("allocations"))
    order = ("school__code", "school_class__grade", "school_class__class_no", "name_pinyin")
    nothing = list(kids.filter(n=0).order_by(*order))
    several = list(kids.filter(n__gte=2).order_by("-n", *order))
    reasons: dict[int, list[str]] = defaultdict(list)
    for a in Allocation.objects.filter(child__in=several).exclude(reason=""):
        reasons[a.child_id].append(a.reason)
    for child in several:
        child.reasons = reasons.get(child.pk, [])
    return {"nothing": nothing, "several": several}


# --- children's homes -------------------------------------------------------------------------


def clean_home(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out = {
        "name": _text(values, "name", errors, limit=100, required="请填写名称"),
        "opening_hours": _text(values, "opening_hours", errors, limit=100),
        "equipment": _text(values, "equipment", errors, limit=200),
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


def _time(values: dict, key: str, errors: dict, *, required: str) -> dt.time | None:
    raw = values.get(key)
    if raw in (None, ""):
        errors[key] = required
        return None
    if isinstance(raw, dt.time):
        return raw.replace(second=0, microsecond=0)
    try:
        return dt.datetime.strptime(str(raw).strip().replace("：", ":"), "%H:%M").time()
    except ValueError:
        errors[key] = "时间格式应为 08:30"
        return None


@transaction.atomic
def add_duty(*, home: Home, values: dict[str, Any], by: User) -> HomeDuty:
    """Put a member of the school's staff on the rota for a day and a time slot (managers)."""
    check_manager(by, home.school)
    errors: dict[str, str] = {}
    on = _date(values, "on", errors, required="请填写值班日期")
    starts_at = _time(values, "starts_at", errors, required="请填写开始时间")
    ends_at = _time(values, "ends_at", errors, required="请填写结束时间")
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


def get_visible(qs: QuerySet, pk: int):
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def visible_child(user: User, pk: int) -> Child:
    return get_visible(Child.objects.visible_to(user).select_related("school_class"), pk)


def home_panel(user: User) -> dict[str, Any]:
    """The home page's reminder: left-behind children of the user's scope reached by no
    activity this term (nothing shown when there are none or the user sees no child)."""
    base = Child.objects.visible_to(user).active().left_behind()
    total = base.count()
    missed = base.exclude(pk__in=attended_ids()).count() if total else 0
    return {"total": total, "missed": missed}


def publicity(activity: Activity) -> dict[str, Any]:
    """The public one-pager of an activity (宣传: news item, school wall, 公众号): counts and text,
    and children's names only where publicity consent is recorded (未成年人保护法 §103) — never
    a class; the others are counted, not named."""
    places = list(activity.participants.select_related("child"))
    present = [p for p in places if p.present]
    named = sorted((p.child.name for p in present if p.child.publicity_consent), key=lambda n: n)
    return {
        "activity": activity,
        "listed": len(places),
        "present": len(present),
        "named": named,
        "unnamed": len(present) - len(named),
    }


@transaction.atomic
def issue_publicity(*, activity: Activity, values: dict[str, Any], by: User) -> PublicityItem:
    """Record that the activity's publicity summary was issued on a channel (managers)."""
    check_manager(by, activity.school)
    errors: dict[str, str] = {}
    channel = values.get("channel")
    if channel not in Channel.values:
        errors["channel"] = "应为 " + "、".join(str(x) for x in Channel.labels)
    issued_on = _date(values, "issued_on", errors) or timezone.localdate()
    if issued_on > timezone.localdate():
        errors["issued_on"] = "发布日期不能晚于今天"
    elif issued_on < activity.starts_on:
        errors["issued_on"] = "发布日期不能早于活动开始日期"
    if errors:
        raise Invalid(errors)
    return PublicityItem.objects.create(
        activity=activity, channel=channel, issued_on=issued_on, by=by
    )


def publicity_count(user: User | None, *, term: str, school_ids: list[int] | None = None) -> int:
    """宣传: publicity summaries of activities issued in `term` (2026-2027-1), of the schools
    the user reads (`scope.schools(user, "view")`; None: every school, for the command line),
    narrowed to `school_ids` when given. Raises lib.dates.DateError for a malformed term."""
    first, last = dates.term_bounds(term)
    qs = PublicityItem.objects.filter(issued_on__gte=first, issued_on__lte=last)
    if user is not None:
        qs = qs.filter(activity__school__in=scope.schools(user, "view"))
    if school_ids is not None:
        qs = qs.filter(activity__school_id__in=school_ids)
    return qs.count()


@transaction.atomic
def add_photo(*, activity: Activity, child: Child, upload, by: User):
    """Attach a photo of a child on the list. Refused (Invalid on `photos`, with the reason)
    when her card has no photo consent or the file is not a JPG/PNG photo; re-encoded and
    renamed by the contacts' photo rules."""
    from guanai.contacts.services import prepare_photos

    from .models import ActivityPhoto

    check_writer(by)
    if not may_mark(by, activity, child):
        raise PermissionDenied("您不能为这名儿童上传照片")
    if not activity.participants.filter(child=child).exists():
        raise Invalid({"child": "这名儿童不在活动名单上"})
    (stored,) = prepare_photos(child, [upload])
    return ActivityPhoto.objects.create(activity=activity, child=child, file=stored, by=by)


def photos_for(activity: Activity, user: User):
    from .models import ActivityPhoto

    return (
        ActivityPhoto.objects.filter(activity=activity, child__in=Child.objects.visible_to(user))
        .select_related("child")
        .order_by("id")
    )
