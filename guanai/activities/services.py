"""Workflows of activities, shared by pages, API and the demo, and the rights of the whole app:
donations are in donations.py, children's homes in homes.py, value cleaning in cleaning.py.

Who may do what (the API and the pages ask here, never a role): an activity, a donation or a
home is read by the readers of its school (`scope.schools(user, "view")`) and planned, recorded
or set up by its managers (`manage`); attendance and door sign-ins follow the child — anyone
who may contact a child (`contact`) takes her attendance or signs her in. Someone named to
children without a unit of his own (a proxy parent) takes his own children's attendance, and
only at a 代理家长活动. A read-only role (督导员) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.lib import dates
from guanai.lib.errors import Invalid
from guanai.org.models import School

from .cleaning import clean_date, clean_money, clean_text
from .models import (
    Activity,
    ActivityKind,
    Channel,
    Participant,
    PublicityItem,
)

READ_ONLY = "督导员为只读角色，不能登记"
MANAGERS_ONLY = "只有校领导和镇管理员可以进行此操作"


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
        out["title"] = clean_text(values, "title", errors, limit=100, required="请填写活动名称")
    for key, limit in (("goal", 2000), ("place", 100), ("organiser", 100), ("partners", 200)):
        if given(key):
            out[key] = clean_text(values, key, errors, limit=limit)
    if given("summary"):
        out["summary"] = clean_text(values, "summary", errors, limit=5000)
    if given("starts_on"):
        out["starts_on"] = clean_date(values, "starts_on", errors, required="请填写开始日期")
    if given("ends_on"):
        out["ends_on"] = clean_date(values, "ends_on", errors) or out.get("starts_on")
    if given("budget"):
        out["budget"] = clean_money(values, "budget", errors)
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


# --- lookups, the home page's reminder, publicity, photos -------------------------------------


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
    issued_on = clean_date(values, "issued_on", errors) or timezone.localdate()
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
