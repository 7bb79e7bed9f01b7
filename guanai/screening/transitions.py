"""动态管理: transfers between schools and the school-year roll-over, done on purpose, dated, with
a reason, keeping every record; and the counts of a school on any past date.

Each change is written twice: on the card (so simple-history keeps who, when and why, and the
history follows the child to the new school) and as a dated `Transition` row, whose `on` is when
the change took effect. Counts for a past date are rebuilt from those rows.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from guanai.accounts.models import Role, RoleAssignment
from guanai.children.classification import ParentFacts, classify
from guanai.children.models import Child, ChildAssignment, Enrolment, Parent
from guanai.children.signals import child_leaves_pairs
from guanai.children.validation import CardInvalid
from guanai.lib.grades import grade_name
from guanai.lib.text import clean
from guanai.org.models import School, SchoolClass

from .models import Rollover, Transition, TransitionKind

# A school's top grade is the end of its stage: 小学 6, 初中 9, 高中 12.
STAGE_ENDS = (6, 9, 12)


def _end_pairs(child: Child, by, reason: str) -> None:
    """Pairs (结对) are within one school: a child who leaves it leaves their pair."""
    child_leaves_pairs.send(sender=Child, child=child, by=by, reason=reason)


def _end_assignments(child: Child, on: dt.date) -> None:
    """Proxy parents and following teachers stay with the old school: their assignments end."""
    for a in ChildAssignment.objects.filter(child=child).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=on)
    ):
        a.valid_to = max(on, a.valid_from)
        a._change_reason = "儿童转学，分配结束"
        a.save()


@transaction.atomic
def transfer_child(
    *,
    child: Child,
    to_school: School | None,
    to_class: SchoolClass | None,
    by,
    reason: str,
    on: dt.date | None,
) -> Child:
    """Transfer an enrolled child to another school of the town (`to_school`, `to_class`), or out
    of the town (`to_school=None`: enrolment becomes 已转出). Dated `on` (not in the future) with
    a reason; the card keeps its history. Raises CardInvalid naming the field."""
    errors: dict[str, str] = {}
    reason = clean(reason)
    if not reason:
        errors["reason"] = "请填写转学原因"
    elif len(reason) > 200:
        errors["reason"] = "转学原因不能超过 200 个字"
    today = timezone.localdate()
    locked = (
        Child.objects.select_for_update().select_related("school", "school_class").get(pk=child.pk)
    )
    if on is None:
        errors["on"] = "请填写转学日期"
    elif on > today:
        errors["on"] = "转学日期不能晚于今天"
    else:
        last = locked.transitions.order_by("-on").values_list("on", flat=True).first()
        if last and on < last:
            errors["on"] = f"转学日期不能早于上一次学籍变动（{last:%Y-%m-%d}）"
    if locked.enrolment != Enrolment.ENROLLED:
        errors["child"] = f"只能为在读学生办理转学（当前状态：{locked.get_enrolment_display()}）"
    if to_school is None:
        if to_class is not None:
            errors["to_class"] = "转出本镇时不选班级"
    elif to_school.pk == locked.school_id:
        errors["to_school"] = "该学生已在本校；调班请在档卡中修改班级"
    elif to_school.town_id != locked.school.town_id:
        errors["to_school"] = "只能转到本镇的学校；转到外镇请选择“转出本镇”"
    elif not to_school.active:
        errors["to_school"] = f"{to_school.name}已停用"
    elif to_class is None:
        errors["to_class"] = "请选择转入的班级"
    elif to_class.school_id != to_school.pk:
        errors["to_class"] = f"所选班级不属于{to_school.name}"
    if errors:
        raise CardInvalid(errors)
    assert on is not None
    from_school, from_class, from_enrolment = locked.school, locked.school_class, locked.enrolment
    if to_school is None:
        kind = TransitionKind.TRANSFER_OUT
        locked.enrolment = Enrolment.TRANSFERRED
        target_school, target_class = from_school, from_class
        text = f"转出本镇（{on:%Y-%m-%d}，原{from_school.name}{from_class}）：{reason}"
    else:
        assert to_class is not None
        kind = TransitionKind.TRANSFER
        locked.school, locked.school_class = to_school, to_class
        locked.responsible_teacher = None  # the new school names one
        target_school, target_class = to_school, to_class
        text = (
            f"转学（{on:%Y-%m-%d}）：{from_school.name}{from_class} → "
            f"{to_school.name}{to_class}：{reason}"
        )
    locked.version += 1
    locked._history_user = by
    locked._change_reason = text[:100]
    locked.save()
    _end_assignments(locked, on)
    _end_pairs(locked, by, "转出本镇" if to_school is None else f"转学到{to_school.name}")
    Transition.objects.create(
        child=locked,
        kind=kind,
        on=on,
        from_school=from_school,
        to_school=target_school,
        from_class=from_class,
        to_class=target_class,
        from_enrolment=from_enrolment,
        to_enrolment=locked.enrolment,
        reason=reason,
        by=by,
    )
    return locked


def placement_timeline(child: Child) -> list[dict[str, Any]]:
    """The child's dated transitions, oldest first: [{"on", "kind", "label", "text", "by"}]."""
    out = []
    for t in child.transitions.select_related(
        "from_school", "to_school", "from_class", "to_class", "by"
    ).order_by("on", "id"):
        if t.kind == TransitionKind.TRANSFER:
            text = f"{t.from_school.name}{t.from_class} → {t.to_school.name}{t.to_class}"
        elif t.kind == TransitionKind.TRANSFER_OUT:
            text = f"从{t.from_school.name}转出本镇"
        elif t.kind == TransitionKind.GRADUATE:
            text = f"从{t.from_school.name}{t.from_class}毕业"
        else:
            text = f"{t.from_class} → {t.to_class}"
        out.append(
            {
                "on": t.on,
                "kind": t.kind,
                "label": t.get_kind_display(),
                "text": text,
                "reason": t.reason,
                "by": str(t.by) if t.by else "系统",
            }
        )
    return out


