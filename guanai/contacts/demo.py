"""A term of contacts for the demo town: visits, calls, family calls, messages, follow-ups and
the term's 普访 round."""

import datetime as dt
import random
from collections.abc import Callable

from django.utils import timezone

from guanai.accounts.models import Role, RoleAssignment, User
from guanai.children.models import LEFT_BEHIND, AssignmentKind, Child, ChildAssignment
from guanai.lib.dates import current_term, term_bounds
from guanai.org.models import Town

from .models import Contact, ContactKind, VisitRound
from .rules import SHANGHAI

FINDINGS = {
    "study": ["作业基本按时完成", "数学较吃力，已安排同学帮助", "上课注意力不集中", "成绩稳定"],
    "life": ["祖母照顾周到，饭菜正常", "衣着单薄，已提醒添衣", "家里卫生较差", "作息规律"],
    "psych": ["性格开朗", "想念父母，偶尔哭闹", "较内向，话少", "情绪稳定"],
    "safety": ["家门口有水塘，已叮嘱", "放学路上要过公路", "用电安全已讲解", "无明显隐患"],
}
WHO = ["祖母", "祖父", "外祖母", "外祖父", "母亲", "父亲"]


def _moment(rng: random.Random, start: dt.date, end: dt.date) -> dt.datetime:
    """A daytime moment between two days, never later than now (the demo loads at any hour)."""
    day = start + dt.timedelta(days=rng.randrange(max((end - start).days, 1) + 1))
    moment = dt.datetime.combine(
        day, dt.time(rng.randint(8, 20), rng.choice([0, 15, 30, 45])), SHANGHAI
    )
    return min(moment, timezone.now() - dt.timedelta(minutes=rng.randint(5, 60)))


CALL_NOTES = [
    "询问孩子近况，提醒按时完成作业。",
    "监护人说孩子在家表现好，身体健康。",
    "提醒注意防溺水和交通安全。",
    "告知近期学校活动安排。",
]


def _visit(rng: random.Random, child: Child, by: User, when: dt.datetime) -> Contact:
    contact = Contact(
        child=child, by=by, kind=ContactKind.HOME_VISIT, at=when, with_whom=rng.choice(WHO)
    )
    for area, texts in FINDINGS.items():
        if rng.random() < 0.8:
            level = rng.choices(["normal", "watch", "follow_up"], [0.7, 0.22, 0.08])[0]
            setattr(contact, f"{area}_level", level)
            setattr(contact, f"{area}_text", rng.choice(texts))
    contact.notes = rng.choice(
        [
            "与监护人交流孩子在校表现，宣传防溺水知识。",
            "了解家庭近况，父母春节回家。",
            "送去学习用品，叮嘱按时作息。",
        ]
    )
    return contact


