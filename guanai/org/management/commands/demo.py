from django.core.management import call_command
from django.core.management.base import BaseCommand

from guanai.demo import DEMO_LOGINS
from guanai.jobs.supervisor import Supervisor
from guanai.testing import DEMO_PASSWORD


class Command(BaseCommand):
    help = "载入演示镇并在 127.0.0.1 上启动网站和后台任务。"

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port: int = 8000, **options):
        call_command("init", demo=True)
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\n关爱 演示站： {url}"))
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for login, who in DEMO_LOGINS:
            self.stdout.write(f"  {login:<14} {who}")
        self.stdout.write("按 Ctrl+C 停止。\n")
        # Restarted when it dies (logged); a job it was running is marked failed.
        worker = Supervisor().start()
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            worker.stop()