# --- counts on a past date -------------------------------------------------------------------


def _placement_on(child: Child, events: list[Transition], on: dt.date) -> tuple[int, int, str]:
    """(school_id, class_id, enrolment) on a date: undo the transitions that took effect later."""
    state = (child.school_id, child.school_class_id, child.enrolment)
    for t in sorted(events, key=lambda e: (e.on, e.pk), reverse=True):
        if t.on <= on:
            break
        state = (t.from_school_id, t.from_class_id, t.from_enrolment)
    return state


def _classify_on(child: Child, records: list, on: dt.date):
    """classification_on() for records already fetched (same selection rule)."""
    best: dict[str, tuple] = {}
    for rec in records:
        if rec.history_type == "-" or rec.effective_from > on:
            continue
        key = (rec.effective_from, rec.history_date)
        if rec.relation not in best or key >= best[rec.relation][0]:
            best[rec.relation] = (key, ParentFacts(rec.status, rec.away_since))
    facts = {"father": ParentFacts(""), "mother": ParentFacts("")}
    facts.update({relation: f for relation, (_k, f) in best.items()})
    return classify(
        father=facts["father"],
        mother=facts["mother"],
        is_migrant=child.is_migrant,
        hukou=child.hukou,
        birth_date=child.birth_date,
        on=on,
        away_months=settings.GUANAI_AWAY_MONTHS,
        civil_age=settings.GUANAI_CIVIL_AFFAIRS_AGE,
    )


