"""List and search speed over a county-sized register, with /healthz in the same run for scale.

    .venv/bin/python bench/list_children.py            # 100,000 children across 40 schools
    BENCH_CHILDREN=10000 .venv/bin/python bench/list_children.py   # a quick run
    (BENCH_REQUESTS sets the requests per endpoint, BENCH_KEEP=1 keeps the database)

Builds a fresh SQLite database under a temporary GUANAI_DATA_DIR (rows written in bulk, not
through create_child, but realistic: classes, names with their pinyin search keys, encrypted ID
numbers with hash / masked form / last 4, ~40 % left-behind, a guardian per child), then times
~50 requests each through django.test.Client, logged in as a town administrator: the list page
and GET /api/v1/children for one school, a pinyin-initials search and a last-4 ID search on both,
and /healthz. Target: list and search p95 ≤ 100 ms on SQLite. Prints numbers; never a timed test.
For each endpoint it also names the slowest SQL statement, with EXPLAIN QUERY PLAN when the
target is missed.
"""

import datetime as dt
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_CHILDREN = int(os.environ.get("BENCH_CHILDREN", "100000"))
N_SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "40"))
N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
TARGET_MS = 100.0
BATCH = 5000

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴"
    "孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂焦向柳邢骆岳齐梅莫庄辛管祝左涂谷祁时舒"
    "耿牟卜单"
)
GIVEN = "子涵梓轩浩宇欣怡雨萱一诺佳琪思远博文俊杰雅婷嘉晨曦天佑若明紫奕辰语桐诗然航妍泽三小强丽华"
VILLAGES = [f"{v}村" for v in ("虎山", "板桥", "古田", "石门", "桐木", "梅塘", "白水", "青龙")]
REGIONS = ["431121", "430523", "430524", "430525", "431122", "431123", "430721", "430102"]
GUARDIANS = [
    ("奶奶", "祖母", 62),
    ("爷爷", "祖父", 65),
    ("外婆", "外祖母", 60),
    ("妈妈", "母亲", 36),
]
# ~40 % left-behind (学籍口径), as in the demo town.
CATEGORIES = [("single", 25), ("double", 15), ("migrant", 5), ("none", 50), ("unknown", 5)]
REASONS = {
    "single": "父亲外出务工，母亲在家",
    "double": "父母均外出务工",
    "migrant": "随父母在务工地就读",
    "none": "父母均在家",
    "unknown": "父母状况未摸排",
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> Path:
    if os.environ.pop("DATABASE_URL", None):
        print("DATABASE_URL ignored: this bench measures SQLite")
    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-list-"))
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def build(rng: random.Random):
    """Town, schools, classes and N_CHILDREN cards with guardians; returns (town, schools)."""
    from django.db import transaction
    from django.utils import timezone

    from guanai.children.models import Child, Guardian
    from guanai.lib import crypto
    from guanai.lib.idcard import make_id_number
    from guanai.lib.masking import mask_id_number
    from guanai.lib.pinyin import search_key
    from guanai.org.models import School, SchoolClass, Town

    today = timezone.localdate()
    town = Town.objects.create(name="虎山镇")
    schools = School.objects.bulk_create(
        School(town=town, code=f"S{i:02d}", name=f"第{i}小学", is_central=i == 1)
        for i in range(1, N_SCHOOLS + 1)
    )
    per_school = max(1, N_CHILDREN // N_SCHOOLS)
    per_class = 50
    classes_per_grade = max(1, round(per_school / 6 / per_class))
    classes = SchoolClass.objects.bulk_create(
        SchoolClass(school=s, grade=g, class_no=c)
        for s in schools
        for g in range(1, 7)
        for c in range(1, classes_per_grade + 1)
    )
    by_school: dict[int, list] = {}
    for c in classes:
        by_school.setdefault(c.school_id, []).append(c)

    keys: dict[str, str] = {}
    used: set[str] = set()
    weights = [w for _c, w in CATEGORIES]
    codes = [c for c, _w in CATEGORIES]

    def one(i: int):
        school = schools[i % N_SCHOOLS]
        klass = rng.choice(by_school[school.pk])
        surname = rng.choice(SURNAMES)
        name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if name not in keys:
            keys[name] = search_key(name)
        gender = rng.choice(("male", "female"))
        birth = dt.date(today.year - 6 - klass.grade, 9, 1) - dt.timedelta(days=rng.randrange(365))
        while True:  # 顺序码 spread over 001–999 like real ones; odd = male
            region = rng.choice(REGIONS)
            seq = rng.randrange(0, 499) * 2 + (1 if gender == "male" else 2)
            number = make_id_number(region, birth, seq)
            if number not in used:
                used.add(number)
                break
        category = rng.choices(codes, weights)[0]
        rural = rng.random() < 0.9
        child = Child(
            school=school,
            school_class=klass,
            name=name,
            name_pinyin=keys[name],
            gender=gender,
            birth_date=birth,
            ethnicity="汉族",
            id_number_enc=crypto.encrypt(number),
            id_number_hash=crypto.lookup_hash(number),
            id_number_masked=mask_id_number(number),
            id_last4=number[-4:],
            student_no_enc=crypto.encrypt(f"G{number}"),
            student_no_hash=crypto.lookup_hash(f"G{number}"),
            student_no_masked=mask_id_number(f"G{number}"),
            hukou="rural" if rural else "urban",
            is_migrant=category == "migrant",
            village=rng.choice(VILLAGES),
            group=f"{rng.randint(1, 12)}组",
            boarding=rng.random() < 0.3,
            category=category,
            category_reason=REASONS[category],
            civil_affairs=category == "double" and rural,
            civil_affairs_reason="父母均外出务工" if category == "double" else "",
            classified_on=today,
            enrolment="enrolled" if rng.random() < 0.97 else "graduated",
        )
        g_name, g_relation, g_age = rng.choice(GUARDIANS)
        guardian = Guardian(
            name=surname + g_name,
            relation=g_relation,
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            age=g_age + rng.randint(-5, 8),
        )
        return child, guardian

    done = 0
    while done < N_CHILDREN:
        pairs = [one(i) for i in range(done, min(N_CHILDREN, done + BATCH))]
        with transaction.atomic():
            children = Child.objects.bulk_create([c for c, _g in pairs])
            for child, (_c, guardian) in zip(children, pairs, strict=True):
                guardian.child_id = child.pk
            Guardian.objects.bulk_create([g for _c, g in pairs])
        done += len(pairs)
    return town, schools, len(keys)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(client, url: str):
    """(timings in ms, status, number of queries, slowest query) for one URL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches: templates, URL resolver, SQLite pages
        client.get(url)
    times = []
    for _ in range(N_REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = ctx.captured_queries
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    sql_ms = sum(float(q["time"]) for q in queries) * 1000
    return times, response.status_code, len(queries), sql_ms, slowest, response


def count_of(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        return str(body.get("count", "")) if isinstance(body, dict) else ""
    found = re.search(r"共 (\d+) 人", response.content.decode())
    return found.group(1) if found else ""


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return [row[-1] for row in cursor.fetchall()]


def main() -> None:
    data_dir = setup_django()
    from django.db import connection
    from django.test import Client

    from guanai.accounts.models import Role, RoleAssignment, User
    from guanai.children.models import Child

    rng = random.Random(20261129)
    print(f"building {N_CHILDREN:,} children across {N_SCHOOLS} schools in {data_dir} …")
    start = time.perf_counter()
    town, schools, distinct_names = build(rng)
    build_s = time.perf_counter() - start
    db_mb = (data_dir / "guanai.sqlite3").stat().st_size / 2**20
    print(
        f"built in {build_s:.1f} s ({N_CHILDREN / build_s:,.0f} children/s, "
        f"{distinct_names:,} distinct names); database {db_mb:.0f} MB; RSS {rss_mb():.0f} MB"
    )

    admin = User.objects.create_user(username="bench_town", password="bench-password-1")
    RoleAssignment.objects.create(user=admin, role=Role.TOWN_ADMIN, town=town)
    client = Client()
    client.force_login(admin)

    school = schools[len(schools) // 2].code
    sample = Child.objects.filter(school__code=school).order_by("id")[7]
    last4 = sample.id_last4
    cases = [
        ("list page, one school", f"/children/?school={school}"),
        ("API list, one school", f"/api/v1/children?school={school}"),
        ("list page, pinyin q=zs", "/children/?q=zs"),
        ("API list, pinyin q=zs", "/api/v1/children?q=zs"),
        (f"list page, ID last 4 q={last4}", f"/children/?q={last4}"),
        (f"API list, ID last 4 q={last4}", f"/api/v1/children?q={last4}"),
        ("list page, all schools", "/children/"),
        ("/healthz (same session)", "/healthz"),
    ]
    rows = []
    slow = []
    for label, url in cases:
        times, status, n_queries, sql_ms, slowest, response = measure(client, url)
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        found = count_of(response)
        rows.append((label, status, found, n_queries, sql_ms, p50, p95, max(times), slowest))
        if "healthz" not in url and p95 > TARGET_MS:
            slow.append((label, slowest))

    print()
    print(f"{N_REQUESTS} requests each, django.test.Client as a town administrator (SQLite)")
    header = (
        f"{'endpoint':34} {'status':>6} {'found':>7} {'SQL':>4} {'SQL ms':>7}"
        f" {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  slowest SQL"
    )
    print(header)
    print("-" * (len(header) + 4))
    for label, status, found, n, sql_ms, p50, p95, mx, slowest in rows:
        sq = f"{float(slowest['time']) * 1000:.0f} ms" if slowest else ""
        mark = "  ✗" if "healthz" not in label and p95 > TARGET_MS else ""
        print(
            f"{label:34} {status:>6} {found:>7} {n:>4} {sql_ms:7.0f}"
            f" {p50:8.1f} {p95:8.1f} {mx:8.1f}  {sq}{mark}"
        )
    print()
    print(f"target: list and search p95 ≤ {TARGET_MS:.0f} ms; peak RSS {rss_mb():.0f} MB")
    print("SQL, SQL ms: statements and their total time in one more request (debug cursor)")
    for label, slowest in slow:
        if not slowest:
            continue
        print(f"\n✗ {label}: slowest statement ({float(slowest['time']) * 1000:.1f} ms):")
        print("  " + slowest["sql"][:600])
        for line in explain(slowest["sql"]):
            print("    plan: " + line)
    connection.close()
    if os.environ.get("BENCH_KEEP"):
        print(f"\ndatabase kept in {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
