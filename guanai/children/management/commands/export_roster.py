"""`guanai export-roster --school CODE -o FILE.xlsx [--by USER]` (SPEC §6.1)."""

import sys

from django.core.management.base import BaseCommand
from xlsxwriter.exceptions import FileCreateError

from guanai.children.roster import export_roster
from guanai.org.models import School


class Command(BaseCommand):
    # A data command must not fail because an unrelated page's code has a problem.
    requires_system_checks: list = []
    help = "导出学校花名册（与模板同列，含完整身份证号，标题行写明导出人和时间），可原样再导入。"

    def add_arguments(self, parser):
        parser.add_argument("--school", required=True, help="学校代码，如 HS-BQ")
        parser.add_argument("-o", "--output", required=True, help="输出文件 .xlsx")
        parser.add_argument("--by", help="导出人（登录名）；不填时记为“命令行”")

    def handle(self, *args, school, output, by=None, **options):
        found = School.objects.filter(code=school).first()
        if found is None:
            self.stderr.write(f"学校代码“{school}”不存在")
            sys.exit(2)
        user = None
        if by:
            from guanai.accounts.models import User

            user = User.objects.filter(username=by).first()
            if user is None:
                self.stderr.write(f"用户“{by}”不存在")
                sys.exit(2)
        try:
            count = export_roster(school=found, path=output, by=user)
        except (OSError, FileCreateError) as exc:
            self.stderr.write(f"无法写入文件“{output}”：{exc}")
            sys.exit(2)
        self.stdout.write(f"已导出 {found.name} {count} 名学生到 {output}")
