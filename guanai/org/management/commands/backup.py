from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanai.lib.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "在线备份数据库和上传文件（加密）：guanai backup -o FILE"

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, help="备份文件路径")

    def handle(self, *args, output: str, **options):
        try:
            manifest = create_backup(output=Path(output))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已备份（{manifest['engine']}，{manifest['created']}）到 {output}")
