"""普访轮次 (named visiting rounds): who sees and creates them, and their coverage.

A round belongs to a town (all its schools) or to one school, and covers the dates from `since`
to `until`, both included, in Asia/Shanghai. Its coverage is `rules.coverage` over the children
the user may see in the round's town or school, so a class teacher sees her class's part of the
town's round. Rounds may overlap (a school's own round inside the town's): each is counted on
its own. Proxy parents follow single children and see no rounds.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.children.models import Child, Enrolment
from guanai.children.validation import CardInvalid
from guanai.lib.dates import range_errors
from guanai.lib.grades import grade_name
from guanai.org.models import School, Town
from guanai.screening.models import schools_managed_by, schools_visible_to

from .models import Contact, ContactKind, VisitRound
from .rules import LEFT_BEHIND, SchoolCoverage, coverage, local_midnight


def rounds_visible_to(user: User) -> QuerySet[VisitRound]:
    """The rounds of the towns and schools whose school-wide work the user sees."""
    schools = schools_visible_to(user)
    return VisitRound.objects.filter(
        Q(school__in=schools) | Q(town__in=schools.values("town_id"))
    ).select_related("town", "school", "created_by")


def round_units(user: User) -> tuple[list[Town], list[School]]:
    """Where the user may create rounds: the towns she administers (a round for the whole town)
    and the schools she leads or whose town she administers."""
    if not user.is_authenticated or user.is_read_only:
        return [], []
    towns = scope.towns(user, "manage")
    return list(towns.order_by("id")), list(schools_managed_by(user).order_by("id"))


def round_unit(
    user: User, *, town_id: int | None = None, school_code: str | None = None
) -> tuple[Town | None, School | None]:
    """The town or school a new round of `user` belongs to: a school by its code (404 outside
    her schools, 403 when she may not run its school-wide work), else her town."""
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能创建普访轮次")
    towns, schools = round_units(user)
    if school_code:
        school = get_object_or_404(schools_visible_to(user), code=school_code)
        if school not in schools:
            raise PermissionDenied("只有校领导和镇管理员可以创建普访轮次")
        return None, school
    if not towns:
        raise PermissionDenied("只有镇管理员可以创建全镇的普访轮次；校领导请选择本校")
    if town_id is not None:
        town = next((t for t in towns if t.pk == town_id), None)
        if town is None:
            raise PermissionDenied("只能为自己管理的镇创建普访轮次")
        return town, None
    if len(towns) > 1:
        raise CardInvalid({"town": "您管理多个镇，请选择镇"})
    return towns[0], None


@transaction.atomic
def create_round(
    *,
    by: User,
    town: Town | None = None,
    school: School | None = None,
    name: str,
    since: dt.date,
    until: dt.date,
    left_behind_only: bool = False,
    notes: str = "",
) -> VisitRound:
    """Create a round for a town or one school. Raises CardInvalid naming each bad field.
    Overlapping dates are allowed."""
    name, notes = (name or "").strip(), (notes or "").strip()
    errors = _round_errors(name=name, since=since, until=until, notes=notes)
    if (town is None) == (school is None):
        errors["school"] = "普访轮次应属于一个镇或一所学校"
    if errors:
        raise CardInvalid(errors)
    visit_round = VisitRound(
        town=town,
        school=school,
        name=name,
        since=since,
        until=until,
        left_behind_only=left_behind_only,
        notes=notes,
        created_by=by,
    )
    visit_round._history_user = by
    visit_round._change_reason = "新建普访轮次"
    visit_round.save()
    return visit_round


def _round_errors(*, name: str, since: dt.date, until: dt.date, notes: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "请填写轮次名称，如“2026 秋季学期普访”"
    elif len(name) > 60:
        errors["name"] = "不能超过 60 个字"
    if len(notes) > 300:
        errors["notes"] = "不能超过 300 个字"
    errors |= range_errors(
        since,
        until,
        field_start="since",
        field_end="until",
        label_start="开始日期",
        label_end="结束日期",
    )
    return errors


def may_change_round(visit_round: VisitRound, units: tuple[list[Town], list[School]]) -> bool:
    """Those who may create a round for its town or school may change it (`units`: theirs,
    from `round_units`)."""
    towns, schools = units
    if visit_round.school_id:
        return any(s.pk == visit_round.school_id for s in schools)
    return any(t.pk == visit_round.town_id for t in towns)


def round_to_change(user: User, pk: int) -> VisitRound:
    """The round `pk` if `user` may change it: 404 when she cannot see it, 403 when she sees it
    but may not change it (teachers, the inspector, another school's leader for a town round)."""
    visit_round = get_object_or_404(rounds_visible_to(user), pk=pk)
    if user.is_read_only or not may_change_round(visit_round, round_units(user)):
        raise PermissionDenied("只有创建这一级普访轮次的镇管理员或校领导可以修改")
    return visit_round


@transaction.atomic
def update_round(*, visit_round: VisitRound, by: User, **values) -> tuple[VisitRound, list[str]]:
    """Change a round's name, dates, left-behind-only or notes (its town or school stays);
    the earlier version stays in its history. Raises CardInvalid naming each bad field.
    Returns the round and the fields changed."""
    locked = VisitRound.objects.select_for_update().get(pk=visit_round.pk)
    fields = ("name", "since", "until", "left_behind_only", "notes")
    new = {f: values.get(f, getattr(locked, f)) for f in fields}
    new["name"], new["notes"] = (new["name"] or "").strip(), (new["notes"] or "").strip()
    errors = _round_errors(
        name=new["name"], since=new["since"], until=new["until"], notes=new["notes"]
    )
    if errors:
        raise CardInvalid(errors)
    changed = [f for f in fields if getattr(locked, f) != new[f]]
    if changed:
        for f in changed:
            setattr(locked, f, new[f])
        locked._history_user = by
        locked._change_reason = "修改普访轮次"
        locked.save()
    return locked, changed


def overlapping(visit_round: VisitRound, user: User) -> list[VisitRound]:
    """Other rounds the user sees whose dates overlap this one's (allowed; the page says so)."""
    return list(
        rounds_visible_to(user)
        .exclude(pk=visit_round.pk)
        .filter(since__lte=visit_round.until, until__gte=visit_round.since)
    )


def default_round(rounds: list[VisitRound], today: dt.date) -> VisitRound | None:
    """The round to show first: the one covering today (the latest begun, if several), else
    the latest that has begun, else the next to begin."""
    covering = [r for r in rounds if r.since <= today <= r.until]
    begun = [r for r in rounds if r.since <= today]
    if covering:
        return max(covering, key=lambda r: (r.since, r.pk))
    if begun:
        return max(begun, key=lambda r: (r.until, r.pk))
    return min(rounds, key=lambda r: (r.since, r.pk), default=None)


def round_children(visit_round: VisitRound, user: User) -> QuerySet[Child]:
    """The children of the round's town or school that the user may see."""
    children = Child.objects.visible_to(user)
    if visit_round.school_id:
        return children.filter(school_id=visit_round.school_id)
    return children.filter(school__town_id=visit_round.town_id)


def round_coverage(visit_round: VisitRound, children: QuerySet[Child]) -> list[SchoolCoverage]:
    """Per school and class: who of `children` had a home visit within the round."""
    return coverage(
        children,
        since=visit_round.since,
        until=visit_round.until,
        left_behind_only=visit_round.left_behind_only,
    )


def round_totals(rounds: list[VisitRound], user: User) -> dict[int, tuple[int, int]]:
    """(visited, total) of each round over the children the user may see, all in one query.

    Counts as `rules.coverage` does (enrolled children, only the left-behind when the round
    says so, a home visit from 00:00 on `since` to 24:00 on `until`), without listing names:
    the rounds page shows a percentage per round."""
    if not rounds:
        return {}
    counts = {}
    for r in rounds:
        unit = Q(school_id=r.school_id) if r.school_id else Q(school__town_id=r.town_id)
        if r.left_behind_only:
            unit &= Q(category__in=LEFT_BEHIND)
        visited = Exists(
            Contact.objects.filter(
                child=OuterRef("pk"),
                kind=ContactKind.HOME_VISIT,
                at__gte=local_midnight(r.since),
                at__lt=local_midnight(r.until + dt.timedelta(days=1)),
            )
        )
        counts[f"total_{r.pk}"] = Count("pk", filter=unit)
        counts[f"visited_{r.pk}"] = Count("pk", filter=unit & Q(visited))
    row = Child.objects.visible_to(user).filter(enrolment=Enrolment.ENROLLED).aggregate(**counts)
    return {r.pk: (row[f"visited_{r.pk}"], row[f"total_{r.pk}"]) for r in rounds}


def not_visited_rows(result: list[SchoolCoverage]) -> list[list[str]]:
    """The not-yet-visited children of a coverage result as rows: school, grade, class, name."""
    return [
        [school.name, grade_name(klass.grade), klass.label, name]
        for school in result
        for klass in school.classes
        for _pk, name in klass.not_visited
    ]


def percent(visited: int, total: int) -> int:
    return round(visited * 100 / total) if total else 0
