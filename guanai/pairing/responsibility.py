"""领导包年级、教师包班: a leader for each grade, a teacher for each class, a responsible teacher
for each child — the assignments, the gaps, and each person's open work.

Grade leaders and class teachers are `RoleAssignment` rows with dates (history kept by
simple-history), so scopes follow from the one scope method with no extra wiring.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import Role, RoleAssignment, User
from guanai.accounts.scope import classes as scoped_classes
from guanai.accounts.scope import my_children_q, taught_class_ids
from guanai.children.models import (
    LEFT_BEHIND,
    AssignmentKind,
    Category,
    Child,
    ChildAssignment,
    Enrolment,
)
from guanai.lib import dates
from guanai.lib.dates import DateError, current_term, range_errors
from guanai.lib.errors import Invalid  # re-exported: pairing pages and services raise it
from guanai.lib.grades import grade_name
from guanai.org.models import School, SchoolClass

from .models import Pair
from .services import school_staff

UNIT_ROLES = (Role.GRADE_LEADER, Role.CLASS_TEACHER)

# A card that 一人一卡 still expects filled: the database form of Child.missing_fields().
INCOMPLETE = (
    (Q(id_number_hash__isnull=True) & Q(student_no_hash__isnull=True))
    | Q(birth_date__isnull=True)
    | Q(village="")
    | Q(category=Category.UNKNOWN)
    | (
        Q(category__in=LEFT_BEHIND)
        & (Q(guardian__isnull=True) | Q(guardian__name="") | Q(guardian__phone=""))
    )
)


# --- terms -------------------------------------------------------------------------------------


def term_bounds(term: str) -> tuple[dt.date, dt.date]:
    """First and last day of a term (`lib.dates.term_bounds`). Raises Invalid for a malformed
    term."""
    try:
        return dates.term_bounds(term)
    except DateError as exc:
        raise Invalid({"term": str(exc)}) from None


def term_choices(today: dt.date | None = None) -> list[tuple[str, str]]:
    """This term and the next, for the assignment forms."""
    today = today or timezone.localdate()
    this = current_term(today)
    _, end = term_bounds(this)
    following = current_term(end + dt.timedelta(days=1))
    return [(t, f"{t}（{'秋季' if t.endswith('-1') else '春季'}）") for t in (this, following)]


# --- who holds which unit ----------------------------------------------------------------------


def valid_on(qs: QuerySet, on: dt.date) -> QuerySet:
    return qs.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def unit_assignments(classes: QuerySet[SchoolClass]) -> QuerySet[RoleAssignment]:
    """Grade-leader and class-teacher rows for the units of `classes` (any date)."""
    grades = classes.values_list("school_id", "grade").distinct()
    cond = Q(role=Role.CLASS_TEACHER, school_class__in=classes)
    for school_id, grade in grades:
        cond |= Q(role=Role.GRADE_LEADER, school_id=school_id, grade=grade)
    return RoleAssignment.objects.filter(cond)


def classes_taught(person: User, on: dt.date | None = None) -> QuerySet[SchoolClass]:
    """Classes the person is class teacher of on a date (default today)."""
    return SchoolClass.objects.filter(pk__in=taught_class_ids(person, on=on))


def responsible_for(person: User) -> Q:
    """The children a person answers for: named their responsible teacher, or in a class they
    teach today (`scope.my_children_q` without the children merely named to them)."""
    return my_children_q(person, named=False)


def _check_staff(user: User, school: School) -> None:
    if not school_staff(school).filter(pk=user.pk).exists():
        raise Invalid({"user": f"{user} 不是{school.name}的教职工（需先有本校的角色）"})


def _check_dates(valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if valid_from is None:
        raise Invalid({"valid_from": "请填写起始日期"})
    errors = range_errors(valid_from, valid_to, field_start="valid_from", field_end="valid_to")
    if errors:
        raise Invalid(errors)


def _overlapping(qs: QuerySet, valid_from: dt.date, valid_to: dt.date | None) -> QuerySet:
    qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        qs = qs.filter(valid_from__lte=valid_to)
    return qs


@transaction.atomic
def _assign(
    *,
    unit: Q,
    new: RoleAssignment,
    label: str,
    replace: bool,
    by: User | None,
) -> RoleAssignment:
    same_unit = RoleAssignment.objects.select_for_update().filter(unit, role=new.role)
    clash = _overlapping(same_unit, new.valid_from, new.valid_to)
    if clash.filter(user=new.user).exists():
        raise Invalid({"user": f"{new.user} 在这段时间已是{label}"})
    if replace:
        for old in clash.select_related("user").order_by("valid_from", "pk"):
            covered = new.valid_to is None or (
                old.valid_to is not None and old.valid_to <= new.valid_to
            )
            if old.valid_from >= new.valid_from and not covered:
                raise Invalid(
                    {
                        "valid_from": f"{old.user} 已被指定 {old.valid_from:%Y-%m-%d} 起任{label}，"
                        "与新指定部分重叠，请先结束该指定"
                    }
                )
            # The last day in effect is the day before the new holder starts; a holder who
            # had not started yet is left with an empty period (kept, never in effect).
            old.valid_to = new.valid_from - dt.timedelta(days=1)
            old._history_user = by
            old._change_reason = f"由 {new.user} 接任{label}"
            old.save()
    new._history_user = by
    new._change_reason = f"指定{label}"
    new.save()
    return new


def assign_grade_leader(
    *,
    school: School,
    grade: int,
    user: User,
    valid_from: dt.date,
    valid_to: dt.date | None,
    replace: bool = True,
    by: User | None,
) -> RoleAssignment:
    """Name the leader of a grade (领导包年级) for a period. With `replace`, the current
    leader's period ends the day before; without, both lead the grade."""
    _check_dates(valid_from, valid_to)
    if not school.classes.filter(grade=grade, active=True).exists():
        raise Invalid({"grade": f"{school.name}没有{grade_name(grade)}的班级"})
    _check_staff(user, school)
    return _assign(
        unit=Q(school=school, grade=grade),
        new=RoleAssignment(
            user=user,
            role=Role.GRADE_LEADER,
            school=school,
            grade=grade,
            valid_from=valid_from,
            valid_to=valid_to,
        ),
        label=f"{grade_name(grade)}负责人",
        replace=replace,
        by=by,
    )


