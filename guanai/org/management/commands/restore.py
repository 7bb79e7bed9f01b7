from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanai.lib.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "从加密备份恢复数据库和上传文件：guanai restore FILE（会覆盖当前数据）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="备份文件路径")

    def handle(self, *args, file: str, **options):
        try:
            manifest = restore_backup(source=Path(file))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已从 {manifest['created']} 的备份恢复。")
