from django.core.management.base import BaseCommand, CommandError

from guanai.lib.errors import Invalid
from guanai.privacy.anonymise import anonymise, default_years


class Command(BaseCommand):
    help = (
        "匿名化离校（转出、毕业、离校）满 N 年的儿童：删去姓名、证件号、电话、住址、记录正文和照片，"
        "保留类别、性别、出生年月、学校班级和联系次数；完成后整理数据库（VACUUM），旧值不留在空闲页中。"
        "guanai anonymise [--inactive-years N] [--dry-run]"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--inactive-years",
            type=int,
            default=None,
            help=f"离校满多少年（默认 {default_years()}，设置 GUANAI_ANONYMISE_AFTER_YEARS）",
        )
        parser.add_argument("--dry-run", action="store_true", help="只统计，不修改")

    def handle(self, *args, inactive_years=None, dry_run=False, **options):
        try:
            report = anonymise(years=inactive_years, dry_run=dry_run)
        except Invalid as exc:
            raise CommandError(exc.errors["inactive_years"]) from exc
        verb = "将匿名化" if dry_run else "已匿名化"
        self.stdout.write(
            f"{verb}离校早于 {report.cutoff:%Y-%m-%d} 的儿童 {report.children} 名"
            + ("（试运行，未做任何修改）" if dry_run else "")
        )
        for label, count in report.rows.items():
            if count:
                self.stdout.write(f"  {label}：{count} 行")
        for line in report.lines():
            self.stdout.write(line)
        if not report.children:
            self.stdout.write("没有需要匿名化的儿童。")
