"""`guanai audit export -o FILE.xlsx [--since DATE] [--until DATE]`: the access log for the
yearly compliance audit, hashes included, the export itself logged (issue #19)."""

import datetime as dt

import openpyxl
import pytest
from django.core.management import call_command

from guanai.accounts import audit
from guanai.accounts.models import AccessAction, AccessLog
from guanai.accounts.services import log_access
from guanai.testing import SUITE_NOW


def _log_on(clock, cast, day: str, detail: str) -> AccessLog:
    clock.move_to(dt.datetime.fromisoformat(f"{day}T09:30:00+08:00"))
    return log_access(
        request=None,
        user=cast["users"]["zx_leader"],
        action=AccessAction.VIEW_SENSITIVE,
        child=cast["children"]["c31a"],
        detail=detail,
    )


def test_export_writes_the_days_asked_for_with_their_hashes(cast, clock, tmp_path, capsys):
    _log_on(clock, cast, "2026-10-31", "十月的")
    inside = [_log_on(clock, cast, day, f"{day} 查看") for day in ("2026-11-01", "2026-11-20")]
    _log_on(clock, cast, "2026-11-21", "太晚的")
    clock.move_to(SUITE_NOW)
    target = tmp_path / "audit.xlsx"
    call_command(
        "audit", "export", "-o", str(target), "--since", "2026-11-01", "--until", "2026年11月20日"
    )
    assert capsys.readouterr().out.strip() == f"已导出访问日志 2 条到 {target}"
    rows = list(openpyxl.load_workbook(target).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0].startswith("访问日志 2026-11-01 至 2026-11-20 · 导出人 命令行 · 2026-11-29")
    assert list(rows[1]) == audit.EXPORT_HEADER
    body = rows[2:]
    assert [r[6] for r in body] == ["2026-11-01 查看", "2026-11-20 查看"]
    first = body[0]
    assert first[0] == inside[0].pk and first[1] == "2026-11-01 09:30:00"
    assert first[2:6] == ("zx_leader", "查看敏感信息", "张三", "虎山镇中心小学")
    assert (first[8], first[9]) == (inside[0].prev_hash, inside[0].row_hash)
    export = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert export.user is None and export.username == "命令行"
    assert export.detail == "导出访问日志 2 条（2026-11-01 至 2026-11-20，合规审计）"
    assert audit.verify().count == 5  # the export's own row extends the chain


def test_export_without_dates_writes_the_whole_log(cast, tmp_path):
    for i in range(3):
        log_access(request=None, user=None, action=AccessAction.EXPORT, detail=f"第 {i} 次")
    target = tmp_path / "all.xlsx"
    call_command("audit", "export", "-o", str(target))
    rows = list(openpyxl.load_workbook(target).worksheets[0].iter_rows(values_only=True))
    assert "最早 至 最近" in rows[0][0] and len(rows) == 2 + 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "明天"], "起始日期：日期“明天”无法识别"),
        (["--until", "2026-02-30"], "截止日期：日期“2026-02-30”不存在"),
        (["--since", "2026-12-01", "--until", "2026-11-01"], "起始日期不能晚于截止日期"),
    ],
)
def test_a_bad_date_is_refused_in_chinese_and_nothing_is_written(
    db, tmp_path, capsys, args, message
):
    target = tmp_path / "x.xlsx"
    with pytest.raises(SystemExit) as exited:
        call_command("audit", "export", "-o", str(target), *args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert not target.exists() and not AccessLog.objects.exists()


def test_an_unwritable_file_is_refused_and_not_logged(db, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("audit", "export", "-o", str(tmp_path / "missing" / "x.xlsx"))
    assert exited.value.code == 2
    assert "无法写入文件" in capsys.readouterr().err
    assert not AccessLog.objects.exists()


def test_the_command_without_a_subcommand_says_which_in_chinese(db, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("audit")
    assert exited.value.code == 2
    assert "guanai audit verify" in capsys.readouterr().err
