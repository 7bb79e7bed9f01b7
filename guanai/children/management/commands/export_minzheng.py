"""`guanai export-minzheng (--school CODE | --town [NAME]) [--as-of DATE] -o FILE.xlsx`
(SPEC §6.3): the 民政 登记表 and 汇总表; a summary that breaks its own rules is refused (exit 1)."""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone
from xlsxwriter.exceptions import FileCreateError

from guanai.children.minzheng import SummaryRefused, civil_children, export_minzheng
from guanai.children.models import Child
from guanai.lib.dates import DateError, parse_date
from guanai.org.models import School, Town


class Command(BaseCommand):
    # A data command must not fail because an unrelated page's code has a problem.
    requires_system_checks: list = []
    help = (
        "导出民政口径农村留守儿童基本情况登记表和汇总表（民发〔2016〕42号）。"
        "汇总表勾稽关系不符时列出问题、不导出（退出码 1）；学校、镇或日期有误时退出码 2。"
    )

    def add_arguments(self, parser):
        unit = parser.add_mutually_exclusive_group(required=True)
        unit.add_argument("--school", help="学校代码，如 HS-BQ")
        unit.add_argument("--town", nargs="?", const="", help="全镇（有多个镇时写镇名）")
        parser.add_argument("--as-of", dest="as_of", help="统计基准日，如 2026-12-31（默认今天）")
        parser.add_argument("-o", "--output", required=True, help="输出文件 .xlsx")
        parser.add_argument("--by", help="导出人（登录名）；不填时记为“命令行”")

    def _fail(self, message: str, status: int = 2):
        self.stderr.write(message)
        sys.exit(status)

    def handle(self, *args, school=None, town=None, as_of=None, output, by=None, **options):
        try:
            on = parse_date(as_of) if as_of else timezone.localdate()
        except DateError as exc:
            self._fail(f"统计基准日有误：{exc}")
        found_school = None
        if school is not None:
            found_school = School.objects.filter(code=school).first()
            if found_school is None:
                self._fail(f"学校代码“{school}”不存在")
            children = Child.objects.filter(school=found_school)
            unit = found_school.name
        else:
            towns = Town.objects.filter(name=town) if town else Town.objects.all()
            if town and not towns:
                self._fail(f"镇“{town}”不存在")
            if towns.count() != 1:
                self._fail("系统中有多个镇，请在 --town 后写明镇名")
            found_town = towns.get()
            children = Child.objects.filter(school__town=found_town)
            unit = found_town.name
        user = None
        if by:
            from guanai.accounts.models import User

            user = User.objects.filter(username=by).first()
            if user is None:
                self._fail(f"用户“{by}”不存在")
        chosen = civil_children(children, on=on)
        try:
            summary = export_minzheng(
                children=chosen, unit=unit, on=on, path=output, by=user, school=found_school
            )
        except SummaryRefused as exc:
            self.stderr.write(f"汇总表有 {len(exc.violations)} 处勾稽关系不符，没有导出：")
            for line in exc.violations:
                self.stderr.write("  " + line)
            sys.exit(1)
        except (OSError, FileCreateError) as exc:
            self._fail(f"无法写入文件“{output}”：{exc}")
        self.stdout.write(
            f"已导出 {unit} 民政口径农村留守儿童 {summary.columns[1]} 人"
            f"（统计基准日 {on:%Y-%m-%d}）到 {output}"
        )
