"""`guanai term-report (--school CODE | --town [NAME]) [--term 2026-2027-1] -o FILE.docx`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanai.lib.dates import current_term
from guanai.org.models import School, Town
from guanai.stats.report import ReportError, ReportScope, term_numbers, title, write_docx


class Command(BaseCommand):
    help = "按学校或全镇生成学期关爱留守儿童工作总结（.docx），数字全部来自系统数据。"

    def add_arguments(self, parser):
        unit = parser.add_mutually_exclusive_group(required=True)
        unit.add_argument("--school", help="学校代码，如 HS-ZX")
        unit.add_argument("--town", nargs="?", const="", help="全镇（只有一个镇时可不写镇名）")
        parser.add_argument("--term", help="学期，如 2026-2027-1（默认本学期）")
        parser.add_argument("-o", "--output", required=True, help="输出文件 .docx")

    def handle(self, *args, **options):
        scope = self._scope(options)
        term = options.get("term") or current_term(timezone.localdate())
        try:
            numbers = term_numbers(scope, term)
        except ReportError as exc:
            raise CommandError(str(exc), returncode=2) from None
        path = Path(options["output"])
        try:
            path.write_bytes(write_docx(numbers))
        except OSError as exc:
            raise CommandError(f"无法写入 {path}：{exc.strerror}", returncode=2) from None
        self.stdout.write(f"已生成《{title(numbers)}》：{path}")

    def _scope(self, options) -> ReportScope:
        if options.get("school") is not None:
            code = options["school"].strip()
            school = School.objects.filter(code=code).first()
            if school is None:
                raise CommandError(f"未知的学校代码：{code}", returncode=2)
            return ReportScope(name=school.name, schools=[school])
        name = (options.get("town") or "").strip()
        towns = Town.objects.filter(name=name) if name else Town.objects.all()
        found = list(towns[:2])
        if not found:
            raise CommandError(f"未知的镇：{name}" if name else "系统中还没有镇", returncode=2)
        if len(found) > 1:
            raise CommandError("系统中有多个镇，请写明镇名：--town 镇名", returncode=2)
        town = found[0]
        schools = list(School.objects.filter(town=town).order_by("-is_central", "code"))
        return ReportScope(name=town.name, schools=schools, town=True, extra={"town": town.pk})
