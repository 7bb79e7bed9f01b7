"""The access log as an auditor needs it (等保 level 3, 网络安全法 §21): append-only below the
ORM, hash-chained, verifiable and exportable.

- Append-only: database triggers refuse UPDATE and DELETE on the table, whatever the code does
  (`QuerySet.update()`, `.delete()`, raw SQL). `TRIGGERS` holds the SQL per engine; migration
  0007 installs it. A later migration that makes SQLite rebuild the table (an AlterField on
  AccessLog) drops the triggers with the old table: it must call `install_triggers` again (a
  test fails until it does).
- Hash chain: each row carries `prev_hash` (the row before's `row_hash`) and `row_hash` =
  sha256(prev_hash + canonical content). Deleting, inserting or changing a row breaks the chain
  from there on; `verify()` reports the first broken row. `AccessLog.save()` computes the hash
  under `chain_lock()`, so two writers never read the same head.
- Export: the log between two dates as Excel for the yearly compliance audit, hashes included so
  the auditor can check the chain without us.

Emptying the whole database (`manage.py flush`, used between browser tests) is not an edit of
the log and stays possible: on PostgreSQL it is a TRUNCATE, which row triggers do not see; on
SQLite the delete trigger asks `guanai_audit_flushing()`, true only inside Django's flush.
"""

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connections
from django.utils import timezone

GENESIS = "0" * 64
TABLE = "accounts_accesslog"
# Any constant: the one PostgreSQL advisory lock that serialises writers of the chain.
PG_LOCK_KEY = 0x6775616E6169  # "guanai"

# --- the hash -----------------------------------------------------------------------------------


