"""The access log's chain across a migration, an emptied database and concurrent writers
(transactional: each needs commits that other connections see)."""

import sqlite3
import threading

from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from guanai.accounts import audit
from guanai.accounts.models import AccessLog
from guanai.accounts.services import log_access


def test_rows_from_before_the_chain_are_chained_by_the_migration(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0005_access_action_incident")])
    assert not audit.trigger_names(connection)  # undoing the migration drops them
    old = executor.loader.project_state([("accounts", "0005_access_action_incident")]).apps
    OldLog = old.get_model("accounts", "AccessLog")
    for i in range(5):
        OldLog.objects.create(username="town", action="export", detail=f"旧记录 {i}", ip="::1")
    OldLog.objects.filter(detail="旧记录 4").update(detail="旧记录可改")  # before: no trigger
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    verdict = audit.verify()
    assert verdict.ok and verdict.count == 5
    assert AccessLog.objects.order_by("id").first().prev_hash == audit.GENESIS
    log_access(request=None, user=None, action="export", detail="迁移后的第一条")
    assert audit.verify().count == 6
    assert audit.trigger_names(connection)


def test_emptying_the_whole_database_is_not_an_edit_of_the_log(transactional_db):
    """`flush` (between browser tests; a deliberate wipe) still empties it on both engines;
    the delete trigger lets nothing else through."""
    log_access(request=None, user=None, action="export", detail="将被清空")
    call_command("flush", interactive=False, verbosity=0)
    assert not AccessLog.objects.exists()


def test_concurrent_writers_keep_one_chain(transactional_db, tmp_path):
    """Writers in separate connections never read the same head (PostgreSQL: advisory lock;
    SQLite: one writer at a time). SQLite's in-memory test database is one shared cache, so
    there the writers (and the check) use a copy of it in a temporary FILE, with the settings'
    WAL, IMMEDIATE transactions and busy timeout, as in production."""
    on_file = connection.vendor == "sqlite" and connection.is_in_memory_db()
    if on_file:
        connection.ensure_connection()
        path = tmp_path / "chain.sqlite3"
        copy = sqlite3.connect(path)
        connection.connection.backup(copy)
        copy.close()
        saved = connections.settings
        # New connections (one per thread) open the file; this thread keeps the memory one.
        connections.__dict__["settings"] = {**saved, "default": {**saved["default"], "NAME": path}}
    errors: list[BaseException] = []
    verdicts: list = []

    def write(n: int) -> None:
        try:
            for i in range(25):
                log_access(request=None, user=None, action="export", detail=f"线程 {n} 第 {i} 条")
        except BaseException as exc:  # noqa: BLE001 — reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    def check() -> None:
        try:
            verdicts.append(audit.verify())
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        checker = threading.Thread(target=check)
        checker.start()
        checker.join()
    finally:
        if on_file:
            connections.__dict__["settings"] = saved
    assert errors == []
    verdict = verdicts[0]
    assert verdict.ok and verdict.count == 100
    if on_file:  # the rows went to the file, not to the shared in-memory database
        assert not AccessLog.objects.exists()