def school_counts_on(*, school: School, on: dt.date, children=None) -> dict[str, Any]:
    """The school's enrolled children on a date, by category, 民政 count and grade, rebuilt from
    the dated transitions and the parents' dated history. `children` narrows the candidates (a
    user's scope: `Child.objects.visible_to(user)`)."""
    base = Child.objects.all() if children is None else children
    moved = Transition.objects.filter(Q(from_school=school) | Q(to_school=school))
    candidates = list(
        base.filter(Q(school=school) | Q(pk__in=moved.values("child_id")))
        .filter(created_at__date__lte=on)
        .prefetch_related("transitions")
        .distinct()
    )
    present: list[tuple[Child, int]] = []
    for child in candidates:
        school_id, class_id, enrolment = _placement_on(child, list(child.transitions.all()), on)
        if school_id == school.pk and enrolment == Enrolment.ENROLLED:
            present.append((child, class_id))
    grades = dict(
        SchoolClass.objects.filter(pk__in={c for _ch, c in present}).values_list("pk", "grade")
    )
    records: dict[int, list] = defaultdict(list)
    ids = [ch.pk for ch, _c in present]
    for i in range(0, len(ids), 900):
        for rec in Parent.history.filter(child_id__in=ids[i : i + 900]).order_by(
            "history_date", "history_id"
        ):
            records[rec.child_id].append(rec)
    out: dict[str, Any] = {
        "on": on,
        "school": school.code,
        "enrolled": len(present),
        "categories": dict.fromkeys(("single", "double", "migrant", "none", "unknown"), 0),
        "left_behind": 0,
        "civil_affairs": 0,
        "grades": {},
    }
    for child, class_id in present:
        result = _classify_on(child, records[child.pk], on)
        out["categories"][result.category] += 1
        out["left_behind"] += result.category in ("single", "double")
        out["civil_affairs"] += result.civil_affairs
        grade = grades[class_id]
        out["grades"][grade] = out["grades"].get(grade, 0) + 1
    out["grades"] = dict(sorted(out["grades"].items()))
    return out


# --- school-year roll-over -------------------------------------------------------------------


def school_year_of(on: dt.date) -> str:
    """The school year a roll-over on this date enters: from June on, the one starting that
    autumn ('2027-2028' for 2027-07-10); earlier, the one already running."""
    start = on.year if on.month >= 6 else on.year - 1
    return f"{start}-{start + 1}"


def default_top_grade(school: School) -> int:
    """The end of the school's stage: the first of 6 / 9 / 12 at or above its highest grade."""
    highest = max(
        SchoolClass.objects.filter(school=school, active=True).values_list("grade", flat=True),
        default=6,
    )
    return next((end for end in STAGE_ENDS if end >= highest), 12)


def _classes_in_use(school: School) -> list[SchoolClass]:
    with_children = Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED).values(
        "school_class_id"
    )
    return list(
        SchoolClass.objects.filter(school=school)
        .filter(Q(active=True) | Q(pk__in=with_children))
        .order_by("-grade", "class_no")
    )


def rollover_preview(*, school: School, top_grade: int | None = None) -> dict[str, Any]:
    """What a roll-over would do, per grade: classes, children, and where they go."""
    top = top_grade if top_grade is not None else default_top_grade(school)
    counts: dict[int, int] = defaultdict(int)
    for grade in Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED).values_list(
        "school_class__grade", flat=True
    ):
        counts[grade] += 1
    classes: dict[int, int] = defaultdict(int)
    for c in _classes_in_use(school):
        classes[c.grade] += 1
    rows = []
    for grade in sorted(set(counts) | set(classes)):
        graduating = grade >= top
        rows.append(
            {
                "grade": grade,
                "name": grade_name(grade),
                "classes": classes.get(grade, 0),
                "children": counts.get(grade, 0),
                "graduating": graduating,
                "to": "毕业" if graduating else grade_name(grade + 1),
            }
        )
    done = Rollover.objects.filter(school=school).order_by("-id").first()
    return {
        "school": school.code,
        "top_grade": top,
        "grades": rows,
        "promoted": sum(r["children"] for r in rows if not r["graduating"]),
        "graduated": sum(r["children"] for r in rows if r["graduating"]),
        "last": done,
    }


