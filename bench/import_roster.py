"""Roster import speed against the floor of STACK.md, and a school-sized sheet.

    GUANAI_DATA_DIR=$(mktemp -d) .venv/bin/python bench/import_roster.py [--rows 100000]
                                                                         [--school-rows 3000]

(`BENCH_ROWS` in the environment sets --rows too; `--sheet-dir DIR` keeps the generated
sheets and reuses them, generation being slower than the import.) Generates a county-sized 学籍-style sheet
(all 29 template columns), imports it end to end into a fresh SQLite database (`guanai
import-roster`'s service, history rows included) and, in the same run, measures the floor as
STACK.md defines it: python-calamine's parse of the file plus a raw `sqlite3` executemany, in
one transaction, of exactly the rows the import wrote (cards, parents, guardians and their
history rows, same tables and indexes) into a scratch database. Target: end-to-end ≤ 2x floor.
Prints numbers; never a timed unit test.
"""

import argparse
import datetime as dt
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂焦向柳邢骆岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜单"
GIVEN = "子涵梓轩浩宇欣怡雨萱一诺佳琪思远博文俊杰雅婷嘉怡晨曦天佑若曦明轩紫涵奕辰语桐诗琪浩然宇航欣妍雨泽"
VILLAGES = [f"{v}村" for v in ("虎山", "板桥", "古田", "石门", "桐木", "梅塘", "白水", "青龙")]
STATUS = ["外出务工", "在家", "打工", "务农", "外出", "已故", "重病", "在家"]
PLACES = ["广东东莞", "广东深圳", "浙江义乌", "福建晋江", "江苏苏州", "上海", "长沙", ""]
RELATIONS = ["爷爷", "奶奶", "外公", "外婆", "祖父", "祖母", "叔叔", "姑姑"]
REGIONS = ["430523", "431121", "430102", "430524", "430525", "431122", "431123", "430721"]
HEADER = [
    "序号",
    "学生姓名",
    "性别",
    "身份证号码",
    "全国学籍号",
    "出生日期",
    "民族",
    "年级",
    "班级",
    "学号",
    "户口性质",
    "是否随迁子女",
    "村",
    "组",
    "详细住址",
    "是否寄宿",
    "健康状况",
    "父亲姓名",
    "父亲状况",
    "父亲务工地",
    "父亲联系电话",
    "母亲姓名",
    "母亲状况",
    "母亲务工地",
    "母亲联系电话",
    "监护人姓名",
    "监护人关系",
    "监护人联系电话",
    "监护人年龄",
    "备注",
]
TABLES = [
    "children_child",
    "children_historicalchild",
    "children_parent",
    "children_historicalparent",
    "children_guardian",
    "children_historicalguardian",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the import's sheet
    reader is a child). On a shared machine wall times swing with other people's load; CPU
    time much less, so both ratios are printed."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class Timer:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Self:
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = cpu_seconds() - self.cpu


