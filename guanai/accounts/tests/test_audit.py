"""The access log an auditor accepts: append-only below the ORM (triggers on SQLite and
PostgreSQL), hash-chained, `guanai audit verify` finding the first broken row (issue #19)."""

import itertools
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError

from guanai.accounts import audit
from guanai.accounts.models import AccessAction, AccessLog
from guanai.accounts.services import log_access


def _logs(cast, n: int = 3) -> list[AccessLog]:
    child = cast["children"]["c31a"]
    return [
        log_access(
            request=None,
            user=cast["users"]["zx_leader"],
            action=AccessAction.VIEW_ID_NUMBER,
            child=child,
            detail=f"档卡页查看完整身份证号 {i}",
        )
        for i in range(n)
    ]


def _rows() -> list[tuple]:
    return list(AccessLog.objects.order_by("id").values_list(*audit.FIELDS))


def _refused(sql_or_call) -> None:
    """The statement fails in the database and changes nothing (its savepoint is undone)."""
    with pytest.raises((IntegrityError, DatabaseError)) as failure, transaction.atomic():
        if callable(sql_or_call):
            sql_or_call()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql_or_call)
    assert "访问日志只能追加" in str(failure.value)


@contextmanager
def _triggers_dropped():
    """Someone with the database's owner rights drops the triggers (undone with the test's
    transaction, and put back here in any case)."""
    create, drop = audit.TRIGGERS[connection.vendor]
    with connection.cursor() as cursor:
        for sql in drop:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in create:
                cursor.execute(sql)


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- append-only below the ORM ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migrations_leave_the_append_only_triggers_in_place():
    """A later migration that makes SQLite rebuild the table drops them: this test says so."""
    expected = {
        "sqlite": {"accesslog_no_update", "accesslog_no_delete"},
        "postgresql": {"accesslog_append_only"},
    }[connection.vendor]
    assert audit.trigger_names(connection) >= expected


def test_queryset_update_and_delete_are_refused_by_the_database(cast):
    logs = _logs(cast)
    before = _rows()
    _refused(lambda: AccessLog.objects.filter(pk=logs[1].pk).update(detail="改过"))
    _refused(lambda: AccessLog.objects.update(username="别人"))
    _refused(lambda: AccessLog.objects.filter(pk=logs[0].pk).delete())
    _refused(lambda: AccessLog.objects.all().delete())
    assert _rows() == before


def test_raw_sql_update_and_delete_are_refused_too(cast):
    _logs(cast)
    before = _rows()
    _refused(f"UPDATE {audit.TABLE} SET detail = 'x'")
    _refused(f"UPDATE {audit.TABLE} SET row_hash = prev_hash")
    _refused(f"DELETE FROM {audit.TABLE}")
    _refused(f"DELETE FROM {audit.TABLE} WHERE id = {before[-1][0]}")
    assert _rows() == before


def test_a_row_object_cannot_be_saved_again_or_deleted(cast):
    (row,) = _logs(cast, 1)
    row.detail = "改"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    assert AccessLog.objects.get(pk=row.pk).detail == "档卡页查看完整身份证号 0"


def test_whose_rows_are_in_the_log_cannot_be_deleted_from_under_it(cast):
    """user, child and school are PROTECT: deleting one would otherwise null or cascade
    into the log (an UPDATE or DELETE the trigger refuses anyway, with a worse message)."""
    _logs(cast, 1)
    before = _rows()
    for obj in (cast["users"]["zx_leader"], cast["children"]["c31a"]):
        with pytest.raises(ProtectedError), transaction.atomic():
            obj.delete()
    assert _rows() == before


def test_inserting_is_still_allowed_below_the_orm(cast):
    """Append-only, not read-only: the triggers leave INSERT alone (the chain catches a forged
    row, see below)."""
    _logs(cast, 1)
    _raw(
        f"INSERT INTO {audit.TABLE} (at, username, action, detail, prev_hash, row_hash) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        ["2026-11-29 02:00:00", "x", "export", "伪造", "0", "0"],
    )
    assert AccessLog.objects.count() == 2


# --- the hash chain -----------------------------------------------------------------------------


def test_each_row_carries_the_hash_of_the_one_before(cast):
    rows = _logs(cast, 4)
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    stored = AccessLog.objects.get(pk=rows[2].pk)
    # what is read back gives the same hash on either engine (time to the microsecond, ids)
    assert audit.chain_hash(stored.prev_hash, audit.content_of(stored)) == stored.row_hash
    assert len({r.row_hash for r in rows}) == 4


def test_rows_written_without_log_access_are_chained_too(db):
    AccessLog.objects.create(username="test", action="export", detail="直接写入")
    AccessLog.objects.bulk_create(
        [AccessLog(username="test", action="export", detail=f"批量 {i}") for i in range(3)]
    )
    verdict = audit.verify()
    assert verdict.ok and verdict.count == 4


