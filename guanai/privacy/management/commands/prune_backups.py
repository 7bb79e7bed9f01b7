from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanai.lib import backup


class Command(BaseCommand):
    help = (
        "删除超过保留期的备份（备份加密，不能逐条匿名化：过了保留期就整份删除）。"
        "guanai prune-backups [--keep-days N] [--dir 目录] [--dry-run]"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep-days",
            type=int,
            default=None,
            help="保留多少天（默认 GUANAI_BACKUP_KEEP_DAYS，90 天）",
        )
        parser.add_argument("--dir", default=None, help="备份目录（默认 GUANAI_BACKUP_DIR）")
        parser.add_argument("--dry-run", action="store_true", help="只列出，不删除")

    def handle(self, *args, keep_days=None, dir=None, dry_run=False, **options):
        days = backup.keep_days() if keep_days is None else keep_days
        if days < 1:
            raise CommandError("保留天数须是不小于 1 的整数")
        folder = Path(dir) if dir else backup.backup_dir()
        if not folder.is_dir():
            raise CommandError(f"找不到备份目录 {folder}")
        now = timezone.now()
        if dry_run:
            found = backup.expired_backups(now=now, days=days, folder=folder)
        else:
            found = backup.prune_backups(now=now, days=days, folder=folder)
        for path in found:
            self.stdout.write(f"  {'将删除' if dry_run else '已删除'} {path.name}")
        left = len(backup.backups(folder))
        self.stdout.write(
            f"{'将删除' if dry_run else '已删除'}超过 {days} 天的备份 {len(found)} 份，"
            f"{folder} 中{'现' if not dry_run else '目前'}有备份 {left} 份"
        )
