"""`guanai pair --school CODE --json [--dry-run]` — SPEC §6.1."""

import json

from django.core.management.base import BaseCommand, CommandError

from guanai.accounts.models import User
from guanai.org.models import School
from guanai.pairing.services import propose_pairs


class Command(BaseCommand):
    help = (
        "为学校的留守儿童和随迁子女提出结对帮扶建议（最优匹配）；"
        "不加 --dry-run 时保存为草稿，替换此前的草稿。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--school", required=True, help="学校代码，如 HS-ZX")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument("--dry-run", action="store_true", help="只计算，不保存草稿")
        parser.add_argument("--by", help="记录为提出人的登录名（默认：命令行）")

    def handle(self, *args, **options):
        school, dry_run = options["school"], options["dry_run"]
        found = School.objects.filter(code=school.strip()).first()
        if found is None:
            raise CommandError(f"未知的学校代码：{school}", returncode=2)
        by = None
        if options.get("by"):
            by = User.objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"未知的用户：{options['by']}", returncode=2)
        proposal = propose_pairs(school=found, by=by, dry_run=dry_run)
        if options["json"]:
            self.stdout.write(json.dumps(proposal.as_dict(), ensure_ascii=False))
            return
        for p in proposal.pairs:
            self.stdout.write(
                f"{p.child.name}（{p.child.pk}） ↔ {p.buddy.name}（{p.buddy.pk}）"
                f"  {p.explanation}  代价 {p.as_dict()['cost']}"
            )
        self.stdout.write(
            f"{found.name}：结对 {len(proposal.pairs)} 对，未能结对 {len(proposal.unpaired)} 人，"
            f"总代价 {proposal.total_cost}。"
            + (
                "（试算，未保存）"
                if dry_run
                else f"已保存为草稿，替换草稿 {proposal.replaced} 对。"
            )
        )
