"""`guanai restore` after `guanai rotate-key` (issue #19): a backup is encrypted with the field
key of its day; once that key is an old key of the ring, the backup still restores. Without it,
or with a damaged file, the restore is refused and nothing changes."""

import io

import pytest
from django.core.management import CommandError, call_command

from guanai.children.models import Child
from guanai.testing import make_cast

OLD = "old-field-key-" + "o" * 40
NEW = "new-field-key-" + "n" * 40


@pytest.fixture
def backed_up(tmp_path, settings):
    """A town under the old key, its backup, then the key rotated (the old key kept)."""
    settings.FIELD_KEY, settings.FIELD_OLD_KEYS = OLD, []
    settings.MEDIA_ROOT = tmp_path / "uploads"
    cast = make_cast()
    target = tmp_path / "before-rotation.backup"
    call_command("backup", output=str(target))
    settings.FIELD_KEY, settings.FIELD_OLD_KEYS = NEW, [OLD]
    call_command("rotate_key", stdout=io.StringIO())
    return cast["children"]["c31a"], target


@pytest.mark.django_db(transaction=True)
def test_a_backup_made_before_a_rotation_restores_with_the_old_key(backed_up):
    child, target = backed_up
    Child.objects.filter(pk=child.pk).update(village="被误改")
    call_command("restore", str(target), stdout=io.StringIO())
    restored = Child.objects.get(pk=child.pk)
    assert restored.village == "虎山村"
    # the restored rows are those of the backup's day: readable through the ring
    assert restored.id_number == child.id_number


@pytest.mark.django_db(transaction=True)
def test_without_the_old_key_the_restore_is_refused_and_changes_nothing(backed_up, settings):
    child, target = backed_up
    settings.FIELD_OLD_KEYS = []  # the old key dropped from the ring
    Child.objects.filter(pk=child.pk).update(village="备份之后的改动")
    with pytest.raises(CommandError, match="密钥不对"):
        call_command("restore", str(target))
    assert Child.objects.get(pk=child.pk).village == "备份之后的改动"


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_changes_nothing_whatever_key_opens_its_start(backed_up, tmp_path):
    child, target = backed_up
    raw = bytearray(target.read_bytes())
    raw[-20] ^= 0xFF  # the end of the last chunk: the first chunk still opens with the old key
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(bytes(raw))
    Child.objects.filter(pk=child.pk).update(village="备份之后的改动")
    with pytest.raises(CommandError, match="密钥不对或文件已损坏"):
        call_command("restore", str(damaged))
    assert Child.objects.get(pk=child.pk).village == "备份之后的改动"
