"""Inspection workflows shared by the pages, the API and the demo loader: draw the sample, move
the inspection along, the town's checklist, who may inspect, and what people see on their home
page. Findings and corrections are in findings.py, 整改 items in rectifications.py, files on
checklist items and 整改 items in attachments.py."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import RoleAssignment, User
from guanai.children.models import LEFT_BEHIND, Child, Enrolment
from guanai.lib.errors import Invalid
from guanai.org.models import School

from . import sampling
from .findings import accuracy
from .models import (
    DEFAULT_CHECKLIST,
    ChecklistItem,
    ChecklistTemplateItem,
    Correction,
    FindingCheck,
    Inspection,
    ItemStatus,
    Rectification,
    Status,
)

MAX_SAMPLE = 10_000
NEXT_STATUS = {
    Status.PLANNED: Status.IN_PROGRESS,
    Status.IN_PROGRESS: Status.REPORTED,
    Status.REPORTED: Status.CLOSED,
}


def eligible_children(*, school: School) -> list[tuple[int, int]]:
    """The school's enrolled 单留守/双留守 children now, as [(id, grade)] ordered by id."""
    rows = (
        Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED, category__in=LEFT_BEHIND)
        .order_by("id")
        .values_list("id", "school_class__grade")
    )
    return [(pk, grade) for pk, grade in rows]


def town_checklist(town) -> list[ChecklistTemplateItem]:
    """The town's checklist template, created from the default items the first time."""
    items = list(ChecklistTemplateItem.objects.filter(town=town, active=True))
    if not items and not ChecklistTemplateItem.objects.filter(town=town).exists():
        items = ChecklistTemplateItem.objects.bulk_create(
            ChecklistTemplateItem(town=town, title=t, position=i)
            for i, t in enumerate(DEFAULT_CHECKLIST)
        )
    return items


@transaction.atomic
def create_inspection(
    *,
    school: School,
    planned_on: dt.date,
    sample_size: int,
    by,
    seed: str | None = None,
    previous: Inspection | None = None,
    inspectors: list | None = None,
) -> Inspection:
    """Plan an inspection and draw its sample now, from today's eligible children; the seed
    (a fresh one unless given) and the list are stored so anyone can re-derive the sample.
    `inspectors` (town administrators and 督导员 of the school's town; None: the one planning
    it) and `previous` (an earlier inspection of the same school, for a re-inspection)."""
    check_team(school=school, inspectors=inspectors, previous=previous)
    if sample_size < 1:
        raise Invalid({"sample_size": "抽样人数必须大于 0"})
    if sample_size > MAX_SAMPLE:
        raise Invalid({"sample_size": f"抽样人数不能超过 {MAX_SAMPLE}"})
    seed = (seed or "").strip() or sampling.new_seed()
    if len(seed) > 100:
        raise Invalid({"seed": "随机种子不能超过 100 个字符"})
    eligible = eligible_children(school=school)
    inspection = Inspection.objects.create(
        school=school,
        planned_on=planned_on,
        seed=seed,
        sample_size=sample_size,
        drawn_on=timezone.localdate(),
        eligible=[[pk, grade] for pk, grade in eligible],
        sample=sampling.draw(seed, eligible, sample_size),
        created_by=by,
        previous=previous,
    )
    if inspectors is not None:
        inspection.inspectors.set(inspectors)
    elif by is not None:
        inspection.inspectors.add(by)
    ChecklistItem.objects.bulk_create(
        ChecklistItem(inspection=inspection, title=t.title, position=t.position)
        for t in town_checklist(school.town)
    )
    return inspection


