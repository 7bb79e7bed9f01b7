from django.core.management.base import BaseCommand, CommandError

from guanai.org.services import OrgError, add_school


class Command(BaseCommand):
    help = "添加学校（脚本化部署用）：guanai add-school --code CODE --name NAME [--town NAME]"

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="学校代码，如 HS-ZX")
        parser.add_argument("--name", required=True, help="学校名称")
        parser.add_argument("--town", help="所属镇名（首次需要）")
        parser.add_argument("--central", action="store_true", help="中心校")

    def handle(self, *args, code, name, town=None, central=False, **options):
        try:
            school = add_school(code=code, name=name, town_name=town, is_central=central)
        except OrgError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{school.code} {school.name}（{school.town.name}）")
