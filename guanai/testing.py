"""Plain builders shared by tests and the demo loader, and the demo roles as pytest fixtures."""

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections
from django.utils import timezone

from guanai.accounts.models import Role, RoleAssignment, User
from guanai.children.models import Child, ChildAssignment
from guanai.children.services import create_child
from guanai.lib.idcard import make_id_number
from guanai.org.models import School, SchoolClass, Town

DEMO_PASSWORD = "guanai-demo"
# The suite's clock (see conftest.py): every test runs at this instant unless it carries
# @pytest.mark.clock(...). A Sunday morning in the autumn term, far from term edges and midnight.
SUITE_NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SUITE_TODAY = SUITE_NOW.date()
REGION = "431121"  # 湖南省永州市祁阳县 (now 祁阳市): a real code, so IDs validate
_seq = itertools.count(1)


def make_town(name: str = "虎山镇") -> Town:
    return Town.objects.get_or_create(name=name)[0]


def make_school(
    code: str = "HS-ZX",
    name: str = "虎山镇中心小学",
    *,
    town: Town | None = None,
    is_central: bool = False,
) -> School:
    town = town or make_town()
    return School.objects.get_or_create(
        code=code, defaults={"name": name, "town": town, "is_central": is_central}
    )[0]


def make_class(school: School | None = None, grade: int = 3, class_no: int = 1) -> SchoolClass:
    school = school or make_school()
    return SchoolClass.objects.get_or_create(school=school, grade=grade, class_no=class_no)[0]


def make_user(
    username: str,
    role: str | None = None,
    *,
    password: str = DEMO_PASSWORD,
    display_name: str = "",
    **unit: Any,
) -> User:
    user = User.objects.create_user(
        username=username, password=password, display_name=display_name or username
    )
    if role:
        RoleAssignment.objects.create(user=user, role=role, **unit)
    return user


def new_id_number(birth: dt.date, gender: str = "male", region: str = REGION) -> str:
    n = next(_seq) % 500
    seq = n * 2 + (1 if gender == "male" else 0)
    return make_id_number(region, birth, seq % 1000 or 2)


def make_child(
    school_class: SchoolClass | None = None, *, by: User | None = None, **overrides: Any
) -> Child:
    """A valid child (both parents away unless overridden); keys as in card input."""
    school_class = school_class or make_class()
    birth = overrides.pop("birth", None) or dt.date(2017, 3, 2)
    gender = overrides.get("gender", "male")
    data: dict[str, Any] = {
        "name": "张三",
        "gender": gender,
        "id_number": new_id_number(birth, gender),
        "hukou": "rural",
        "village": "虎山村",
        "group": "1组",
        "father.name": "张父",
        "father.status": "away",
        "father.phone": "13812345678",
        "mother.name": "李母",
        "mother.status": "away",
        "guardian.name": "张奶奶",
        "guardian.relation": "祖母",
        "guardian.phone": "13912345678",
        "guardian.age": "66",
    }
    data.update(overrides)
    return create_child(school_class=school_class, data=data, by=by)


def assign_child(user: User, child: Child, kind: str = "proxy_parent") -> ChildAssignment:
    return ChildAssignment.objects.create(
        user=user, child=child, kind=kind, valid_from=timezone.localdate()
    )


def make_cast() -> dict[str, Any]:
    """The eight demo roles over a small town: three schools, a few classes, few children."""
    town = make_town()
    zx = make_school("HS-ZX", "虎山镇中心小学", town=town, is_central=True)
    bq = make_school("HS-BQ", "板桥小学", town=town)
    gt = make_school("HS-GT", "古田小学", town=town)
    c31 = make_class(zx, 3, 1)
    c32 = make_class(zx, 3, 2)
    c41 = make_class(zx, 4, 1)
    bq31 = make_class(bq, 3, 1)
    users = {
        "town": make_user("town", Role.TOWN_ADMIN, town=town, display_name="镇管理员"),
        "inspector": make_user("inspector", Role.INSPECTOR, town=town, display_name="督导员"),
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
        # 虎山村's children's director and the town's 儿童督导员 (issue #17)
        "village_director": make_user(
            "village_director",
            Role.VILLAGE_DIRECTOR,
            town=town,
            village="虎山",
            display_name="杨主任",
        ),
        "child_supervisor": make_user(
            "child_supervisor", Role.CHILD_SUPERVISOR, town=town, display_name="何督导"
        ),
    }
    children = {
        "c31a": make_child(c31, name="张三", birth=dt.date(2017, 3, 2)),
        "c31b": make_child(
            c31,
            name="单小明",
            gender="female",
            birth=dt.date(2017, 5, 9),
            **{"father.status": "home", "mother.status": "away"},
        ),
        "c32a": make_child(c32, name="李四", birth=dt.date(2017, 1, 20)),
        "c41a": make_child(
            c41,
            name="王五",
            birth=dt.date(2016, 4, 1),
            **{"father.status": "home", "mother.status": "home"},
        ),
        "bq31a": make_child(bq31, name="赵六", birth=dt.date(2017, 6, 6)),
        "gt": make_child(make_class(gt, 5, 1), name="孙七", birth=dt.date(2015, 8, 8)),
    }
    assign_child(users["proxy_wang"], children["c31a"])
    assign_child(users["proxy_wang"], children["c32a"])
    return {
        "town_obj": town,
        "schools": {"zx": zx, "bq": bq, "gt": gt},
        "classes": {"c31": c31, "c32": c32, "c41": c41, "bq31": bq31},
        "users": users,
        "children": children,
    }