def generate(path: Path, rows: int, *, region_offset: int, seed: int) -> None:
    """A 学籍-style sheet: title row, aliased headers, every column filled, IDs as text."""
    import xlsxwriter

    from guanai.lib.idcard import make_id_number

    rnd = random.Random(seed)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("花名册")
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, "某县2026年秋季学生花名册（学籍系统导出）")
    for c, name in enumerate(HEADER):
        sheet.write_string(1, c, name)
    base = dt.date(2010, 1, 1)
    region = REGIONS[region_offset % len(REGIONS)]
    for i in range(rows):
        birth = base + dt.timedelta(days=i % 3650)
        seq = (i // 3650) * 2 + (1 if rnd.random() < 0.5 else 2)  # unique per (birth, seq)
        number = make_id_number(region, birth, seq % 1000)
        male = int(number[16]) % 2 == 1
        surname = rnd.choice(SURNAMES)
        name = surname + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        grade = rnd.randint(1, 9)
        village = rnd.choice(VILLAGES)
        group = f"{rnd.randint(1, 12)}组"
        father, mother = rnd.choice(STATUS), rnd.choice(STATUS)
        r = i + 2
        values = [
            str(i + 1),
            name,
            "男" if male else "女",
            number,
            f"G{number}",
            None,
            "汉族",
            str(grade),
            f"{rnd.randint(1, 8)}班",
            f"{2020 + grade}{i:06d}",
            "农业" if rnd.random() < 0.9 else "非农业",
            "否" if rnd.random() < 0.95 else "是",
            village,
            group,
            f"{village}{group}{rnd.randint(1, 80)}号",
            "是" if rnd.random() < 0.2 else "否",
            "良好",
            surname + rnd.choice(GIVEN),
            father,
            rnd.choice(PLACES) if father in ("外出务工", "打工", "外出") else "",
            f"13{rnd.randint(100000000, 999999999)}",
            rnd.choice(SURNAMES) + rnd.choice(GIVEN),
            mother,
            rnd.choice(PLACES) if mother in ("外出务工", "打工", "外出") else "",
            f"15{rnd.randint(100000000, 999999999)}",
            surname + rnd.choice(GIVEN),
            rnd.choice(RELATIONS),
            f"18{rnd.randint(100000000, 999999999)}",
            str(rnd.randint(50, 80)),
            "",
        ]
        for c, value in enumerate(values):
            if c == 5:
                sheet.write_datetime(r, c, dt.datetime.combine(birth, dt.time()), date_fmt)
            elif value:
                sheet.write_string(r, c, value)
    book.close()


def calamine_parse(path: Path) -> Timer:
    from python_calamine import CalamineWorkbook

    with Timer() as timer:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    del rows
    return timer


def raw_write_floor(db_path: Path) -> tuple[Timer, int]:
    """Raw sqlite3 executemany, one transaction, of exactly the rows the import wrote, into a
    scratch database with the same tables and indexes."""
    source = sqlite3.connect(db_path)
    scratch_path = Path(tempfile.mkdtemp()) / "floor.sqlite3"
    scratch = sqlite3.connect(scratch_path, isolation_level=None)
    scratch.execute("PRAGMA journal_mode=WAL")
    scratch.execute("PRAGMA synchronous=NORMAL")
    payload = []
    for table in TABLES:
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
            "AND type IN ('table', 'index') ORDER BY type = 'index'",  # a floor has no triggers
            [table],
        ):
            scratch.execute(sql)
        rows = source.execute(f'SELECT * FROM "{table}"').fetchall()
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        payload.append((f'INSERT INTO "{table}" VALUES ({marks})', rows))
    source.close()
    total = sum(len(rows) for _sql, rows in payload)
    with Timer() as timer:
        scratch.execute("BEGIN")
        for sql, rows in payload:
            if rows:
                scratch.executemany(sql, rows)
        scratch.execute("COMMIT")
    scratch.close()
    return timer, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", "100000")))
    parser.add_argument("--school-rows", type=int, default=3000)
    parser.add_argument(
        "--sheet-dir",
        type=Path,
        help="keep the generated sheets here and reuse them on the next run (same rows, same seed)",
    )
    parser.add_argument(
        "--without-live-triggers",
        action="store_true",
        help="drop the triggers that keep today's counts per class (stats/live.py): their cost",
    )
    args = parser.parse_args()

    if os.environ.pop("DATABASE_URL", None):
        print("DATABASE_URL ignored: the floor is defined on SQLite (STACK.md)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    if "GUANAI_DATA_DIR" not in os.environ:
        os.environ["GUANAI_DATA_DIR"] = tempfile.mkdtemp(prefix="guanai-bench-")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if args.without_live_triggers:
        from django.db import connection

        from guanai.stats import live

        with connection.schema_editor() as editor:
            live.drop_triggers(editor)
        print("without the triggers of today's counts per class (stats/live.py)")
    from guanai.children.models import Child
    from guanai.children.roster import import_roster
    from guanai.org.models import School, Town

    db_path = Path(settings.DATABASES["default"]["NAME"])
    if Child.objects.exists():
        sys.exit(f"{db_path} already holds cards: run against a fresh GUANAI_DATA_DIR")
    town = Town.objects.get_or_create(name="基准镇")[0]
    county = School.objects.create(town=town, code="BENCH-COUNTY", name="基准县（学籍导出）")
    school = School.objects.create(town=town, code="BENCH-SCHOOL", name="基准小学")
    work = args.sheet_dir or Path(tempfile.mkdtemp(prefix="guanai-bench-files-"))
    work.mkdir(parents=True, exist_ok=True)

    print(f"database: {db_path}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    big = work / f"roster-{args.rows}.xlsx"
    start = time.perf_counter()
    if big.exists() and args.sheet_dir:
        print(f"reusing {big} ({big.stat().st_size / 1e6:.1f} MB)")
    else:
        generate(big, args.rows, region_offset=0, seed=1)
        print(
            f"generated {args.rows:,} rows x {len(HEADER)} columns in "
            f"{time.perf_counter() - start:.1f} s ({big.stat().st_size / 1e6:.1f} MB)"
        )

    print(f"load average before the import: {os.getloadavg()[0]:.2f}")
    rss_before = rss_mb()
    marks: list[float] = []
    start = time.perf_counter()
    with Timer() as run:
        result = import_roster(
            path=big,
            school=county,
            term=None,
            by=None,
            dry_run=False,
            progress=lambda n: marks.append(time.perf_counter()),
        )
    total = run.wall
    rss_import = rss_mb()
    preview = (marks[-1] - start) if marks else 0.0
    assert result.rejected == 0, result.errors[:5]
    print()
    print(
        f"end to end: {total:.2f} s, {result.rows / total:,.0f} rows/s (read + validate + "
        f"match {preview:.2f} s, write {total - preview:.2f} s); CPU {run.cpu:.2f} s (this "
        f"process and the sheet reader); created {result.created:,}, rejected {result.rejected}"
    )
    print(f"peak RSS after the import: {rss_import:.0f} MB (before it: {rss_before:.0f} MB)")

    parse = calamine_parse(big)
    write, written = raw_write_floor(db_path)
    floor, floor_cpu = parse.wall + write.wall, parse.cpu + write.cpu
    print(
        f"floor: calamine parse {parse.wall:.2f} s + raw sqlite3 executemany of {written:,} "
        f"rows {write.wall:.2f} s = {floor:.2f} s (CPU {parse.cpu:.2f} + {write.cpu:.2f} = "
        f"{floor_cpu:.2f} s)"
    )
    print(f"load average after the floor: {os.getloadavg()[0]:.2f}")
    print(f"ratio end-to-end / floor: {total / floor:.2f} wall, {run.cpu / floor_cpu:.2f} CPU")
    print("(target <= 2.0 wall on a quiet machine; on a loaded one the CPU ratio is steadier)")

    small = work / f"school-{args.school_rows}.xlsx"
    if not (small.exists() and args.sheet_dir):
        generate(small, args.school_rows, region_offset=3, seed=2)
    start = time.perf_counter()
    result = import_roster(path=small, school=school, term=None, by=None, dry_run=False)
    school_time = time.perf_counter() - start
    print()
    print(
        f"school sheet: {args.school_rows:,} rows end to end {school_time:.2f} s "
        f"(created {result.created:,}, rejected {result.rejected})"
    )
    start = time.perf_counter()
    again = import_roster(path=small, school=school, term=None, by=None, dry_run=False)
    print(
        f"school sheet re-import (all unchanged: {again.unchanged:,}): "
        f"{time.perf_counter() - start:.2f} s"
    )
    print(f"process peak RSS: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
