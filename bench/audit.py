"""The cost of the access log's hash chain (issue #19): log_access with the chain against the
plain insert it replaced, one writer and several, and `guanai audit verify` over a large log.

    .venv/bin/python bench/audit.py                   # SQLite (WAL) file under a temporary dir
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanai_audit_bench .venv/bin/python bench/audit.py
    (an empty PostgreSQL database; BENCH_WRITES rows per run (3000), BENCH_THREADS concurrent
    writers (4), BENCH_VERIFY_ROWS rows in the log for verify (200000))

Each write is its own transaction (autocommit), as a card view or an export writes it. Prints
rows/s for: plain insert (no chain, what log_access did before), log_access with the chain
(one writer), log_access from BENCH_THREADS threads at once (the chain must stay whole), and
verify's rows/s, with the process's peak RSS.
"""

import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_WRITES = int(os.environ.get("BENCH_WRITES", "3000"))
N_THREADS = int(os.environ.get("BENCH_THREADS", "4"))
N_VERIFY = int(os.environ.get("BENCH_VERIFY_ROWS", "200000"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> Path:
    os.environ.pop("DATABASE_URL", None)
    data_dir = Path(tempfile.mkdtemp(prefix="guanai-bench-audit-"))
    os.environ["GUANAI_DATA_DIR"] = str(data_dir)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.0f} 行/秒  ({seconds * 1000 / n:.2f} ms/行)"


def plain_inserts(n: int) -> float:
    """The insert log_access did before the chain: Model.save without the chain's lock and read."""
    from django.db import models

    from guanai.accounts.models import AccessLog

    start = time.perf_counter()
    for i in range(n):
        row = AccessLog(username="bench", action="export", detail=f"无链 {i}")
        models.Model.save(row)
    return time.perf_counter() - start


def chained_writes(n: int, tag: str = "") -> float:
    from guanai.accounts.services import log_access

    start = time.perf_counter()
    for i in range(n):
        log_access(request=None, user=None, action="export", detail=f"有链 {tag}{i}")
    return time.perf_counter() - start


def concurrent_writes(n: int, threads: int) -> tuple[float, list]:
    from django.db import connections

    errors: list = []

    def work(k: int) -> None:
        try:
            chained_writes(n // threads, tag=f"线程{k} ")
        except Exception as exc:  # noqa: BLE001 — counted and printed
            errors.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - start, errors


def fill_chain(n: int) -> None:
    """n chained rows appended with executemany (the chain computed here, as log_access would)."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from guanai.accounts import audit
    from guanai.accounts.models import AccessLog

    with transaction.atomic():
        audit.chain_lock("default")
        prev = audit.head_hash(AccessLog, "default")
        at = timezone.now()
        params = []
        for i in range(n):
            when = at + dt.timedelta(microseconds=i)
            detail = f"档卡页查看完整身份证号 {i}"
            content = audit.canonical(
                at=when,
                user_id=None,
                username="bench",
                action="view_id_number",
                child_id=None,
                school_id=None,
                detail=detail,
                ip="10.0.0.1",
            )
            row_hash = audit.chain_hash(prev, content)
            params.append([when, "bench", "view_id_number", detail, "10.0.0.1", prev, row_hash])
            prev = row_hash
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {audit.TABLE} (at, username, action, detail, ip, prev_hash, row_hash)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                params,
            )


def reset(engine: str) -> None:
    """Empty the log (the bench's own database: triggers dropped for it, then put back)."""
    from django.db import connection

    from guanai.accounts import audit

    with connection.cursor() as cursor:
        for sql in audit.TRIGGERS[engine][1]:
            cursor.execute(sql)
        cursor.execute(f"DELETE FROM {audit.TABLE}")
        for sql in audit.TRIGGERS[engine][0]:
            cursor.execute(sql)


def main() -> None:
    data_dir = setup_django()
    from django.db import connection

    from guanai.accounts import audit
    from guanai.accounts.models import AccessLog

    engine = connection.vendor
    print(f"引擎 {engine}，每轮 {N_WRITES} 次写入（每次一个事务）")
    try:
        reset(engine)  # a PostgreSQL database used before
        plain = plain_inserts(N_WRITES)
        print(f"  无链插入（原来的 log_access）  {rate(N_WRITES, plain)}")
        reset(engine)  # the plain rows are not on the chain
        chained = chained_writes(N_WRITES)
        print(
            f"  有链 log_access，单线程         {rate(N_WRITES, chained)}  = {chained / plain:.2f}×"
        )
        seconds, errors = concurrent_writes(N_WRITES, N_THREADS)
        done = N_WRITES // N_THREADS * N_THREADS
        print(
            f"  有链 log_access，{N_THREADS} 线程同时写   {rate(done, seconds)}  错误 {len(errors)}"
            + (f"：{errors[:3]}" if errors else "")
        )
        verdict = audit.verify()
        print(f"  写完后核对：{verdict.message}")
        assert verdict.ok and verdict.count == N_WRITES + done
        reset(engine)
        fill_chain(N_VERIFY)
        start = time.perf_counter()
        verdict = audit.verify()
        seconds = time.perf_counter() - start
        print(
            f"  verify {verdict.count} 行                {rate(verdict.count, seconds)}  {verdict.message}"
        )
        assert verdict.ok and AccessLog.objects.count() == N_VERIFY
        print(f"  进程峰值内存 {rss_mb():.0f} MB")
    finally:
        if engine == "sqlite":
            connection.close()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
