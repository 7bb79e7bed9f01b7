"""`guanai audit verify` and `guanai audit export -o FILE.xlsx [--since DATE] [--until DATE]`:
the access log for an auditor (accounts/audit.py)."""

import sys

from django.core.management.base import BaseCommand

from guanai.accounts import audit
from guanai.lib.dates import DateError, query_date


class Command(BaseCommand):
    # A data command must not fail because an unrelated page's code has a problem.
    requires_system_checks: list = []
    help = "访问日志审计：verify 核对哈希链是否完整；export 导出访问日志（合规审计用）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", title="子命令")
        sub.add_parser(
            "verify",
            help="按顺序核对每一条访问日志的哈希链；完整时退出码 0，断开时指出第一条并退出码 1",
        )
        out = sub.add_parser("export", help="导出访问日志为 Excel（含哈希，供审计方自行核对）")
        out.add_argument("-o", "--output", required=True, help="输出文件 .xlsx")
        out.add_argument("--since", help="起始日期（含），如 2026-01-01")
        out.add_argument("--until", help="截止日期（含），如 2026-12-31")

    def handle(self, *args, what: str | None = None, **options):
        if what is None:
            self.stderr.write(
                "请写明子命令：guanai audit verify 或 guanai audit export -o 文件.xlsx"
            )
            sys.exit(2)
        if what == "verify":
            self._verify()
        else:
            self._export(options["output"], options.get("since"), options.get("until"))

    def _verify(self) -> None:
        verdict = audit.verify()
        if verdict.ok:
            self.stdout.write(verdict.message)
            self.stdout.write(f"最后一条的哈希：{verdict.head}（请记下，下次核对时它应仍在链上）")
            return
        self.stderr.write(verdict.message)
        self.stderr.write(f"在此之前已核对 {verdict.count} 条完好")
        sys.exit(1)

    def _export(self, output: str, since: str | None, until: str | None) -> None:
        try:
            first = query_date(since, label="起始日期")
            last = query_date(until, label="截止日期")
        except DateError as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        if first and last and first > last:
            self.stderr.write("起始日期不能晚于截止日期")
            sys.exit(2)
        try:
            count = audit.export(path=output, since=first, until=last)
        except OSError as exc:
            self.stderr.write(f"无法写入文件“{output}”：{exc}")
            sys.exit(2)
        self.stdout.write(f"已导出访问日志 {count} 条到 {output}")
