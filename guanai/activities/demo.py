"""The demo town's activities, donation and children's home (issue #16): this term's summer
camp at 虎山镇中心小学 with attendance, a proxy-parent afternoon taken by 王叔叔, a donation
from the county women's federation partly handed out, and 板桥小学's children's home with a
month of sign-ins and family calls and its rota; the camp's publicity issued on the 公众号 and
the donation's anonymised stories for the donor's certificate. Called once by the demo loader after the children, the
proxy parents and the contacts exist: `guanai.activities.demo.load(progress=progress)`.
A second call adds nothing."""

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.lib import dates
from guanai.org.models import School

from . import donations, homes, services
from .models import Activity, ActivityKind, Donation, Home, HomeDuty, HomeVisit, Participant

CAMP = "暑期意志营"
PROXY = "代理家长陪伴日"
DONOR = "县妇联“春蕾”助学"
HOME = "板桥小学留守儿童之家"
PARENTS = ("母亲", "父亲")


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@transaction.atomic
def load(*, progress: Callable[[str], None] | None = None, seed: int = 16) -> dict:
    """Add the demo activities, donation and home (once)."""
    zx = School.objects.get(code="HS-ZX")
    bq = School.objects.get(code="HS-BQ")
    if Activity.objects.filter(school=zx, title=CAMP).exists():
        return {"activities": 0, "donations": 0, "homes": 0}
    rng = random.Random(seed)
    today = timezone.localdate()
    first, _last = services.term_range()
    leader = User.objects.get(username="zx_leader")
    bq_leader = User.objects.get(username="bq_leader")
    left = list(Child.objects.active().left_behind().filter(school=zx).order_by("id"))

    # the summer camp: three days at the start of the term, most came
    start = min(first + dt.timedelta(days=2), today)
    camp = services.create_activity(
        school=zx,
        values={
            "kind": ActivityKind.SUMMER_CAMP,
            "title": CAMP,
            "goal": "磨炼意志，学会自理，结交伙伴",
            "starts_on": start,
            "ends_on": min(start + dt.timedelta(days=2), today),
            "place": "虎山镇中心小学操场",
            "organiser": "刘校长",
            "partners": "镇团委、镇妇联",
            "budget": "3000",
        },
        by=leader,
    )
    chosen = left[:24]
    services.add_participants(activity=camp, child_ids=[c.pk for c in chosen], by=leader)
    for child in chosen:
        services.mark(activity=camp, child=child, present=rng.random() < 0.85, by=leader)
    camp.summary = "三天营地生活：军训、徒步、亲情书信；孩子们学会了整理内务。"
    camp.save(update_fields=["summary"])

    # the proxy parent's afternoon with his children
    proxy_user = User.objects.filter(username="proxy_wang").first()
    proxy_kids = list(Child.objects.visible_to(proxy_user).filter(school=zx)) if proxy_user else []
    afternoon = services.create_activity(
        school=zx,
        values={
            "kind": ActivityKind.PROXY_PARENT,
            "title": PROXY,
            "goal": "代理家长陪孩子过周末：包饺子、检查作业",
            "starts_on": max(first, today - dt.timedelta(days=14)),
            "place": "王叔叔家",
            "organiser": "王叔叔",
            "partners": "村委",
        },
        by=leader,
    )
    if proxy_kids:
        services.add_participants(
            activity=afternoon, child_ids=[c.pk for c in proxy_kids], by=leader
        )
        for child in proxy_kids:
            services.mark(activity=afternoon, child=child, present=True, by=proxy_user)

    # a donation, partly handed out
    donation = donations.record_donation(
        school=zx,
        values={
            "donor": DONOR,
            "donor_kind": "organisation",
            "donor_contact": "县妇联 0746-3212345",
            "kind": "money",
            "amount": "5000",
            "received_on": max(first, today - dt.timedelta(days=30)),
            "notes": "用于双留守儿童的学习用品和冬衣",
        },
        by=leader,
    )
    services.issue_publicity(
        activity=camp, values={"channel": "wechat", "issued_on": camp.ends_on}, by=leader
    )
    doubles = [c for c in left if c.category == "double"][:6]
    for i, child in enumerate(doubles):
        donations.allocate(
            donation=donation,
            child=child,
            values={
                "amount": Decimal(500),
                "what": "冬衣和学习用品",
                "handed_on": max(donation.received_on, today - dt.timedelta(days=7)),
                "handed_by": "刘校长",
                "receipt_code": f"QS-{today:%Y}-{i + 1:03d}",
            },
            by=leader,
        )

    donations.set_stories(
        donation=donation,
        stories=(
            "一个父母都在外地打工的孩子穿上了新冬衣，上学路上不再冻得发抖。\n"
            "有了新的学习用品，几个孩子的作业本干净整齐多了，老师在班会上表扬了他们。"
        ),
        by=leader,
    )

    # 板桥小学's children's home: a month of sign-ins after school, and family calls
    home = homes.create_home(
        school=bq,
        values={
            "name": HOME,
            "opening_hours": "周一至周五 16:00—18:00",
            "equipment": "亲情电话、视频聊天、图书、娱乐",
        },
        by=bq_leader,
    )
    regulars = list(Child.objects.active().left_behind().filter(school=bq).order_by("id"))
    regulars = regulars[: max(1, len(regulars) * 2 // 3)]
    # the rota: the school's staff in turn, weekdays 16:00—18:00, this month and the next two weeks
    staff = list(homes.home_staff(home)) or [bq_leader]
    duties: dict[dt.date, User] = {}
    for back in range(30, -15, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() < 5 and day >= first:
            duties[day] = staff[len(duties) % len(staff)]
    HomeDuty.objects.bulk_create(
        HomeDuty(home=home, on=day, starts_at=dt.time(16), ends_at=dt.time(18), staff=who)
        for day, who in duties.items()
    )
    visits, calls = [], 0
    for back in range(30, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() >= 5 or day < first:
            continue
        for child in rng.sample(regulars, k=min(len(regulars), rng.randint(4, 9))):
            came = _at(day, 16, rng.randint(0, 30))
            visits.append(
                HomeVisit(
                    home=home,
                    child=child,
                    signed_in_at=came,
                    signed_out_at=came + dt.timedelta(minutes=rng.randint(40, 110)),
                    by=bq_leader,
                    on_duty=duties.get(day),
                )
            )
            if rng.random() < 0.25:
                homes.log_family_call(
                    home=home,
                    child=child,
                    with_whom=rng.choice(PARENTS),
                    notes="在留守儿童之家视频通话，聊了学习和身体",
                    by=bq_leader,
                    at=came + dt.timedelta(minutes=20),
                )
                calls += 1
    HomeVisit.objects.bulk_create(visits)
    present = Participant.objects.filter(activity=camp, present=True).count()
    if progress:
        progress(
            f"  关爱活动：{CAMP} {present}/{len(chosen)} 人到场，{PROXY} {len(proxy_kids)} 人；"
            f"爱心捐献 5000 元已发放 {len(doubles) * 500} 元；"
            f"{HOME} {len(visits)} 人次签到，亲情电话 {calls} 次，值班 {len(duties)} 班"
        )
    return {
        "activities": 2,
        "donations": Donation.objects.filter(pk=donation.pk).count(),
        "homes": Home.objects.filter(pk=home.pk).count(),
        "visits": len(visits),
        "calls": calls,
        "term": dates.current_term(today),
    }
