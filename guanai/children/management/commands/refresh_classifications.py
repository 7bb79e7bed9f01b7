from django.core.management.base import BaseCommand

from guanai.children.services import refresh_classifications


class Command(BaseCommand):
    help = "按今天的日期重新认定留守类别（外出满 3 个月、年满 16 周岁等随时间变化）；建议每天运行一次。"

    def handle(self, *args, **options):
        changed = refresh_classifications()
        self.stdout.write(f"已重新认定，{changed} 张档卡的类别有变化。")
