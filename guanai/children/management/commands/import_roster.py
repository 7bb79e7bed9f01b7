"""`guanai import-roster FILE --school CODE [--term TERM] [--dry-run] [--json]` (SPEC §6.1)."""

import json
import sys
from typing import NoReturn

from django.core.management.base import BaseCommand

from guanai.children.roster import RosterError, import_roster
from guanai.lib.dates import DateError, parse_term
from guanai.org.models import School


class Command(BaseCommand):
    # A data command must not fail because an unrelated page's code has a problem.
    requires_system_checks: list = []
    help = (
        "导入花名册（.xlsx/.xls/.csv）：逐行校验，按身份证号或学籍号新建或更新档卡。"
        "退出码：0 全部导入；1 有被拒绝的行；2 文件无法读取、没有表头行或学校代码不存在。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="花名册文件")
        parser.add_argument("--school", required=True, help="学校代码，如 HS-BQ")
        parser.add_argument("--term", help="学期，如 2026-2027-1（默认按今天推算）")
        parser.add_argument("--dry-run", action="store_true", help="只校验和统计，不写入")
        parser.add_argument("--json", action="store_true", dest="as_json", help="输出 JSON")
        parser.add_argument("--by", help="记入档卡历史的操作人（登录名）")

    def _fail(self, message: str, *, as_json: bool) -> NoReturn:
        if as_json:
            self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args, file, school, term=None, dry_run=False, as_json=False, by=None, **_):
        try:
            term = parse_term(term) if term else None
        except DateError as exc:
            self._fail(str(exc), as_json=as_json)
        found = School.objects.filter(code=school).first()
        if found is None:
            self._fail(f"学校代码“{school}”不存在", as_json=as_json)
        user = None
        if by:
            from guanai.accounts.models import User

            user = User.objects.filter(username=by).first()
            if user is None:
                self._fail(f"用户“{by}”不存在", as_json=as_json)
        try:
            result = import_roster(path=file, school=found, term=term, by=user, dry_run=dry_run)
        except RosterError as exc:
            self._fail(str(exc), as_json=as_json)
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(
                f"{found.name}（{result.term}）：共 {result.rows} 行，新建 {result.created}，"
                f"更新 {result.updated}，未变 {result.unchanged}，拒绝 {result.rejected}。"
                + ("（试运行：没有写入任何数据）" if dry_run else "")
            )
            for e in result.errors:
                self.stdout.write(f"  第 {e.row} 行 {e.column}：{e.message}")
        if result.rejected:
            sys.exit(1)
