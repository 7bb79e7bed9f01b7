"""The demo town's inspection (SPEC §6.4): 板桥小学 inspected by the town's 督导员, in progress,
with findings for a few sampled children and two open 整改 items. Called once by the demo
loader after the children exist: `guanai.inspections.demo.load()`."""

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.org.models import School

from . import rectifications, services
from .findings import record_finding
from .models import Inspection, Status

SEED = "虎山镇督导-板桥"
# What the visits found, per sampled child in the sample's order: (field, correct, found).
VISITS = [
    [
        ("address", True, ""),
        ("guardian", True, ""),
        ("guardian_phone", True, ""),
        ("father_status", True, ""),
        ("mother_status", True, ""),
        ("category", True, ""),
    ],
    [
        ("address", True, ""),
        ("guardian", True, ""),
        ("guardian_phone", False, "13873912345"),
        ("father_status", True, ""),
        ("mother_status", True, ""),
        ("category", True, ""),
    ],
    [
        ("address", False, "板桥村五组 12 号"),
        ("guardian", True, ""),
        ("guardian_phone", True, ""),
        ("father_status", True, ""),
        ("mother_status", True, ""),
        ("work_place", True, ""),
    ],
]
SCORES = {
    "活动方案": (9, "方案齐全，有分工"),
    "领导汇报": (8, "赵校长汇报本学期工作"),
    "教师座谈": (8, "12 位班主任参加"),
    "台账完整": (6, "家访记录缺 3 个班"),
}


@transaction.atomic
def load(*, progress: Callable[[str], None] | None = None) -> dict:
    """Add the demo inspection of HS-BQ (once: a second call adds nothing)."""
    school = School.objects.get(code="HS-BQ")
    if Inspection.objects.filter(school=school).exists():
        return {"inspections": 0}
    inspector = User.objects.get(username="inspector")
    leader = User.objects.get(username="bq_leader")
    today = timezone.localdate()
    team = [inspector, *User.objects.filter(username="town")]  # 督导员 and 镇管理员
    inspection = services.create_inspection(
        school=school, planned_on=today, sample_size=12, seed=SEED, by=inspector, inspectors=team
    )
    services.advance(inspection=inspection, to=Status.IN_PROGRESS, by=inspector)
    for item in inspection.checklist.all():
        if item.title in SCORES:
            item.score, item.notes = SCORES[item.title]
            item.save(update_fields=["score", "notes"])
    inspection.meeting_attendees = "赵校长、各班班主任"
    inspection.meeting_points = "希望镇里统一家访记录表；部分家长电话经常更换"
    inspection.save(update_fields=["meeting_attendees", "meeting_points"])
    children = Child.objects.in_bulk(inspection.sample)
    findings = []
    for child_id, checks in zip(inspection.sample, VISITS, strict=False):
        findings.append(
            record_finding(
                inspection=inspection,
                child=children[child_id],
                visited=True,
                met_whom="祖母",
                checks=[{"field": f, "correct": ok, "found": found} for f, ok, found in checks],
                by=inspector,
            )
        )
    due = today + dt.timedelta(days=14)
    rectifications.raise_item(
        inspection=inspection,
        school=school,
        title="补齐三个班本学期的家访记录",
        owner=leader,
        due_on=due,
        by=inspector,
    )
    rectifications.raise_item(
        inspection=inspection,
        school=school,
        title="核实并更新监护人联系电话",
        owner=leader,
        due_on=due,
        by=inspector,
        finding=findings[1] if len(findings) > 1 else None,
    )
    if progress:
        progress(f"  督导检查：板桥小学，抽样 {len(inspection.sample)} 人，走访 {len(findings)} 人")
    return {"inspections": 1, "findings": len(findings), "items": 2}
