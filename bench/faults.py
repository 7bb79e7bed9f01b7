"""Faults during a roster import: kill -9 of the CLI and of the worker, a full disk, no database.

    PYTHONPATH=. .venv/bin/python bench/faults.py [--pg] [--rows 30000]

On a fresh database (SQLite file under a temporary GUANAI_DATA_DIR; with --pg a scratch
PostgreSQL database `guanai_bench_faults` on 127.0.0.1:5432, dropped at the end):

1. `guanai import-roster` (CLI) killed with SIGKILL in its write phase (as soon as the
   database shows the import's transaction writing: the SQLite WAL growing, or on PostgreSQL
   the import's backend inside a transaction that inserts cards) and, separately, halfway
   through its reading and validation: afterwards the school holds no card, parent, guardian,
   class or history row of the import; the same command run again imports every row.
2. The worker (`guanai worker`) killed with SIGKILL while it runs an import job in its write
   phase: nothing of the import is in the database; the job still says 进行中 until a worker
   starts again, which marks it 失败 with the Chinese reason and retryable; retrying it
   (jobs.services.retry_job, the page's 重试 button) runs it to the end.
3. A full disk during the import's write (SQLite only: the CLI's file-size limit stands in for
   the disk, RLIMIT_FSIZE, so the write fails with EFBIG like ENOSPC): exit status 2, a Chinese
   message, no traceback, nothing written.
4. No database at start (DATABASE_URL pointing at a closed port): what `guanai import-roster`
   and `guanai worker` print (guanai.lib.db_errors.run_cli: a Chinese sentence, exit 2).
Prints one line per check, PASS or FAIL with what was found.
"""

import argparse
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "guanai_bench_faults"
RESULTS: list[tuple[bool, str]] = []


def check(ok: bool, what: str) -> None:
    RESULTS.append((ok, what))
    print(f"{'PASS' if ok else 'FAIL'}  {what}", flush=True)


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def counts(school) -> dict[str, int]:
    """Rows an import into `school` writes, by table."""
    from guanai.children.models import Child, Guardian, Parent
    from guanai.org.models import SchoolClass

    history = Child.history.model
    children = Child.objects.filter(school=school)
    return {
        "cards": children.count(),
        "parents": Parent.objects.filter(child__school=school).count(),
        "guardians": Guardian.objects.filter(child__school=school).count(),
        "classes": SchoolClass.objects.filter(school=school).count(),
        "history": history.objects.filter(school_id=school.pk).count(),
    }


