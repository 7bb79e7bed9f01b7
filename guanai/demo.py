"""The demo town 虎山镇 (SPEC §6.4): three schools, about 1,200 students, 40 % left-behind."""

import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import Role
from guanai.children.services import create_child
from guanai.contacts.demo import load_demo_contacts
from guanai.lib.idcard import make_id_number
from guanai.org.models import SchoolClass
from guanai.pairing.proxies import register_proxy_parent
from guanai.pairing.services import accept_pairs, propose_pairs
from guanai.testing import assign_child, make_class, make_school, make_town, make_user
from guanai.villages import demo as villages_demo

DEMO_LOGINS = [
    ("town", "镇管理员：三所学校"),
    ("inspector", "督导员：三所学校，只读"),
    ("zx_leader", "中心小学 校领导"),
    ("zx_grade3", "中心小学 三年级 年级负责人"),
    ("zx_teacher31", "中心小学 三年级(1)班 班主任"),
    ("zx_counselor", "中心小学 心理辅导员"),
    ("bq_leader", "板桥小学 校领导"),
    ("proxy_wang", "代理家长：中心小学两名儿童"),
    *villages_demo.LOGINS,
    ("auditor", "审计员：只看全镇访问日志"),
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢唐许邓冯韩曹曾彭萧蒋蔡贾丁魏单"
GIVEN = [
    "子涵",
    "欣怡",
    "梓轩",
    "浩然",
    "雨桐",
    "宇航",
    "思远",
    "佳怡",
    "俊杰",
    "诗涵",
    "一诺",
    "梓萱",
    "子豪",
    "晨曦",
    "雅琪",
    "博文",
    "紫涵",
    "明轩",
    "心怡",
    "嘉豪",
    "若曦",
    "天佑",
    "可欣",
    "志强",
    "小明",
    "小红",
    "丽娟",
    "建军",
    "秀英",
    "文博",
    "海洋",
    "婷婷",
]
VILLAGES = {  # village: (lat, lon) of its centre
    "虎山村": (26.5801, 111.8603),
    "石门村": (26.5912, 111.8721),
    "枫树村": (26.5698, 111.8455),
    "新塘村": (26.6023, 111.8519),
    "板桥村": (26.6215, 111.9012),
    "白竹村": (26.6330, 111.9120),
    "黄泥村": (26.6102, 111.9205),
    "古田村": (26.5420, 111.8901),
    "龙井村": (26.5311, 111.9033),
    "杨家村": (26.5502, 111.9150),
}
SCHOOL_VILLAGES = {
    "HS-ZX": ["虎山村", "石门村", "枫树村", "新塘村"],
    "HS-BQ": ["板桥村", "白竹村", "黄泥村"],
    "HS-GT": ["古田村", "龙井村", "杨家村"],
}
WORK = [
    ("广东", "东莞"),
    ("广东", "深圳"),
    ("广东", "广州"),
    ("浙江", "宁波"),
    ("浙江", "温州"),
    ("福建", "泉州"),
    ("江苏", "苏州"),
    ("上海", "上海"),
]
REGION = "431121"


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def _child_data(rng: random.Random, school_code: str, grade: int, today: dt.date, seq: int):
    gender = rng.choice(["male", "female"])
    birth_year = today.year - 6 - grade - (1 if today.month < 9 else 0)
    birth = dt.date(birth_year, 9, 1) + dt.timedelta(days=rng.randrange(365))
    number = make_id_number(REGION, birth, (seq * 2 + (1 if gender == "male" else 0)) % 1000)
    surname = rng.choice(SURNAMES)
    village = rng.choice(SCHOOL_VILLAGES[school_code])
    roll = rng.random()
    father, mother = "home", "home"
    if roll < 0.18:
        father, mother = "away", "away"
    elif roll < 0.30:
        father = "away"
    elif roll < 0.38:
        mother = "away"
    elif roll < 0.40:
        father, mother = "away", rng.choice(["deceased", "incapable", "missing"])
    elif roll < 0.42:
        father, mother = "", ""  # not yet screened
    migrant = rng.random() < 0.06 and father == "home"
    data = {
        "name": surname + rng.choice(GIVEN),
        "gender": gender,
        "id_number": number,
        "student_no": f"G{number}",
        "ethnicity": rng.choice(["汉族"] * 9 + ["瑶族"]),
        "hukou": "urban" if migrant or rng.random() < 0.05 else "rural",
        "is_migrant": migrant,
        "village": village,
        "group": f"{rng.randint(1, 8)}组",
        "address": f"{village}{rng.randint(1, 8)}组{rng.randint(1, 60)}号",
        "boarding": rng.random() < 0.1,
        "father.name": surname + rng.choice(["建国", "志明", "国强", "伟", "军", "勇"]),
        "father.status": father,
        "father.phone": _phone(rng),
        "mother.name": rng.choice(SURNAMES) + rng.choice(["秀英", "丽", "芳", "敏", "艳"]),
        "mother.status": mother,
        "mother.phone": _phone(rng),
    }
    lat, lon = VILLAGES[village]
    if rng.random() < 0.6:
        data["latitude"] = f"{lat + rng.uniform(-0.006, 0.006):.6f}"
        data["longitude"] = f"{lon + rng.uniform(-0.006, 0.006):.6f}"
    for who, status in (("father", father), ("mother", mother)):
        if status == "away":
            province, city = rng.choice(WORK)
            data[f"{who}.work_province"], data[f"{who}.work_city"] = province, city
            data[f"{who}.away_since"] = (
                today - dt.timedelta(days=rng.randint(100, 2000))
            ).isoformat()
    if father == "away" and mother != "home":
        relation = rng.choice(["祖父", "祖母", "外祖父", "外祖母"])
        data.update(
            {
                "guardian.name": (surname if relation in ("祖父", "祖母") else rng.choice(SURNAMES))
                + rng.choice(["桂花", "德明", "春兰", "长生"]),
                "guardian.relation": relation,
                "guardian.phone": _phone(rng),
                "guardian.age": str(rng.randint(55, 78)),
                "guardian.is_entrusted": True,
                "guardian.capacity": rng.choice(["good", "fair", "fair", "poor"]),
                "guardian.entrustment_notice_on": (today - dt.timedelta(days=60)).isoformat(),
                "guardianship_assessment": rng.choice(["good", "fair", "poor"]),
            }
        )
    elif father or mother:
        data.update(
            {
                "guardian.name": data["mother.name"] if mother == "home" else data["father.name"],
                "guardian.relation": "母亲" if mother == "home" else "父亲",
                "guardian.phone": data["mother.phone"]
                if mother == "home"
                else data["father.phone"],
            }
        )
    if rng.random() < 0.05:
        data["tags"] = [rng.choice(["poverty", "disability", "hardship"])]
    return data


@transaction.atomic
def load_demo(*, seed: int = 20261129, progress: Callable[[str], None] | None = None) -> dict:
    """Create 虎山镇, its schools, classes, the demo logins and about 1,200 children."""
    rng = random.Random(seed)
    today = timezone.localdate()
    town = make_town("虎山镇")
    zx = make_school("HS-ZX", "虎山镇中心小学", town=town, is_central=True)
    bq = make_school("HS-BQ", "板桥小学", town=town)
    gt = make_school("HS-GT", "古田小学", town=town)
    layout = {zx: (3, 30), bq: (2, 28), gt: (2, 27)}
    c31 = make_class(zx, 3, 1)
    users = {
        "town": make_user("town", Role.TOWN_ADMIN, town=town, display_name="镇管理员 何主任"),
        "inspector": make_user(
            "inspector", Role.INSPECTOR, town=town, display_name="督导员 罗老师"
        ),
        "zx_leader": make_user("zx_leader", Role.SCHOOL_LEADER, school=zx, display_name="刘校长"),
        "zx_grade3": make_user(
            "zx_grade3", Role.GRADE_LEADER, school=zx, grade=3, display_name="陈主任"
        ),
        "zx_teacher31": make_user(
            "zx_teacher31", Role.CLASS_TEACHER, school=zx, school_class=c31, display_name="王老师"
        ),
        "zx_counselor": make_user("zx_counselor", Role.COUNSELOR, school=zx, display_name="周老师"),
        "bq_leader": make_user("bq_leader", Role.SCHOOL_LEADER, school=bq, display_name="赵校长"),
        "proxy_wang": make_user("proxy_wang", Role.PROXY_PARENT, school=zx, display_name="王叔叔"),
        # 三权分立: reads the town's access log and nothing else
        "auditor": make_user("auditor", Role.AUDITOR, town=town, display_name="审计员 孙老师"),
    }
    seq = 0
    count = 0
    proxy_kids = []
    for school, (n_classes, size) in layout.items():
        for grade in range(1, 7):
            for class_no in range(1, n_classes + 1):
                sc = make_class(school, grade, class_no)
                for _ in range(size + rng.randint(-2, 2)):
                    seq += 1
                    data = _child_data(rng, school.code, grade, today, seq)
                    child = create_child(
                        school_class=sc, data=data, by=users["town"], reason="演示数据"
                    )
                    count += 1
                    if sc == c31:
                        child.responsible_teacher = users["zx_teacher31"]
                        child.save(update_fields=["responsible_teacher"])
                    if (
                        school == zx
                        and grade == 4
                        and child.category == "double"
                        and len(proxy_kids) < 2
                    ):
                        proxy_kids.append(child)
        if progress:
            progress(f"  {school.name}：已建卡")
    for child in proxy_kids:
        # looking after them since the start of the term
        assignment = assign_child(users["proxy_wang"], child)
        assignment.valid_from = today - dt.timedelta(days=95)
        assignment.save(update_fields=["valid_from"])
    register_proxy_parent(
        school=zx,
        data={
            "name": "王叔叔",
            "phone": "13907391234",
            "kind": "volunteer",
            "village": proxy_kids[0].village if proxy_kids else "虎山村",
        },
        declared=True,
        declared_on=today,
        username="proxy_wang",
        by=users["town"],
    )
    pairs = 0
    for school_class in SchoolClass.objects.filter(school__in=[zx, bq, gt]).order_by("pk"):
        # buddies from the child's own class (the class teacher follows the pair and so sees
        # no one outside her class); most accepted, a few left as drafts to review
        drafts = propose_pairs(
            school=school_class.school,
            school_class=school_class,
            by=users["town"],
            dry_run=False,
        ).saved
        accepted = accept_pairs(pairs=drafts[: int(len(drafts) * 0.8)], by=users["town"])
        pairs += len(accepted)
    if progress:
        progress(f"  结对帮扶：{pairs} 对")
    load_demo_contacts(seed=seed, progress=progress)
    from guanai.protection.demo import load_demo_protection

    load_demo_protection(seed=seed, progress=progress)
    from guanai.inspections import demo as inspections_demo

    inspections_demo.load(progress=progress)
    from guanai.activities import demo as activities_demo

    activities_demo.load(progress=progress)
    villages_demo.load(progress=progress)
    return {"schools": 3, "children": count, "users": len(users), "pairs": pairs}
