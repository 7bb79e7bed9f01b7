"""A command that cannot reach or write its database says so in one Chinese sentence.

`guanai import-roster`, `guanai worker` … started while PostgreSQL is down, with a wrong
DATABASE_URL, before `guanai init`, or on a full disk would otherwise end in a Python traceback
that a school's part-time administrator cannot read. `run_cli` runs the console script and turns
those database errors into a sentence on stderr and exit status 2 (as for a file that cannot be
read); anything else keeps its traceback, which is a bug to report.
"""

import errno
import os
import sys

from django.db import DatabaseError


def database_error_message(exc: BaseException) -> str:
    """What went wrong with the database, in words for the person at the console."""
    text = str(exc)
    low = text.lower()
    cause = exc.__cause__ or exc.__context__
    full = isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EFBIG)
    if full or "disk is full" in low or "no space left" in low or "file too large" in low:
        return "磁盘空间不足，数据库无法写入，本次操作没有写入任何数据。请清理磁盘空间后重试。"
    if "disk i/o error" in low:  # SQLite's word when a write fails: a full disk or a bad one
        return (
            "数据库写入磁盘失败（磁盘可能已满或出错），本次操作没有写入任何数据。请检查磁盘后重试。"
        )
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return "数据库还没有初始化（缺少数据表）。请先运行 guanai init（或 guanai migrate）。"
    if "unable to open database" in low or "readonly database" in low:
        return "无法打开数据库文件，请检查数据目录（GUANAI_DATA_DIR）是否存在、是否有写入权限。"
    if "database is locked" in low:
        return "数据库正忙（另一个程序长时间占用），请稍后重试。"
    if any(
        word in low
        for word in ("connection", "could not connect", "server closed", "timeout", "password")
    ):
        return (
            "无法连接数据库，请检查数据库服务是否已启动、DATABASE_URL 是否正确。"
            f"（{text.strip().splitlines()[0][:160]}）"
        )
    return f"数据库出错，操作没有完成：{text.strip().splitlines()[0][:200] if text else exc!r}"


def run_cli(argv: list[str] | None = None) -> None:
    """`guanai …` with database errors as a Chinese sentence and exit status 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["guanai", *args])
    except DatabaseError as exc:
        sys.stderr.write(database_error_message(exc) + "\n")
        sys.exit(2)