# --- scope assertions ---------------------------------------------------------------------------

# Which cast children each demo role may see (view) and edit (change).
VISIBLE = {
    "town": {"c31a", "c31b", "c32a", "c41a", "bq31a", "gt"},
    "inspector": {"c31a", "c31b", "c32a", "c41a", "bq31a", "gt"},
    "zx_leader": {"c31a", "c31b", "c32a", "c41a"},
    "zx_grade3": {"c31a", "c31b", "c32a"},
    "zx_teacher31": {"c31a", "c31b"},
    "zx_counselor": {"c31a", "c31b", "c32a", "c41a"},
    "bq_leader": {"bq31a"},
    "proxy_wang": {"c31a", "c32a"},
}
EDITABLE = {role: kids for role, kids in VISIBLE.items() if role not in ("inspector", "proxy_wang")}
EDITABLE["inspector"] = set()
EDITABLE["proxy_wang"] = set()
# Whose sensitive sections each role reads (SPEC §4, the scope table's notes/psych/health):
# others' contact notes; psychology; health and disability.
SEES_NOTES = {role: kids for role, kids in EDITABLE.items()}
SEES_PSYCH = {role: set() for role in VISIBLE} | {
    "zx_leader": VISIBLE["zx_leader"],
    "zx_counselor": VISIBLE["zx_counselor"],
    "bq_leader": VISIBLE["bq_leader"],
}
SEES_HEALTH = SEES_PSYCH | {
    "zx_grade3": VISIBLE["zx_grade3"],
    "zx_teacher31": VISIBLE["zx_teacher31"],
}


# The village roles (issue #17), kept out of VISIBLE so the role-parametrised matrices of the
# other apps need no new rows yet: every cast child lives in 虎山村; the 督导员 sees the
# left-behind ones. Neither edits a card.
VILLAGE_VISIBLE = {
    "village_director": {"c31a", "c31b", "c32a", "c41a", "bq31a", "gt"},
    "child_supervisor": {"c31a", "c31b", "c32a", "bq31a", "gt"},
}


def login(client, user: User) -> None:
    client.force_login(user)


def assert_scoped(
    client,
    users: dict,
    url_for,
    *,
    allowed: set[str],
    denied: set[str],
    ok: int = 200,
    not_found: int = 404,
    method: str = "get",
    **kwargs,
) -> None:
    """Request url_for(name) as each user: allowed answer `ok`, denied answer `not_found`."""
    for name in allowed | denied:
        client.force_login(users[name])
        url = url_for(name)
        response = getattr(client, method)(url, **kwargs)
        expected = ok if name in allowed else not_found
        assert response.status_code == expected, (name, url, response.status_code)


@contextmanager
def replica_alias(settings_dict: dict) -> Iterator[None]:
    """The `replica` alias on these settings for one test; the configured one (when
    GUANAI_DB_REPLICA_URL is set) comes back afterwards. A new connection object: the test
    case's guards cover only the objects that existed when it started."""
    before = connections.settings.get("replica")
    if before is not None:
        connections["replica"].close()
        del connections["replica"]
    connections.settings["replica"] = settings_dict
    try:
        yield
    finally:
        connections["replica"].close()
        del connections["replica"]
        if before is None:
            del connections.settings["replica"]
        else:
            connections.settings["replica"] = before
