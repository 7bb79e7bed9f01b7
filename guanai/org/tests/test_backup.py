"""guanai backup / restore: consistent, encrypted, round trip."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanai.children.models import Child
from guanai.testing import make_cast


@pytest.mark.django_db(transaction=True)
def test_backup_restore_round_trip(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "photo.txt").write_text("家访照片")
    cast = make_cast()
    child = cast["children"]["c31a"]
    target = tmp_path / "b" / "guanai.backup"
    call_command("backup", output=str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"GUANAI-BACKUP-1") and "张三".encode() not in raw
    Child.objects.filter(pk=child.pk).update(village="被误改")
    (tmp_path / "uploads" / "photo.txt").unlink()
    call_command("restore", str(target))
    assert Child.objects.get(pk=child.pk).village == "虎山村"
    assert (tmp_path / "uploads" / "photo.txt").read_text() == "家访照片"


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_other_key_and_garbage(tmp_path, settings):
    target = tmp_path / "guanai.backup"
    call_command("backup", output=str(target))
    settings.FIELD_KEY = "another-key"
    with pytest.raises(CommandError, match="密钥不对"):
        call_command("restore", str(target))
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello")
    with pytest.raises(CommandError, match="不是关爱的备份"):
        call_command("restore", str(junk))
    with pytest.raises(CommandError, match="找不到"):
        call_command("restore", str(tmp_path / "missing"))
