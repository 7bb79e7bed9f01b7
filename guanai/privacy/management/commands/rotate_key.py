from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guanai.lib import crypto
from guanai.lib.errors import Invalid
from guanai.privacy import rotation


class Command(BaseCommand):
    help = (
        "轮换字段密钥：用当前密钥重新加密身份证号、学籍号等加密数据并重算检索摘要，"
        "服务不停；中断后再次运行即从断点继续。guanai rotate-key [--new-key-file F] [--check]"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key-file",
            help="新密钥文件：启用它为当前密钥（旧密钥留在密钥环里可读），再重新加密",
        )
        parser.add_argument("--check", action="store_true", help="只统计仍用旧密钥加密的数据")
        parser.add_argument("--batch-size", type=int, default=500, help="每个事务处理的行数")

    def handle(self, *args, new_key_file=None, check=False, batch_size=500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size 须是正整数")
        if check:
            return self._check()
        if new_key_file:
            try:
                installed = rotation.install_key(rotation.read_key_file(Path(new_key_file)))
            except Invalid as exc:
                raise CommandError(exc.errors["new_key_file"]) from exc
            if installed:
                self.stdout.write(
                    f"已启用新密钥（编号 {crypto.current().kid}），旧密钥保留在 field.old-keys。"
                    "请现在重新加载服务（systemctl reload guanai），让网页进程也认得新密钥。"
                )
        self.stdout.write(
            f"当前密钥编号 {crypto.current().kid}；旧密钥：{'、'.join(rotation.old_key_ids()) or '无'}"
        )
        try:
            summary = rotation.rotate(batch_size=batch_size, out=self.stdout.write)
        except crypto.FieldKeyError as exc:
            raise CommandError(f"{exc}（已完成的批次已保存，修正后再次运行即可继续）") from exc
        self.stdout.write("完成。各字段重新加密的行数：")
        for name, count in summary.rows.items():
            self.stdout.write(f"  {name}：{count}")
        if summary.files:
            self.stdout.write(f"  导入退回行文件：{summary.files}")
        if summary.skipped:
            self.stdout.write(f"  运行期间被他人修改而跳过（已是新密钥）：{summary.skipped}")
        if summary.hash_kept:
            self.stdout.write(f"  检索摘要与内容不符、原样保留：{summary.hash_kept}")
        rate = summary.total / summary.seconds if summary.seconds else 0
        self.stdout.write(
            f"共 {summary.total} 项，用时 {summary.seconds:.1f} 秒（每秒 {rate:.0f} 项）"
        )
        left = sum(rotation.pending().values())
        if left:
            self.stdout.write(f"仍有 {left} 项用旧密钥（运行期间新写入的）：请再运行一次。")
        else:
            self.stdout.write("已没有用旧密钥加密的数据；确认备份后可从密钥环中去掉旧密钥。")

    def _check(self):
        counts = rotation.pending()
        left = sum(counts.values())
        self.stdout.write(f"当前密钥编号 {crypto.current().kid}")
        for name, count in counts.items():
            self.stdout.write(f"  {name}：{count}")
        self.stdout.write(f"仍用旧密钥加密：{left} 项" if left else "全部数据已用当前密钥加密。")