def assign_class_teacher(
    *,
    school_class: SchoolClass,
    user: User,
    valid_from: dt.date,
    valid_to: dt.date | None,
    replace: bool = True,
    by: User | None,
) -> RoleAssignment:
    """Name the class teacher of a class (教师包班) for a period, as `assign_grade_leader`."""
    _check_dates(valid_from, valid_to)
    if not school_class.active:
        raise Invalid({"school_class": f"{school_class} 已停用"})
    _check_staff(user, school_class.school)
    return _assign(
        unit=Q(school_class=school_class),
        new=RoleAssignment(
            user=user,
            role=Role.CLASS_TEACHER,
            school=school_class.school,
            school_class=school_class,
            valid_from=valid_from,
            valid_to=valid_to,
        ),
        label=f"{school_class}班主任",
        replace=replace,
        by=by,
    )


@transaction.atomic
def end_responsibility(*, assignment: RoleAssignment, by: User | None) -> RoleAssignment:
    """End a grade-leader or class-teacher assignment today (its last day is yesterday). The
    row stays: who held which unit when is never lost."""
    ra = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    if ra.role not in UNIT_ROLES:
        raise Invalid({"assignment": "只能在这里结束年级负责人或班主任的指定"})
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    if ra.valid_to is not None and ra.valid_to <= yesterday:
        raise Invalid({"assignment": "该指定已结束"})
    ra.valid_to = yesterday
    ra._history_user = by
    ra._change_reason = "结束指定"
    ra.save()
    return ra


@transaction.atomic
def set_responsible_teacher(
    *, child: Child, teacher: User | None, by: User | None, reason: str = ""
) -> Child:
    """Name the child's responsible teacher (None clears it). The card's history records it."""
    locked = Child.objects.select_for_update().select_related("school").get(pk=child.pk)
    if teacher is not None:
        _check_staff(teacher, locked.school)
    if locked.responsible_teacher_id == (teacher.pk if teacher else None):
        return locked
    locked.responsible_teacher = teacher
    locked._history_user = by
    locked._change_reason = (reason or f"责任教师：{teacher or '（空）'}")[:100]
    locked.save(update_fields=["responsible_teacher", "updated_at"])
    return locked


@transaction.atomic
def fill_responsible_teachers(*, children: QuerySet[Child], by: User | None) -> int:
    """Give every enrolled child of `children` without a responsible teacher their class
    teacher (the default), where the class has one today. Returns how many were named."""
    today = timezone.localdate()
    teachers: dict[int, int] = {}
    rows = valid_on(RoleAssignment.objects.filter(role=Role.CLASS_TEACHER), today)
    todo = list(
        children.filter(enrolment=Enrolment.ENROLLED, responsible_teacher__isnull=True)
        .select_for_update()
        .order_by("pk")
    )
    class_ids = {c.school_class_id for c in todo}
    for ra in rows.filter(school_class_id__in=class_ids).order_by("pk"):
        teachers.setdefault(ra.school_class_id, ra.user_id)
    named = 0
    for child in todo:
        teacher_id = teachers.get(child.school_class_id)
        if teacher_id is None:
            continue
        child.responsible_teacher_id = teacher_id
        child._history_user = by
        child._change_reason = "责任教师默认为班主任"
        child.save(update_fields=["responsible_teacher", "updated_at"])
        named += 1
    return named