def load_demo_contacts(
    *, seed: int = 20261129, progress: Callable[[str], None] | None = None
) -> int:
    """About three months of contacts for the left-behind children of the demo town, and a few
    open follow-ups on 王老师's home page. Written with bulk_create (a few seconds)."""
    rng = random.Random(seed)
    today = timezone.localdate()
    start = today - dt.timedelta(days=95)
    teachers = {
        ra.school_class_id: ra.user
        for ra in RoleAssignment.objects.filter(role=Role.CLASS_TEACHER).select_related("user")
    }
    leaders = {
        ra.school_id: ra.user
        for ra in RoleAssignment.objects.filter(role=Role.SCHOOL_LEADER).select_related("user")
    }
    # The demo's cards were registered at the start of the term (the loader creates them now),
    # so that children never contacted are overdue from then, as in a school mid-term.
    registered = dt.datetime.combine(start - dt.timedelta(days=5), dt.time(9), SHANGHAI)
    Child.objects.filter(created_at__gt=registered).update(created_at=registered)
    fallback = User.objects.filter(username="town").first()
    rows: list[Contact] = []
    for child in Child.objects.filter(category__in=LEFT_BEHIND).order_by("pk"):
        by = teachers.get(child.school_class_id) or leaders.get(child.school_id) or fallback
        if by is None:
            continue
        if rng.random() < 0.6:
            rows.append(_visit(rng, child, by, _moment(rng, start, today - dt.timedelta(days=3))))
        for _ in range(rng.choice([0, 1, 2, 3])):
            kind = rng.choice(
                [ContactKind.PHONE, ContactKind.PHONE, ContactKind.MESSAGE, ContactKind.VIDEO]
            )
            rows.append(
                Contact(
                    child=child,
                    by=by,
                    kind=kind,
                    at=_moment(rng, start, today),
                    with_whom=rng.choice(WHO),
                    # a call says what was said (services.clean_contact); picked without the
                    # random generator, so the rest of the demo stays as it was
                    notes=CALL_NOTES[len(rows) % len(CALL_NOTES)],
                )
            )
        for _ in range(rng.choice([0, 1, 1, 2])):
            rows.append(
                Contact(
                    child=child,
                    by=by,
                    kind=ContactKind.FAMILY_CALL,
                    at=_moment(rng, start, today),
                    with_whom=rng.choice(["父亲", "母亲"]),
                    notes="在留守儿童之家与父母视频通话",
                )
            )
    # 王老师 (三年级(1)班) has a few follow-ups due on her home page
    teacher = User.objects.filter(username="zx_teacher31").first()
    if teacher is not None:
        mine = list(Child.objects.filter(responsible_teacher=teacher, category__in=LEFT_BEHIND)[:3])
        for n, child in enumerate(mine):
            visit = _visit(rng, child, teacher, _moment(rng, today - dt.timedelta(days=10), today))
            visit.safety_level, visit.safety_text = "follow_up", "家门口水塘没有护栏"
            visit.notes = "联系村委会在水塘边加装护栏，并再次家访确认"
            visit.follow_up_by = today + dt.timedelta(days=n * 3 - 1)
            rows.append(visit)
    rows += _proxy_meetings(rng, today)
    Contact.objects.bulk_create(rows, batch_size=500)
    _term_round(today, by=fallback)
    if progress:
        progress(f"  家校联系：{len(rows)} 条")
    return len(rows)


def _proxy_meetings(rng: random.Random, today: dt.date) -> list[Contact]:
    """Weekly meetings and calls of each proxy parent with their children since the assignment
    began; every other child's last one is 12 days old, so the proxy-parent rule shows one
    overdue."""
    rows = []
    assignments = ChildAssignment.objects.filter(kind=AssignmentKind.PROXY_PARENT).order_by("pk")
    for n, a in enumerate(assignments.select_related("user")):
        day = today - dt.timedelta(days=3 if n % 2 == 0 else 12)
        while day >= a.valid_from:
            rows.append(
                Contact(
                    child_id=a.child_id,
                    by=a.user,
                    kind=rng.choice([ContactKind.MEETING, ContactKind.PHONE]),
                    at=dt.datetime.combine(day, dt.time(rng.randint(16, 19)), SHANGHAI),
                    with_whom="本人",
                    notes=rng.choice(["聊了学习和身体情况", "周末带去买了文具", "叮嘱注意安全"]),
                )
            )
            day -= dt.timedelta(days=7)
    return rows


def _term_round(today: dt.date, *, by: User | None) -> None:
    """The town's 普访 round of this term ("2026 秋季学期普访"), for the coverage page."""
    start, end = term_bounds(current_term(today))
    autumn = current_term(today).endswith("-1")
    for town in Town.objects.all():
        VisitRound.objects.get_or_create(
            town=town,
            name=f"{start.year} {'秋季' if autumn else '春季'}学期普访",
            defaults={
                "since": start,
                "until": end,
                "left_behind_only": True,
                "notes": "每名留守儿童本学期至少家访一次",
                "created_by": by,
            },
        )
