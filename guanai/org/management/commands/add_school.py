from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from guanai.org.models import School
from guanai.org.services import DEFAULT_TOWN_NAME, OrgError, add_school, town_for


class Command(BaseCommand):
    help = "添加学校（脚本化部署用）：guanai add-school --code CODE --name NAME [--town NAME]"

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="学校代码，如 HS-ZX")
        parser.add_argument("--name", required=True, help="学校名称")
        parser.add_argument(
            "--town",
            help=f"所属镇名；只有一个镇时可省略，还没有镇时省略则新建“{DEFAULT_TOWN_NAME}”",
        )
        parser.add_argument("--central", action="store_true", help="中心校")

    def handle(self, *args, code, name, town=None, central=False, **options):
        try:
            with transaction.atomic():
                town_obj, town_created = town_for(town)
                existed = School.objects.filter(code=code.strip()).exists()
                school = add_school(
                    code=code, name=name, town_name=town_obj.name, is_central=central
                )
        except OrgError as exc:
            raise CommandError(str(exc)) from exc
        if town_created:
            hint = "，可在“学校与班级”页改名" if not town else ""
            self.stdout.write(f"已新建镇：{town_obj.name}{hint}")
        self.stdout.write(
            f"{'已更新' if existed else '已添加'}学校：{school.code} {school.name}（{school.town.name}）"
        )