def _move_class_teachers(
    source: SchoolClass, target: SchoolClass | None, on: dt.date, by
) -> list[str]:
    """End the class teachers of `source` the day before `on`; carry them to `target`."""
    moved = []
    current = RoleAssignment.objects.filter(
        role=Role.CLASS_TEACHER, school_class=source, valid_from__lte=on
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    for ra in current.select_related("user"):
        ra.valid_to = on - dt.timedelta(days=1)
        ra._history_user = by
        ra._change_reason = "学年升级"
        ra.save()
        if target is not None:
            new = RoleAssignment(
                user=ra.user,
                role=Role.CLASS_TEACHER,
                school=target.school,
                school_class=target,
                valid_from=on,
            )
            new._history_user = by
            new._change_reason = f"学年升级：随班从{source}升到{target}，请核对"
            new.save()
            moved.append(str(ra.user))
    return moved


@transaction.atomic
def roll_over_school(
    *,
    school: School,
    by,
    on: dt.date | None = None,
    top_grade: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Rollover:
    """Enter a new school year: every class promoted one grade (children move to class
    (grade+1, same number), created if absent, with their class teachers), the top grade
    graduated (已毕业, still in their class). Responsible teachers are kept for review. Every
    change is dated, kept in history and as a Transition. Once per school and school year."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise CardInvalid({"on": "升级日期不能晚于今天"})
    top = top_grade if top_grade is not None else default_top_grade(school)
    if top not in range(1, 13):
        raise CardInvalid({"top_grade": "毕业年级应在 1 到 12 之间"})
    year = school_year_of(on)
    School.objects.select_for_update().filter(pk=school.pk).first()
    earlier = Rollover.objects.filter(school=school, school_year=year).first()
    if earlier is not None:
        raise CardInvalid(
            {"school": f"{school.name}已在 {earlier.on:%Y-%m-%d} 升级到 {year} 学年，不能重复升级"}
        )
    classes = _classes_in_use(school)
    children = list(
        Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED).select_related(
            "school_class"
        )
    )
    by_class: dict[int, list[Child]] = defaultdict(list)
    for child in children:
        by_class[child.school_class_id].append(child)
    for cls in {c.school_class for c in children}:
        if cls not in classes:
            classes.append(cls)
    classes.sort(key=lambda c: (-c.grade, c.class_no))
    total = len(children)
    done = 0
    summary: dict[str, Any] = {"promoted": 0, "graduated": 0, "classes": [], "grades": {}}
    transitions: list[Transition] = []
    for cls in classes:
        kids = by_class.get(cls.pk, [])
        if cls.grade >= top:
            target = None
            for kid in kids:
                kid.enrolment = Enrolment.GRADUATED
                kid._change_reason = f"学年升级：{cls}毕业（{on:%Y-%m-%d}）"
                _end_pairs(kid, by, "毕业")
            summary["graduated"] += len(kids)
        else:
            target, created = SchoolClass.objects.get_or_create(
                school=school, grade=cls.grade + 1, class_no=cls.class_no
            )
            if not created and not target.active:
                target.active = True
                target.save(update_fields=["active"])
            for kid in kids:
                kid.school_class = target
                kid._change_reason = f"学年升级：{cls} → {target}（{on:%Y-%m-%d}）"
            summary["promoted"] += len(kids)
        for kid in kids:
            kid.version += 1
            kid._history_user = by
            transitions.append(
                Transition(
                    child=kid,
                    kind=TransitionKind.GRADUATE if target is None else TransitionKind.PROMOTE,
                    on=on,
                    from_school=school,
                    to_school=school,
                    from_class=cls,
                    to_class=target or cls,
                    from_enrolment=Enrolment.ENROLLED,
                    to_enrolment=kid.enrolment,
                    reason=f"{year} 学年升级",
                    by=by,
                )
            )
        if kids:
            bulk_update_with_history(
                kids,
                Child,
                ["school_class", "enrolment", "version"],
                batch_size=500,
                default_user=by,
            )
        teachers = _move_class_teachers(cls, target, on, by)
        summary["classes"].append(
            {
                "from": str(cls),
                "to": str(target) if target else "毕业",
                "children": len(kids),
                "class_teachers": teachers,
                "responsible_teachers": sum(1 for k in kids if k.responsible_teacher_id),
            }
        )
        summary["grades"][str(cls.grade)] = summary["grades"].get(str(cls.grade), 0) + len(kids)
        done += len(kids)
        if progress:
            progress(done, total, f"已处理 {cls}")
    Transition.objects.bulk_create(transitions, batch_size=500)
    return Rollover.objects.create(
        school=school, school_year=year, on=on, top_grade=top, by=by, summary=summary
    )


__all__ = [
    "default_top_grade",
    "placement_timeline",
    "roll_over_school",
    "rollover_preview",
    "school_counts_on",
    "school_year_of",
    "transfer_child",
]
