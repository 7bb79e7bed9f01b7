import io

from django.core.management import call_command
from django.core.management.base import BaseCommand

from guanai.org.models import School


class Command(BaseCommand):
    help = "创建数据库并迁移；加 --demo 时在空库中载入演示镇（虎山镇）。"

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="载入演示数据（仅当数据库为空）")

    def handle(self, *args, demo: bool = False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已就绪。")
        call_command("refresh_classifications", stdout=io.StringIO())
        if demo:
            if School.objects.exists():
                self.stdout.write("数据库已有数据，未载入演示数据。")
            else:
                from guanai.demo import load_demo

                summary = load_demo(progress=lambda m: self.stdout.write(m))
                self.stdout.write(
                    self.style.SUCCESS(
                        f"已载入演示镇：{summary['schools']} 所学校，{summary['children']} 名学生。"
                    )
                )