def canonical(
    *,
    at: dt.datetime,
    user_id: int | None,
    username: str,
    action: str,
    child_id: int | None,
    school_id: int | None,
    detail: str,
    ip: str | None,
) -> str:
    """One row's content as text, the same before the insert and after reading it back from
    either engine: the time in UTC to the microsecond, ids as numbers, a blank address as null."""
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return json.dumps(
        [
            at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            user_id,
            username,
            action,
            child_id,
            school_id,
            detail,
            ip or None,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


def content_of(log) -> str:
    """The canonical content of an AccessLog (saved or about to be)."""
    return canonical(
        at=log._meta.get_field("at").to_python(log.at),
        user_id=log.user_id,
        username=log.username,
        action=log.action,
        child_id=log.child_id,
        school_id=log.school_id,
        detail=log.detail,
        ip=log._meta.get_field("ip").get_prep_value(log.ip),
    )


def chain_lock(using: str) -> None:
    """Inside a transaction: become the only writer of the chain until it ends. SQLite already
    has one writer at a time (transactions here begin IMMEDIATE, settings.py), so the read of
    the head that follows is the head this insert extends; PostgreSQL takes an advisory lock."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PG_LOCK_KEY])


def head_hash(model, using: str) -> str:
    """The row_hash of the last row (in id order), or GENESIS for an empty log."""
    last = model._base_manager.using(using).order_by("-id").values_list("row_hash", flat=True)
    return next(iter(last[:1]), GENESIS)


def seal(log, using: str) -> None:
    """Set prev_hash and row_hash of a new row. Call inside transaction.atomic() after
    chain_lock(): the caller inserts before the transaction ends."""
    assert connections[using].in_atomic_block, "the chain is extended inside a transaction"
    log.prev_hash = head_hash(type(log), using)
    log.row_hash = chain_hash(log.prev_hash, content_of(log))


def rechain(model, using: str, batch: int = 2000) -> int:
    """Chain every row in id order (the data migration for rows written before the chain)."""
    prev, count = GENESIS, 0
    changed = []
    for log in model._base_manager.using(using).order_by("id").iterator(chunk_size=batch):
        log.prev_hash = prev
        log.row_hash = prev = chain_hash(prev, content_of(log))
        changed.append(log)
        count += 1
        if len(changed) >= batch:
            model._base_manager.using(using).bulk_update(changed, ["prev_hash", "row_hash"])
            changed = []
    if changed:
        model._base_manager.using(using).bulk_update(changed, ["prev_hash", "row_hash"])
    return count


# --- verification -------------------------------------------------------------------------------


@dataclass
class Verdict:
    count: int  # rows checked
    broken_id: int | None = None  # the first row whose link or content does not hold
    message: str = ""
    head: str = GENESIS  # the last row's hash: write it down, the next audit finds it again

    @property
    def ok(self) -> bool:
        return self.broken_id is None


FIELDS = (
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "child_id",
    "school_id",
    "detail",
    "ip",
    "prev_hash",
    "row_hash",
)


def _rows(batch: int) -> Iterator[tuple]:
    """Every row in id order, `batch` at a time (keyset pages: no long-held cursor)."""
    from .models import AccessLog

    last = 0
    while True:
        page = list(
            AccessLog.objects.filter(id__gt=last).order_by("id").values_list(*FIELDS)[:batch]
        )
        yield from page
        if len(page) < batch:
            return
        last = page[-1][0]


def verify(*, batch: int = 5000) -> Verdict:
    """Walk the chain in id order. The first row whose prev_hash is not the row before's hash
    (a row before it deleted, inserted or changed) or whose own content no longer gives its
    row_hash (the row changed) is the broken one."""
    prev, prev_id, count = GENESIS, None, 0
    for id_, at, user_id, username, action, child_id, school_id, detail, ip, ph, rh in _rows(batch):
        if ph != prev:
            after = f"编号 {prev_id}" if prev_id else "日志开头"
            return Verdict(
                count,
                id_,
                f"审计日志在编号 {id_} 处断开：它与前一条（{after}）接不上，"
                "其间的记录被删除、插入或改动过",
                prev,
            )
        content = canonical(
            at=at,
            user_id=user_id,
            username=username,
            action=action,
            child_id=child_id,
            school_id=school_id,
            detail=detail,
            ip=ip,
        )
        if chain_hash(ph, content) != rh:
            return Verdict(count, id_, f"审计日志编号 {id_} 的内容被改动过：与它的哈希不符", prev)
        prev, prev_id, count = rh, id_, count + 1
    return Verdict(count, None, f"审计日志完整：{count} 条", prev)


# --- export -------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "编号",
    "时间",
    "用户",
    "操作",
    "学生",
    "学校",
    "内容",
    "地址",
    "前一条哈希",
    "本条哈希",
]


def export(*, path: Path | str, since: dt.date | None = None, until: dt.date | None = None) -> int:
    """Write the log between two days (inclusive, Shanghai time) to an .xlsx for the yearly
    compliance audit, hashes included; the export itself is logged (by 命令行). Returns the rows
    written. The workbook is built in memory: a year of a town is some hundred thousand rows."""
    from guanai.exports import table_xlsx

    from .models import AccessAction, AccessLog
    from .services import log_access

    logs = AccessLog.objects.order_by("id").select_related("child", "school")
    if since:
        logs = logs.filter(at__date__gte=since)
    if until:
        logs = logs.filter(at__date__lte=until)
    labels = dict(AccessAction.choices)

    def rows():
        for log in logs.iterator(chunk_size=2000):
            yield [
                log.id,
                f"{timezone.localtime(log.at):%Y-%m-%d %H:%M:%S}",
                log.username,
                labels.get(log.action, log.action),
                log.child.name if log.child else "",
                log.school.name if log.school else "",
                log.detail,
                log.ip or "",
                log.prev_hash,
                log.row_hash,
            ]

    span = f"{since or '最早'} 至 {until or '最近'}"
    content, count = table_xlsx(
        sheet_name="访问日志",
        title=f"访问日志 {span} · 导出人 命令行 · {timezone.localtime():%Y-%m-%d %H:%M}",
        header=EXPORT_HEADER,
        rows=rows(),
    )
    Path(path).write_bytes(content)
    log_access(
        request=None,
        user=None,
        action=AccessAction.EXPORT,
        detail=f"导出访问日志 {count} 条（{span}，合规审计）",
    )
    return count


# --- the triggers -------------------------------------------------------------------------------

REFUSE_UPDATE = "访问日志只能追加，不能修改"
REFUSE_DELETE = "访问日志只能追加，不能删除"

TRIGGERS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER IF NOT EXISTS accesslog_no_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{REFUSE_UPDATE}'); END""",
            # Outside this app's connections the function does not exist: the delete fails.
            f"""CREATE TRIGGER IF NOT EXISTS accesslog_no_delete BEFORE DELETE ON {TABLE}
            WHEN NOT guanai_audit_flushing()
            BEGIN SELECT RAISE(ABORT, '{REFUSE_DELETE}'); END""",
        ],
        [
            "DROP TRIGGER IF EXISTS accesslog_no_update",
            "DROP TRIGGER IF EXISTS accesslog_no_delete",
        ],
    ),
    "postgresql": (
        [
            f"""CREATE OR REPLACE FUNCTION accesslog_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    RAISE EXCEPTION '{REFUSE_UPDATE}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RAISE EXCEPTION '{REFUSE_DELETE}' USING ERRCODE = 'integrity_constraint_violation';
            END $$""",
            f"DROP TRIGGER IF EXISTS accesslog_append_only ON {TABLE}",
            f"""CREATE TRIGGER accesslog_append_only BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION accesslog_append_only()""",
        ],
        [
            f"DROP TRIGGER IF EXISTS accesslog_append_only ON {TABLE}",
            "DROP FUNCTION IF EXISTS accesslog_append_only()",
        ],
    ),
}


def _run(schema_editor, statements: list[str]) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)


def install_triggers(schema_editor) -> None:
    """Create the append-only triggers for this engine (a migration's RunPython)."""
    create, _ = TRIGGERS.get(schema_editor.connection.vendor, ([], []))
    _run(schema_editor, create)


def drop_triggers(schema_editor) -> None:
    _, drop = TRIGGERS.get(schema_editor.connection.vendor, ([], []))
    _run(schema_editor, drop)


def trigger_names(connection) -> set[str]:
    """The append-only triggers present on the access-log table."""
    from guanai.lib.triggers import names

    return names(connection, TABLE)


def _flushing() -> int:
    """True only while Django's flush empties every table (between transactional tests, or
    `manage.py flush`): the SQLite delete trigger lets that through and nothing else."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    flush = BaseDatabaseOperations.execute_sql_flush.__code__
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is flush:
            return 1
        frame = frame.f_back
    return 0


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """connection_created receiver: the SQL function the SQLite delete trigger asks."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("guanai_audit_flushing", 0, _flushing)
