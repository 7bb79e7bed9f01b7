"""`guanai audit verify`, `guanai audit export -o FILE.xlsx [--since DATE] [--until DATE]` and
`guanai audit auditor USERNAME --town 镇名 [--name 姓名] [--end]`: the access log for an auditor
(accounts/audit.py). The audit role is granted here only, never in the pages (三权分立): whoever
runs the command holds the server, not a town administrator's login."""

import sys

from django.core.management.base import BaseCommand

from guanai.accounts import audit
from guanai.lib.dates import DateError, query_date


class Command(BaseCommand):
    # A data command must not fail because an unrelated page's code has a problem.
    requires_system_checks: list = []
    help = "访问日志审计：verify 核对哈希链是否完整；export 导出访问日志（合规审计用）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", title="子命令")
        sub.add_parser(
            "verify",
            help="按顺序核对每一条访问日志的哈希链；完整时退出码 0，断开时指出第一条并退出码 1",
        )
        out = sub.add_parser("export", help="导出访问日志为 Excel（含哈希，供审计方自行核对）")
        out.add_argument("-o", "--output", required=True, help="输出文件 .xlsx")
        out.add_argument("--since", help="起始日期（含），如 2026-01-01")
        out.add_argument("--until", help="截止日期（含），如 2026-12-31")
        aud = sub.add_parser(
            "auditor",
            help="设立（或结束）某镇的审计员：只能查看本镇访问日志，看不到任何儿童信息",
        )
        aud.add_argument("username", help="登录名；不存在时新建账号并显示一次初始密码")
        aud.add_argument("--town", required=True, help="镇名，如 虎山镇")
        aud.add_argument("--name", default="", help="姓名")
        aud.add_argument("--end", action="store_true", help="结束该用户在该镇的审计员角色")

    def handle(self, *args, what: str | None = None, **options):
        if what is None:
            self.stderr.write(
                "请写明子命令：guanai audit verify 或 guanai audit export -o 文件.xlsx"
            )
            sys.exit(2)
        if what == "verify":
            self._verify()
        elif what == "auditor":
            self._auditor(options["username"], options["town"], options["name"], options["end"])
        else:
            self._export(options["output"], options.get("since"), options.get("until"))

    def _verify(self) -> None:
        verdict = audit.verify()
        if verdict.ok:
            self.stdout.write(verdict.message)
            self.stdout.write(f"最后一条的哈希：{verdict.head}（请记下，下次核对时它应仍在链上）")
            return
        self.stderr.write(verdict.message)
        self.stderr.write(f"在此之前已核对 {verdict.count} 条完好")
        sys.exit(1)

    def _export(self, output: str, since: str | None, until: str | None) -> None:
        try:
            first = query_date(since, label="起始日期")
            last = query_date(until, label="截止日期")
        except DateError as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        if first and last and first > last:
            self.stderr.write("起始日期不能晚于截止日期")
            sys.exit(2)
        try:
            count = audit.export(path=output, since=first, until=last)
        except OSError as exc:
            self.stderr.write(f"无法写入文件“{output}”：{exc}")
            sys.exit(2)
        self.stdout.write(f"已导出访问日志 {count} 条到 {output}")

    def _auditor(self, username: str, town_name: str, name: str, end: bool) -> None:
        import datetime as dt
        import secrets

        from django.db import transaction
        from django.utils import timezone

        from guanai.accounts.models import AUDIT_ONLY_ROLES, Role, RoleAssignment, User
        from guanai.org.models import Town

        town = Town.objects.filter(name=town_name.strip()).first()
        if town is None:
            self.stderr.write(f"没有名为“{town_name}”的镇")
            sys.exit(2)
        today = timezone.localdate()
        user = User.objects.filter(username=username).first()
        if end:
            held = RoleAssignment.objects.filter(
                user__username=username, role=Role.AUDITOR, town=town, valid_to__isnull=True
            )
            if not held.exists():
                self.stderr.write(f"{username} 不是{town.name}的审计员")
                sys.exit(2)
            for ra in held:
                ra.valid_to = today - dt.timedelta(days=1)
                ra.valid_from = min(ra.valid_from, ra.valid_to)
                ra.save()
            self.stdout.write(f"已结束 {username} 在{town.name}的审计员角色")
            return
        # Other roles beside the audit role would let the auditor read what he audits.
        if user is not None and any(r.role not in AUDIT_ONLY_ROLES for r in user.active_roles()):
            self.stderr.write(f"{username} 已有其他角色：审计员只能是单独的账号（三权分立）")
            sys.exit(2)
        password = None
        with transaction.atomic():
            if user is None:
                password = secrets.token_urlsafe(9)
                user = User.objects.create_user(
                    username=username, password=password, display_name=name or username
                )
            RoleAssignment.objects.create(user=user, role=Role.AUDITOR, town=town)
        self.stdout.write(f"已设立 {user} 为{town.name}的审计员")
        if password:
            self.stdout.write(f"初始密码（只显示这一次，请登录后修改）：{password}")