# --- the picture: units, holders, gaps ----------------------------------------------------------


@dataclass
class ClassRow:
    """One class with its teacher(s) today and the counts that show open work."""

    school_class: SchoolClass
    teachers: list[RoleAssignment] = field(default_factory=list)
    upcoming: list[RoleAssignment] = field(default_factory=list)
    left_behind: int = 0
    without_teacher: int = 0
    incomplete: int = 0
    drafts: int = 0
    due: int = 0  # children due or overdue for a contact (open work only)


@dataclass
class GradeRow:
    school: School
    grade: int
    leaders: list[RoleAssignment] = field(default_factory=list)
    upcoming: list[RoleAssignment] = field(default_factory=list)
    classes: list[ClassRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return grade_name(self.grade)


@dataclass
class Overview:
    """Grades and classes of the given classes, their holders today, and the gaps."""

    grades: list[GradeRow]

    @property
    def grades_without_leader(self) -> list[GradeRow]:
        return [g for g in self.grades if not g.leaders]

    @property
    def classes_without_teacher(self) -> list[ClassRow]:
        return [c for g in self.grades for c in g.classes if not c.teachers]

    @property
    def children_without_teacher(self) -> int:
        return sum(c.without_teacher for g in self.grades for c in g.classes)


def overview(
    classes: QuerySet[SchoolClass], *, children: QuerySet[Child], with_due: bool = False
) -> Overview:
    """Build the responsibility picture in a fixed number of queries: the classes, the
    assignments valid today or later, and counts of `children` (already scoped) per class;
    `with_due` also counts the children due for a contact under the frequency rules."""
    today = timezone.localdate()
    cls = list(
        classes.filter(active=True)
        .select_related("school")
        .order_by("school_id", "grade", "class_no")
    )
    ids = [c.pk for c in cls]
    rows = (
        unit_assignments(SchoolClass.objects.filter(pk__in=ids))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("user")
        .order_by("valid_from", "pk")
    )
    kids = children.filter(enrolment=Enrolment.ENROLLED, school_class_id__in=ids)
    counts = {
        r["school_class_id"]: r
        for r in kids.values("school_class_id").annotate(
            left_behind=Count("pk", filter=Q(category__in=LEFT_BEHIND)),
            without_teacher=Count(
                "pk", filter=Q(category__in=LEFT_BEHIND, responsible_teacher__isnull=True)
            ),
        )
    }
    incomplete = Counter(
        dict(
            kids.filter(INCOMPLETE)
            .values_list("school_class_id")
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        )
    )
    drafts = Counter(
        dict(
            Pair.objects.drafts()
            .filter(child__in=kids)
            .values_list("child__school_class_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    )
    due: Counter[int] = Counter()
    if with_due:
        from guanai.contacts.rules import due_items

        children_due = {(i.class_id, i.child) for i in due_items(kids, as_of=today)}
        due = Counter(class_id for class_id, _child in children_due)
    by_class: dict[int, ClassRow] = {}
    grades: dict[tuple[int, int], GradeRow] = {}
    for c in cls:
        row = ClassRow(
            school_class=c,
            left_behind=counts.get(c.pk, {}).get("left_behind", 0),
            without_teacher=counts.get(c.pk, {}).get("without_teacher", 0),
            incomplete=incomplete[c.pk],
            drafts=drafts[c.pk],
            due=due[c.pk],
        )
        by_class[c.pk] = row
        key = (c.school_id, c.grade)
        grades.setdefault(key, GradeRow(school=c.school, grade=c.grade)).classes.append(row)
    for ra in rows:
        current = ra.valid_from <= today
        if ra.role == Role.CLASS_TEACHER and ra.school_class_id in by_class:
            target = by_class[ra.school_class_id]
            (target.teachers if current else target.upcoming).append(ra)
        elif ra.role == Role.GRADE_LEADER and (ra.school_id, ra.grade) in grades:
            g = grades[(ra.school_id, ra.grade)]
            (g.leaders if current else g.upcoming).append(ra)
    return Overview(grades=list(grades.values()))


def school_gaps(schools: QuerySet[School], *, children: QuerySet[Child]) -> list[dict]:
    """Per school: grades without a leader, classes without a teacher, left-behind children
    without a responsible teacher (for the town's summary)."""
    picture = overview(SchoolClass.objects.filter(school__in=schools), children=children)
    out: dict[int, dict] = {}
    for s in schools.order_by("id"):
        out[s.pk] = {"school": s, "grades": 0, "classes": 0, "children": 0, "n_classes": 0}
    for g in picture.grades:
        entry = out.get(g.school.pk)
        if entry is None:
            continue
        entry["grades"] += 0 if g.leaders else 1
        for c in g.classes:
            entry["n_classes"] += 1
            entry["classes"] += 0 if c.teachers else 1
            entry["children"] += c.without_teacher
    return list(out.values())


# --- open work per person ----------------------------------------------------------------------


def people_overseen(viewer: User) -> QuerySet[User]:
    """Whose open work the viewer may open: themself; a grade leader the class teachers of
    their grade; a school leader the school's staff; a town administrator the town's staff."""
    if viewer.is_superuser:
        return User.objects.all()
    today = timezone.localdate()
    current = valid_on(RoleAssignment.objects.all(), today)
    cond = Q(pk=viewer.pk)
    # The staff of the units the viewer manages (a town's, a school's) …
    staff = scope.unit_q(viewer, "manage", town="school__town_id", school="school_id")
    if staff is not None and staff != Q(pk__in=[]):
        cond |= Q(pk__in=current.filter(staff).values("user_id"))
    # … and the class teachers of the grades she leads.
    teachers = scope.unit_q(
        viewer,
        "lead_grade",
        town="school_class__school__town_id",
        school="school_class__school_id",
        grade="school_class__grade",
        klass="school_class_id",
    )
    if teachers is not None and teachers != Q(pk__in=[]):
        cond |= Q(pk__in=current.filter(teachers, role=Role.CLASS_TEACHER).values("user_id"))
    return User.objects.filter(cond)


@dataclass
class OpenWork:
    """What a person still has to do: cards to complete, pair drafts to review, and for
    leaders the classes (and their teachers) they oversee."""

    person: User
    incomplete: list[Child]
    incomplete_count: int
    drafts: list[Pair]
    drafts_count: int
    without_teacher: int
    oversee: Overview | None
    # contacts due or overdue under the frequency rules: [(rule code, rule name, count)]
    due: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def due_total(self) -> int:
        return sum(n for _code, _name, n in self.due)


LIMIT = 50


def _led_classes(person: User) -> QuerySet[SchoolClass]:
    return scoped_classes(person, "lead")


def open_work(person: User, *, scope: QuerySet[Child]) -> OpenWork:
    """The person's open work among `scope` (the viewer's visible children): the children they
    are responsible for or whose class they teach."""
    mine = scope.filter(enrolment=Enrolment.ENROLLED).filter(responsible_for(person))
    incomplete = mine.filter(INCOMPLETE).distinct()
    drafts = (
        Pair.objects.drafts()
        .filter(child__in=scope)
        .filter(Q(follow_teacher=person) | Q(child__in=mine))
        .select_related("child__school_class", "buddy__school_class")
        .order_by("child__school_class__grade", "child__school_class__class_no", "pk")
    )
    led = _led_classes(person)
    return OpenWork(
        due=_due_counts(person, scope),
        person=person,
        incomplete=list(
            incomplete.select_related("school_class", "guardian").order_by(
                "school_class__grade", "school_class__class_no", "name", "pk"
            )[:LIMIT]
        ),
        incomplete_count=incomplete.count(),
        drafts=list(drafts[:LIMIT]),
        drafts_count=drafts.count(),
        without_teacher=mine.filter(
            category__in=LEFT_BEHIND, responsible_teacher__isnull=True
        ).count(),
        oversee=overview(led, children=scope, with_due=True) if led.exists() else None,
    )


def _due_counts(person: User, scope: QuerySet[Child]) -> list[tuple[str, str, int]]:
    """Contacts the person owes today, per rule: under the proxy-parent rule the children they
    are proxy parent of; under the other rules the children they are responsible for, whose
    class they teach, or whose pair they follow."""
    from guanai.contacts.rules import DEFAULT_RULES, due_items

    following = ChildAssignment.objects.filter(user=person, kind=AssignmentKind.SUBJECT_TEACHER)
    proxied = ChildAssignment.objects.filter(user=person, kind=AssignmentKind.PROXY_PARENT)
    today = timezone.localdate()
    teaches = responsible_for(person) | Q(pk__in=valid_on(following, today).values("child_id"))
    owed = set(scope.filter(teaches).values_list("pk", flat=True))
    concerned = scope.filter(teaches | Q(pk__in=valid_on(proxied, today).values("child_id")))
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for item in due_items(concerned, as_of=today):
        if item.proxy_user_id == person.pk or (item.proxy_user_id is None and item.child in owed):
            counts[item.rule] += 1
            names[item.rule] = item.rule_name
    order = {r.code: i for i, r in enumerate(DEFAULT_RULES)}
    return [(code, names[code], n) for code, n in sorted(counts.items(), key=lambda x: order[x[0]])]


def holders_by_user(rows: list[RoleAssignment]) -> dict[int, list[RoleAssignment]]:
    out: dict[int, list[RoleAssignment]] = defaultdict(list)
    for ra in rows:
        out[ra.user_id].append(ra)
    return out
