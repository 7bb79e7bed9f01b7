"""`guanai worker`: django-tasks' database worker, warming up first.

The same options as `db_worker`. As it starts, the warm-ups registered with
`warm_up_at_start` (the letters' PDF fonts) run in a background thread, so the first job a
user starts after a restart does not wait for them.
"""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from guanai.jobs.services import start_warm_ups


class Command(DbWorker):
    help = "后台任务进程：处理导入、打印家长信、发送消息等任务（启动时在后台预热 PDF 字体）。"

    def handle(self, *args, **options) -> None:
        # With --reload the first process only watches files; its child does the work.
        if not options.get("reload") or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            start_warm_ups()
        super().handle(*args, **options)
