"""A command that cannot reach or write its database ends with one Chinese sentence and exit
status 2, not a traceback (guanai.lib.db_errors; bench/faults.py shows the same for a full
disk during an import and for the worker)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError

from guanai.lib.db_errors import database_error_message

ROOT = Path(__file__).resolve().parents[3]


def _wrapped(message: str) -> OperationalError:
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.OperationalError as exc:
            raise OperationalError(message) from exc
    except OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("database or disk is full", "磁盘空间不足"),
        ("no such table: org_school", "guanai init"),
        ("unable to open database file", "无法打开数据库文件"),
        ("connection failed: Connection refused", "无法连接数据库"),
        ("database is locked", "数据库正忙"),
        ("disk I/O error", "数据库写入磁盘失败"),
        ("something else", "数据库出错"),
    ],
)
def test_each_database_failure_has_its_sentence(raw, says):
    assert says in database_error_message(_wrapped(raw))


def test_import_roster_without_a_database_says_so_in_chinese(tmp_path):
    sheet = tmp_path / "花名册.csv"
    sheet.write_text("姓名\n张三\n", encoding="utf-8")
    env = dict(
        os.environ,
        GUANAI_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:1/guanai",
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.run(  # noqa: PLW1510 — the exit status is the result
        [
            sys.executable,
            "-c",
            "from guanai.lib.db_errors import run_cli; run_cli()",
            "import-roster",
            str(sheet),
            "--school",
            "HS-ZX",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("无法连接数据库，请检查数据库服务是否已启动")


def test_import_roster_before_init_says_to_run_init(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GUANAI_DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    proc = subprocess.run(  # noqa: PLW1510 — the exit status is the result
        [sys.executable, "-c", "from guanai.lib.db_errors import run_cli; run_cli()"]
        + ["import-roster", str(tmp_path / "x.csv"), "--school", "HS-ZX"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "请先运行 guanai init" in proc.stderr