def test_verify_passes_an_untouched_log_in_small_batches(cast):
    _logs(cast, 7)
    verdict = audit.verify(batch=2)
    assert verdict.ok and verdict.count == 7
    assert verdict.message == "审计日志完整：7 条"
    assert verdict.head == AccessLog.objects.order_by("-id").first().row_hash


@pytest.mark.django_db
def test_an_empty_log_is_whole():
    assert audit.verify().message == "审计日志完整：0 条"


def test_verify_finds_a_changed_row(cast):
    logs = _logs(cast, 5)
    with _triggers_dropped():
        _raw(f"UPDATE {audit.TABLE} SET detail = %s WHERE id = %s", ["没看过", logs[2].pk])
    verdict = audit.verify(batch=2)
    assert not verdict.ok and verdict.broken_id == logs[2].pk and verdict.count == 2
    assert verdict.message == f"审计日志编号 {logs[2].pk} 的内容被改动过：与它的哈希不符"


def test_verify_finds_a_changed_row_whose_hash_was_recomputed(cast):
    """Recomputing the changed row's hash moves the break to the next row, not away."""
    logs = _logs(cast, 4)
    forged = AccessLog.objects.get(pk=logs[1].pk)
    forged.user_id, forged.username = None, "命令行"
    new_hash = audit.chain_hash(forged.prev_hash, audit.content_of(forged))
    with _triggers_dropped():
        _raw(
            f"UPDATE {audit.TABLE} SET user_id = NULL, username = %s, row_hash = %s WHERE id = %s",
            ["命令行", new_hash, logs[1].pk],
        )
    verdict = audit.verify()
    assert verdict.broken_id == logs[2].pk
    assert "断开" in verdict.message and f"编号 {logs[1].pk}" in verdict.message


def test_verify_finds_a_deleted_row(cast):
    logs = _logs(cast, 5)
    with _triggers_dropped():
        _raw(f"DELETE FROM {audit.TABLE} WHERE id = %s", [logs[3].pk])
    verdict = audit.verify()
    assert verdict.broken_id == logs[4].pk and verdict.count == 3
    assert verdict.message == (
        f"审计日志在编号 {logs[4].pk} 处断开：它与前一条（编号 {logs[2].pk}）接不上，"
        "其间的记录被删除、插入或改动过"
    )


def test_verify_finds_the_first_rows_deleted(cast):
    logs = _logs(cast, 3)
    with _triggers_dropped():
        _raw(f"DELETE FROM {audit.TABLE} WHERE id = %s", [logs[0].pk])
    verdict = audit.verify()
    assert verdict.broken_id == logs[1].pk and "日志开头" in verdict.message


def test_verify_finds_a_forged_row(cast):
    _logs(cast, 2)
    _raw(
        f"INSERT INTO {audit.TABLE} (at, username, action, detail, prev_hash, row_hash) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        ["2026-11-29 02:00:00", "x", "export", "伪造", audit.GENESIS, "0" * 64],
    )
    forged = AccessLog.objects.order_by("-id").first()
    _logs(cast, 1)  # the next real row chains on the forged one's claimed hash
    verdict = audit.verify()
    assert verdict.broken_id == forged.pk


# --- guanai audit verify ------------------------------------------------------------------------


def test_audit_verify_command_says_the_log_is_whole(cast, capsys):
    _logs(cast, 3)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "审计日志完整：3 条"
    assert AccessLog.objects.order_by("-id").first().row_hash in out


def test_audit_verify_command_names_the_first_broken_row_and_exits_1(cast, capsys):
    logs = _logs(cast, 3)
    with _triggers_dropped():
        _raw(f"DELETE FROM {audit.TABLE} WHERE id = %s", [logs[1].pk])
    with pytest.raises(SystemExit) as exited:
        call_command("audit", "verify")
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert f"审计日志在编号 {logs[2].pk} 处断开" in err and "已核对 1 条完好" in err


def test_outside_the_app_sqlite_refuses_the_delete_too():
    """The `sqlite3` shell on the database file has no guanai_audit_flushing(): the delete
    trigger cannot run and the delete fails (the update trigger needs nothing)."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE {audit.TABLE} (id INTEGER PRIMARY KEY, detail TEXT)")
    for sql in audit.TRIGGERS["sqlite"][0]:
        db.execute(sql)
    db.execute(f"INSERT INTO {audit.TABLE} (detail) VALUES ('看过')")
    with pytest.raises(sqlite3.OperationalError, match="guanai_audit_flushing"):
        db.execute(f"DELETE FROM {audit.TABLE}")
    with pytest.raises(sqlite3.IntegrityError, match="不能修改"):
        db.execute(f"UPDATE {audit.TABLE} SET detail = '没看过'")
    assert db.execute(f"SELECT detail FROM {audit.TABLE}").fetchall() == [("看过",)]