def town_inspectors(town) -> QuerySet:
    """People who may inspect the town's schools today: holders of a role the `inspect` action
    admits (town administrators, 督导员) over the town, by name."""
    today = timezone.localdate()
    ras = RoleAssignment.objects.filter(
        role__in=scope.ROLES_FOR_ACTION["inspect"], town=town, valid_from__lte=today
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return User.objects.filter(is_active=True, pk__in=ras.values("user_id")).order_by(
        "display_name", "username"
    )


def check_team(
    *,
    school: School,
    inspectors: list | None,
    previous: Inspection | None,
    inspection: Inspection | None = None,
) -> None:
    """The inspectors must inspect the school's town; the earlier inspection must be one of the
    same school (and not this one). Raises Invalid."""
    errors = {}
    if inspectors is not None:
        if not inspectors:
            errors["inspectors"] = "请至少选择一名检查人员"
        allowed = set(town_inspectors(school.town).values_list("pk", flat=True))
        if outside := [u for u in inspectors if u.pk not in allowed]:
            errors["inspectors"] = f"{outside[0]} 不是本镇的镇管理员或督导员，不能担任检查人员"
    if previous is not None:
        if previous.school_id != school.pk:
            errors["previous"] = "上次检查应为同一所学校的检查"
        elif inspection is not None and previous.pk == inspection.pk:
            errors["previous"] = "上次检查不能是本次检查"
        elif inspection is not None and previous.pk > inspection.pk:
            errors["previous"] = "上次检查应早于本次检查"
    if errors:
        raise Invalid(errors)


@transaction.atomic
def update_inspection(
    *,
    inspection: Inspection,
    by,
    planned_on: dt.date | None = None,
    inspectors: list | None = None,
    previous: Inspection | None | bool = False,
    meeting_attendees: str | None = None,
    meeting_points: str | None = None,
) -> Inspection:
    """Change what may change after the draw — the date, the inspectors, the earlier inspection
    (`previous` False: unchanged, None: none), the meeting record; never the sample. A closed
    inspection stays as it is."""
    if inspection.status == Status.CLOSED:
        raise Invalid({"status": "已结束的检查不能再修改"})
    check_team(
        school=inspection.school,
        inspectors=inspectors,
        previous=previous or None,
        inspection=inspection,
    )
    fields = ["updated_at"]
    if planned_on is not None:
        inspection.planned_on = planned_on
        fields.append("planned_on")
    if previous is not False:
        inspection.previous = previous
        fields.append("previous")
    if meeting_attendees is not None:
        inspection.meeting_attendees = meeting_attendees.strip()[:2000]
        fields.append("meeting_attendees")
    if meeting_points is not None:
        inspection.meeting_points = meeting_points.strip()[:4000]
        fields.append("meeting_points")
    inspection.save(update_fields=fields)
    if inspectors is not None:
        inspection.inspectors.set(inspectors)
    return inspection


def compare_with_previous(inspection: Inspection) -> dict[str, Any] | None:
    """For a re-inspection: the earlier one's accuracy and this one's, and the earlier items
    not yet closed (None when there is no earlier inspection)."""
    previous = inspection.previous
    if previous is None:
        return None

    def percent(rate):
        return "" if rate is None else f"{rate * 100:.1f}%"

    then, now = accuracy(previous)["rate"], accuracy(inspection)["rate"]
    return {
        "previous": previous,
        "then": percent(then),
        "now": percent(now),
        "change": "" if then is None or now is None else f"{(now - then) * 100:+.1f}",
        "open_items": list(
            previous.rectifications.exclude(status=ItemStatus.CLOSED)
            .select_related("owner")
            .order_by("due_on", "id")
        ),
    }


def reproduced(inspection: Inspection) -> bool:
    """Whether the stored sample is the draw of the stored seed and list."""
    eligible = [(int(pk), int(grade)) for pk, grade in inspection.eligible]
    return sampling.draw(inspection.seed, eligible, inspection.sample_size) == inspection.sample


@transaction.atomic
def advance(*, inspection: Inspection, to: str, by) -> Inspection:
    """Move the inspection one step: planned → in progress → reported → closed."""
    if NEXT_STATUS.get(inspection.status) != to:
        raise Invalid({"status": f"不能从“{inspection.get_status_display()}”改为这个状态"})
    inspection.status = to
    inspection.save(update_fields=["status", "updated_at"])
    return inspection


def check_inspect(user) -> None:
    """403 unless the user's role may inspect at all (town administrators and inspectors)."""
    if not (user.is_superuser or scope.units(user, "inspect")):
        raise PermissionDenied("只有镇管理员和督导员可以进行督导检查")


# --- what people see on their home page and the town's overview --------------------------------


def open_by_school(user) -> list[dict[str, Any]]:
    """Open and done-but-not-closed items of the schools the user inspects, per school: how many,
    how many overdue, and the age in days of the oldest (the town's follow-up view)."""
    today = timezone.localdate()
    schools = scope.schools(user, "inspect")
    rows: dict[int, dict[str, Any]] = {}
    items = Rectification.objects.filter(school__in=schools).exclude(status=ItemStatus.CLOSED)
    for item in items.select_related("school").order_by("school__code", "created_at"):
        row = rows.setdefault(
            item.school_id,
            {"school": item.school, "open": 0, "done": 0, "overdue": 0, "oldest_days": 0},
        )
        row["open" if item.status == ItemStatus.OPEN else "done"] += 1
        if item.status == ItemStatus.OPEN and item.due_on < today:
            row["overdue"] += 1
        age = (today - timezone.localtime(item.created_at).date()).days
        row["oldest_days"] = max(row["oldest_days"], age)
    return list(rows.values())


def home_panel(user) -> dict[str, Any]:
    """The inspection part of a person's 我的待办: the open items she owns (overdue first) and
    the corrections waiting for her decision."""
    today = timezone.localdate()
    mine = list(
        Rectification.objects.filter(owner=user, status=ItemStatus.OPEN)
        .select_related("school")
        .order_by("due_on", "id")[:10]
    )
    corrections = FindingCheck.objects.filter(
        finding__child__in=Child.objects.visible_to(user, "change"),
        correction=Correction.PROPOSED,
    ).count()
    return {"items": mine, "corrections": corrections, "today": today}


@transaction.atomic
def set_town_checklist(*, town, titles: list[str]) -> list[ChecklistTemplateItem]:
    """Replace the town's checklist template by `titles` in order (one per item): kept titles
    stay, new ones are added, dropped ones are switched off (inspections already made keep
    their own copy)."""
    titles = list(dict.fromkeys(t.strip() for t in titles if t.strip()))
    if not titles:
        raise Invalid({"titles": "检查项目至少要有一项"})
    if too_long := [t for t in titles if len(t) > 100]:
        raise Invalid({"titles": f"检查项目最多 100 个字：“{too_long[0][:20]}…”"})
    town_checklist(town)  # the defaults first, so that dropping one of them is remembered
    existing = {i.title: i for i in ChecklistTemplateItem.objects.filter(town=town)}
    for item in existing.values():
        item.active = False
    for position, title in enumerate(titles):
        item = existing.get(title) or ChecklistTemplateItem(town=town, title=title)
        item.position, item.active = position, True
        existing[title] = item
        item.save()
    ChecklistTemplateItem.objects.bulk_update(existing.values(), ["active", "position"])
    return [existing[t] for t in titles]
