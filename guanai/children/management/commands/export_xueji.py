"""`guanai export-xueji --school CODE -o FILE.xlsx [--by USER]` (SPEC §6.3, docs/xueji.md)."""

import sys

from django.core.management.base import BaseCommand
from xlsxwriter.exceptions import FileCreateError

from guanai.children.xueji import export_xueji
from guanai.org.models import School


class Command(BaseCommand):
    # A data command must not fail because an unrelated page's code has a problem.
    requires_system_checks: list = []
    help = (
        "导出学籍系统留守儿童信息（姓名、身份证件号、全国学籍号、年级、班级、是否留守儿童、"
        "是否进城务工人员随迁子女），随迁和未摸排的儿童另列“待核对”表。"
    )

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
            count, checks = export_xueji(school=found, path=output, by=user)
        except (OSError, FileCreateError) as exc:
            self.stderr.write(f"无法写入文件“{output}”：{exc}")
            sys.exit(2)
        self.stdout.write(
            f"已导出 {found.name} {count} 名学生到 {output}"
            + (f"；其中 {checks} 名随迁或未摸排的儿童列在“待核对”表，请核实" if checks else "")
        )
