import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from guanai.jobs.supervisor import Supervisor


class Command(BaseCommand):
    help = "生产方式启动：gunicorn 网站 + 后台任务；设置见环境变量（README）。"

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        bind = os.environ.get("GUANAI_BIND", "127.0.0.1:8000")
        workers = os.environ.get("GUANAI_WORKERS", "2")
        # Restarted when it dies (logged); a job it was running is marked failed.
        worker = Supervisor().start()
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "guanai.wsgi",
                    "--bind",
                    bind,
                    "--workers",
                    workers,
                    "--max-requests",
                    "2000",
                    "--access-logfile",
                    "-",
                ],
                check=False,
            )
        finally:
            worker.stop()
