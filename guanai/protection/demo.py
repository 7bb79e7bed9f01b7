"""Child protection in the demo town: a report of suspected harm awaiting its outcome on 刘校长's
home page (and one closed), a dropout case in 劝返, and a child whose grandmother can no longer
care for him (a guardian alert). Called once by the demo loader after the cards and users exist:
`guanai.protection.demo.load_demo_protection()`."""

import datetime as dt
import random
from collections.abc import Callable

from django.utils import timezone

from guanai.accounts.models import User
from guanai.children.models import Child, Enrolment, Guardian

from .models import DropoutAttempt, DropoutCase, Incident, IncidentFollowUp


def load_demo_protection(
    *, seed: int = 20261129, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Needs the demo users zx_teacher31 and zx_leader; does nothing without them."""
    users = {u.username: u for u in User.objects.filter(username__in=["zx_teacher31", "zx_leader"])}
    teacher, leader = users.get("zx_teacher31"), users.get("zx_leader")
    if teacher is None or leader is None:
        return {"incidents": 0, "cases": 0, "alerts": 0}
    if progress:
        progress("儿童保护：强制报告、控辍保学、监护缺失提醒")
    rng = random.Random(seed)
    class_id = teacher.role_assignments.filter(school_class__isnull=False).first().school_class_id
    kids = list(
        Child.objects.filter(school_class_id=class_id, enrolment=Enrolment.ENROLLED).order_by("pk")
    )
    rng.shuffle(kids)
    if len(kids) < 4:
        return {"incidents": 0, "cases": 0, "alerts": 0}
    now = timezone.now()
    today = timezone.localdate()
    Incident.objects.create(
        child=kids[0],
        filed_by=teacher,
        filed_at=now - dt.timedelta(days=2),
        observed_at=now - dt.timedelta(days=2, hours=3),
        source="child",
        harm_kind="physical",
        what="孩子手臂上有几处淤青，说是喝醉酒的叔叔打的，不敢回家。",
        told=["police", "education"],
        told_at=now - dt.timedelta(days=2, hours=-1),
        receipt_no="祁公(虎)受字 2026-118",
    )
    closed = Incident.objects.create(
        child=kids[1],
        filed_by=teacher,
        filed_at=now - dt.timedelta(days=40),
        observed_at=now - dt.timedelta(days=40, hours=2),
        source="seen",
        harm_kind="neglect",
        what="连续一周穿同一件湿衣服来校，说家里没人做饭。",
        told=["civil"],
        told_at=now - dt.timedelta(days=39),
        outcome="村儿童主任上门核实，民政已落实临时救助，姑姑接回照看。",
        outcome_at=now - dt.timedelta(days=30),
    )
    IncidentFollowUp.objects.create(
        incident=closed,
        on=today - dt.timedelta(days=20),
        note="家访：孩子已住姑姑家，衣食正常。",
        by=leader,
    )
    case = DropoutCase.objects.create(
        child=kids[2],
        absent_since=today - dt.timedelta(days=12),
        absent_days=8,
        reason_asked="家长说孩子不想读书，想跟亲戚外出打工。",
        opened_by=teacher,
    )
    DropoutAttempt.objects.create(
        case=case,
        on=today - dt.timedelta(days=7),
        by="王老师、村主任",
        with_whom="祖父",
        result="祖父答应劝孩子回校，孩子仍未到校。",
        recorded_by=teacher,
    )
    # The grandmother of a double left-behind child fell ill: no adult able to care.
    alone = next((k for k in kids[3:] if k.category == "double" and hasattr(k, "guardian")), None)
    if alone is not None:
        Guardian.objects.filter(child=alone).update(capacity="poor", health="重病卧床")
    return {"incidents": 2, "cases": 1, "alerts": int(alone is not None)}