def _sqlite_writer_busy(db: Path) -> bool:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE cannot start)."""
    probe = sqlite3.connect(db, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def writing(db: Path) -> bool:
    """Whether the import's write transaction is under way (and not yet committed): on SQLite
    the write lock held through three probes 0.1 s apart (a progress or heartbeat update holds
    it for a millisecond, the import's write for seconds); on PostgreSQL a backend inside a
    transaction inserting cards."""
    from django.db import connection

    if connection.vendor == "sqlite":
        for _ in range(3):
            if not _sqlite_writer_busy(db):
                return False
            time.sleep(0.1)
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
            "AND query ILIKE 'INSERT INTO \"children_%%'"
        )
        return cursor.fetchone()[0] > 0


def kill_when(proc: subprocess.Popen, cond, timeout: float = 300) -> bool:
    """SIGKILL `proc` as soon as cond() holds; False if it ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if cond():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return False


def cli(sheet: Path, code: str, env: dict, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "guanai", "import-roster", str(sheet), "--school", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--rows", type=int, default=30000)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-faults-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["GUANAI_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if args.pg:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection
    from import_roster import generate

    from guanai.jobs.models import Job, JobStatus
    from guanai.jobs.services import WORKER_DIED, retry_job
    from guanai.org.models import School, Town
    from guanai.screening.imports import start_import

    worker = None
    try:
        call_command("migrate", verbosity=0)
        print(f"database: {connection.vendor}, {args.rows:,}-row sheets")
        town = Town.objects.create(name="故障镇")
        db = data_dir / "guanai.sqlite3"
        wal = data_dir / "guanai.sqlite3-wal"
        sheets = data_dir / "sheets"
        sheets.mkdir()

        def fresh(n: int) -> tuple[School, Path]:
            school = School.objects.create(town=town, code=f"F{n}", name=f"故障小学{n}")
            sheet = sheets / f"roster-{n}.xlsx"
            generate(sheet, args.rows, region_offset=n, seed=n)
            return school, sheet

        def wal_size() -> int:
            return wal.stat().st_size if wal.exists() else 0

        at_kill: list[int] = []

        def seen(size: int) -> bool:
            at_kill.append(size)
            return True

        def empty_wal() -> None:
            at_kill.clear()
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        def wal_note() -> str:
            # uncommitted pages the import had already spilled into the emptied WAL
            if connection.vendor != "sqlite" or not at_kill:
                return ""
            return f", its uncommitted pages in the WAL: {at_kill[-1] / 1e6:.1f} MB"

        # 1a. CLI killed in its write phase ------------------------------------------------
        school, sheet = fresh(1)
        empty_wal()
        proc = cli(sheet, school.code, env)
        t0 = time.monotonic()
        killed = kill_when(proc, lambda: writing(db) and seen(wal_size()))
        t_write = time.monotonic() - t0
        after = counts(school)
        check(
            killed and not any(after.values()),
            f"CLI kill -9 in the write phase ({t_write:.1f} s in{wal_note()}): "
            f"{'killed' if killed else 'ended before the kill'}, rows left {after}",
        )
        # 1b. CLI killed halfway through reading and validation ----------------------------
        proc = cli(sheet, school.code, env)
        time.sleep(t_write / 2)  # halfway to where the first one began to write
        alive = proc.poll() is None
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        after = counts(school)
        check(
            alive and not any(after.values()),
            f"CLI kill -9 while validating ({t_write / 2:.1f} s in): rows {after}",
        )
        proc = cli(sheet, school.code, env)
        out, err = proc.communicate()
        after = counts(school)
        check(
            proc.returncode == 0 and after["cards"] == args.rows,
            f"rerun after the kills: exit {proc.returncode}, {out.strip()[-80:]} {err[-200:]}",
        )

        # 2. the worker killed while it runs an import job -----------------------------------
        school, sheet = fresh(2)
        with sheet.open("rb") as fh:
            job = start_import(
                school=school,
                upload=File(fh, name="花名册.xlsx"),
                term=None,
                dry_run=False,
                by=None,
            )
        worker_cmd = [sys.executable, "-m", "guanai", "worker", "--interval", "0.2"]
        log = (data_dir / "worker.log").open("w")
        empty_wal()
        worker = subprocess.Popen(worker_cmd, env=env, cwd=ROOT, stdout=log, stderr=log)

        def running_and_writing() -> bool:
            status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            return status == JobStatus.RUNNING and writing(db) and seen(wal_size())

        killed = kill_when(worker, running_and_writing)
        worker = None
        job.refresh_from_db()
        after = counts(school)
        check(
            killed and not any(after.values()) and job.status == JobStatus.RUNNING,
            f"worker kill -9 in the write phase{wal_note()}: rows left {after}, "
            f"job {job.get_status_display()}",
        )
        worker = subprocess.Popen(worker_cmd, env=env, cwd=ROOT, stdout=log, stderr=log)
        for _ in range(600):
            job.refresh_from_db()
            if job.status == JobStatus.FAILED:
                break
            time.sleep(0.1)
        check(
            job.status == JobStatus.FAILED and job.message == WORKER_DIED and job.retryable,
            f"a new worker marks it: {job.get_status_display()} “{job.message}”, "
            f"retryable {job.retryable}",
        )
        if job.status == JobStatus.FAILED and job.retryable:
            retry_job(job=job)
        for _ in range(3000):
            job.refresh_from_db()
            if job.finished:
                break
            time.sleep(0.1)
        after = counts(school)
        check(
            job.status == JobStatus.SUCCEEDED and after["cards"] == args.rows,
            f"retried: {job.get_status_display()} “{job.message}”, cards {after['cards']:,}",
        )
        os.kill(worker.pid, signal.SIGTERM)
        worker.wait(30)
        worker = None

        # 3. a full disk in the write phase (SQLite) -------------------------------------------
        if connection.vendor == "sqlite":
            school, sheet = fresh(3)
            with connection.cursor() as cursor:  # an empty WAL: the import's write must grow it
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # The limit is per file: the emptied WAL may grow to 1 MB, less than the import
            # writes; the database file itself is written only at checkpoints, after commits.
            limit = 1_000_000

            def small_disk() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

            proc = cli(sheet, school.code, env, preexec_fn=small_disk)
            out, err = proc.communicate()
            after = counts(school)
            check(
                proc.returncode == 2 and "Traceback" not in err and not any(after.values()),
                f"disk full while writing: exit {proc.returncode}, "
                f"“{err.strip().splitlines()[-1][:150] if err.strip() else out[-150:]}”, "
                f"rows {after}",
            )
            proc = cli(sheet, school.code, env)
            out, err = proc.communicate()
            check(
                proc.returncode == 0 and counts(school)["cards"] == args.rows,
                f"rerun with room on the disk: exit {proc.returncode}",
            )

        # 4. no database at start ---------------------------------------------------------------
        gone = dict(env, DATABASE_URL="postgres://postgres@127.0.0.1:1/guanai")
        for what, argv in [
            ("import-roster", ["import-roster", str(sheet), "--school", "F1"]),
            ("worker", ["worker"]),
        ]:
            proc = subprocess.run(  # noqa: PLW1510 — the exit status is the result
                [
                    sys.executable,
                    "-c",
                    "from guanai.lib.db_errors import run_cli; run_cli()",
                    *argv,
                ],
                env=gone,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            tracebacks = proc.stderr.count("Traceback")
            check(
                proc.returncode == 2 and last.startswith("无法连接数据库"),
                f"no database, guanai {what}: exit {proc.returncode}, “{last[:150]}”"
                + (f" (after {tracebacks} logged traceback(s))" if tracebacks else ""),
            )
    finally:
        if worker is not None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        from django.db import connections

        connections.close_all()
        if args.pg:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    failed = [w for ok, w in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} of {len(RESULTS)} checks passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
