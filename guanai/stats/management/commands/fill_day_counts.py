"""`guanai fill-day-counts --from 2026-09-01 [--to 2026-11-28]`: store the counts per class of
a range of finished days (a new install, or days before the worker ran)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanai.stats import daycounts


class Command(BaseCommand):
    help = "按班级保存过去每一天的统计数（已保存的日期不重复计算）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="起始日期，如 2026-09-01")
        parser.add_argument("--to", dest="end", help="截止日期（默认昨天）")

    def handle(self, *args, start: str, end: str | None, **options) -> None:
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        try:
            first = dt.date.fromisoformat(start)
            last = dt.date.fromisoformat(end) if end else yesterday
        except ValueError:
            raise CommandError("日期应写作 2026-09-01") from None
        if last > yesterday:
            raise CommandError(f"只能保存已经过去的日期（最晚 {yesterday:%Y-%m-%d}）")
        if first > last:
            raise CommandError("起始日期晚于截止日期")
        day = first
        while day <= last:
            done = daycounts.fill_day(day)
            self.stdout.write(f"{day:%Y-%m-%d}：{done.classes} 个班，{done.children} 名在读学生")
            day += dt.timedelta(days=1)
