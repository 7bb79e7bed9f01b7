"""`guanai rotate-key`: a key ring, re-encryption in batches, resumable, lookups throughout."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from guanai.children.models import Child, Guardian, Parent
from guanai.lib import crypto
from guanai.privacy import rotation
from guanai.testing import make_child, make_class, new_id_number

OLD = "old-field-key-" + "o" * 40
NEW = "new-field-key-" + "n" * 40


@pytest.fixture
def old_key(settings):
    settings.FIELD_KEY = OLD
    settings.FIELD_OLD_KEYS = []
    return settings


def switch_to_new(settings):
    """What an operator does first: the new key becomes current, the old one stays readable."""
    settings.FIELD_KEY = NEW
    settings.FIELD_OLD_KEYS = [OLD]


def find(number: str) -> Child | None:
    """A lookup by ID number that works on both sides of a rotation (the hook for the card's
    queries: `id_number_hash__in=crypto.lookup_hashes(number)`)."""
    return Child.objects.filter(id_number_hash__in=crypto.lookup_hashes(number)).first()


def run(*args) -> str:
    out = io.StringIO()
    call_command("rotate_key", *args, stdout=out)
    return out.getvalue()


def make_kids(n: int) -> list[tuple[Child, str]]:
    school_class = make_class()
    made = []
    for i in range(n):
        number = new_id_number(dt.date(2016, 1, 1) + dt.timedelta(days=i))
        made.append((make_child(school_class, name=f"孩子{i}", id_number=number), number))
    return made


def test_ciphertext_names_its_key_and_old_values_read_during_rotation(old_key):
    token = crypto.encrypt("430102201503021233")
    assert token.startswith(f"gk1${crypto.key_id(OLD)}$")
    switch_to_new(old_key)
    assert crypto.decrypt(token) == "430102201503021233"  # old key still in the ring
    assert crypto.encrypt("x").startswith(f"gk1${crypto.key_id(NEW)}$")
    assert crypto.lookup_hashes("x")[0] == crypto.lookup_hash("x")
    assert len(crypto.lookup_hashes("x")) == 2


def test_values_from_before_the_ring_still_read(old_key):
    import base64
    import os

    aes = crypto.make_key(OLD).aes
    nonce = os.urandom(12)
    legacy = base64.b64encode(nonce + aes.encrypt(nonce, b"G430102", None)).decode()
    switch_to_new(old_key)
    assert crypto.decrypt(legacy) == "G430102"
    legacy_bytes = nonce + aes.encrypt(nonce, b"xlsx", None)
    assert crypto.decrypt_bytes(legacy_bytes) == b"xlsx"


def test_wrong_key_gives_a_clear_chinese_error(old_key):
    token = crypto.encrypt("430102201503021233")
    blob = crypto.encrypt_bytes(b"data")
    old_key.FIELD_KEY = NEW  # the old key forgotten
    with pytest.raises(crypto.FieldKeyError, match="密钥环里没有这把密钥"):
        crypto.decrypt(token)
    with pytest.raises(crypto.FieldKeyError, match="密钥环里没有这把密钥"):
        crypto.decrypt_bytes(blob)
    damaged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    old_key.FIELD_KEY = OLD
    with pytest.raises(crypto.FieldKeyError, match="密钥不对或数据已损坏"):
        crypto.decrypt(damaged)


@pytest.mark.django_db
def test_rotation_reencrypts_every_table_and_lookups_work_before_and_after(old_key):
    (child, number), (other, other_number) = make_kids(2)
    child.set_student_no("G" + number)
    child.save()
    parent = Parent.objects.filter(child=child).first()
    parent.id_number_enc = crypto.encrypt(new_id_number(dt.date(1985, 5, 5)))
    parent.id_number_hash = crypto.lookup_hash(crypto.decrypt(parent.id_number_enc))
    parent.save()
    parent_number = crypto.decrypt(parent.id_number_enc)
    assert find(number) == child

    switch_to_new(old_key)
    assert find(number) == child  # before rotation, with the new key current
    before = rotation.pending()
    assert before["儿童档卡·身份证号"] == 2
    assert before["儿童档卡历史·身份证号"] >= 2
    assert before["父母·身份证号"] == 1

    out = run("--batch-size", "1")
    assert "儿童档卡·身份证号：2" in out
    assert "父母·身份证号：1" in out
    assert "秒" in out
    assert "已没有用旧密钥加密的数据" in out
    assert sum(rotation.pending().values()) == 0

    child.refresh_from_db()
    assert child.id_number_enc.startswith(f"gk1${crypto.key_id(NEW)}$")
    assert child.id_number_hash == crypto.lookup_hash(number)
    assert child.student_no_hash == crypto.lookup_hash("G" + number)
    parent.refresh_from_db()
    assert parent.id_number_hash == crypto.lookup_hash(parent_number)
    for record in child.history.all():
        assert crypto.is_current(record.id_number_enc)

    # After the rotation the old key can go: everything still reads and is found.
    old_key.FIELD_OLD_KEYS = []
    assert find(number) == child
    assert find(other_number) == other
    assert Child.objects.get(pk=child.pk).id_number == number
    assert Child.objects.get(pk=child.pk).student_no == "G" + number
    assert "全部数据已用当前密钥加密" in run("--check")


@pytest.mark.django_db
def test_interrupted_rotation_resumes_and_lookups_work_halfway(old_key, monkeypatch):
    made = make_kids(6)
    switch_to_new(old_key)

    def stop_after_two(number):
        if number == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(rotation, "after_batch", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(batch_size=2)
    # Two batches committed: four children under the new key, two still under the old one.
    assert rotation.pending()["儿童档卡·身份证号"] == 2
    for child, number in made:  # lookups find rows on both sides
        assert find(number) == child
        assert Child.objects.get(pk=child.pk).id_number == number
    assert "仍用旧密钥加密" in run("--check")

    monkeypatch.setattr(rotation, "after_batch", lambda number: None)
    summary = rotation.rotate(batch_size=2)
    assert summary.rows["儿童档卡·身份证号"] == 2  # only what was left
    assert sum(rotation.pending().values()) == 0
    for child, number in made:
        assert find(number) == child


@pytest.mark.django_db
def test_an_edit_during_rotation_is_not_overwritten(old_key, monkeypatch):
    [(child, _number)] = make_kids(1)
    switch_to_new(old_key)
    fresh = new_id_number(dt.date(2016, 9, 9))
    real_decrypt = crypto.decrypt_with_key
    edited = []

    def teacher_edits_meanwhile(token):
        result = real_decrypt(token)
        if not edited:
            edited.append(True)
            kid = Child.objects.get(pk=child.pk)
            kid.set_id_number(fresh)
            kid.save()
        return result

    monkeypatch.setattr(crypto, "decrypt_with_key", teacher_edits_meanwhile)
    summary = rotation.rotate()
    assert summary.skipped >= 1
    assert Child.objects.get(pk=child.pk).id_number == fresh


@pytest.mark.django_db
def test_rotation_stops_with_chinese_error_when_the_old_key_is_missing(old_key):
    make_kids(1)
    old_key.FIELD_KEY = NEW  # old key not kept in the ring
    with pytest.raises(CommandError, match="密钥环里没有这把密钥.*再次运行即可继续"):
        run()


@pytest.mark.django_db
def test_guardian_and_totp_and_files_rotate(old_key, users, tmp_path):
    from guanai.accounts.services import start_totp_enrolment

    make_kids(1)
    secret, _ = start_totp_enrolment(user=users["zx_leader"])
    guardian = Guardian.objects.first()
    guardian.id_number_enc = crypto.encrypt("431121195501011234")
    guardian.id_number_hash = crypto.lookup_hash("431121195501011234")
    guardian.save()
    path = old_key.MEDIA_ROOT / "imports" / "rejected" / "7.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(crypto.encrypt_bytes(b"rejected rows"))
    switch_to_new(old_key)
    assert rotation.pending()["导入退回行文件"] == 1
    summary = rotation.rotate()
    assert summary.rows["监护人·身份证号"] == 1
    assert summary.files == 1
    assert summary.rows["动态口令·密钥"] == 1
    old_key.FIELD_OLD_KEYS = []
    users["zx_leader"].totp.refresh_from_db()
    assert users["zx_leader"].totp.secret == secret
    assert crypto.decrypt_bytes(path.read_bytes()) == b"rejected rows"
    guardian.refresh_from_db()
    assert guardian.id_number_hash == crypto.lookup_hash("431121195501011234")


@pytest.mark.django_db
def test_new_key_file_installs_the_key_in_the_data_dir(old_key, tmp_path, monkeypatch):
    monkeypatch.delenv("GUANAI_FIELD_KEY", raising=False)
    monkeypatch.delenv("GUANAI_FIELD_KEY_FILE", raising=False)
    old_key.DATA_DIR = tmp_path
    (tmp_path / "field.key").write_text(OLD)
    [(child, number)] = make_kids(1)
    key_file = tmp_path / "new.key"
    key_file.write_text(NEW + "\n")
    out = run("--new-key-file", str(key_file))
    assert "已启用新密钥" in out
    assert (tmp_path / "field.key").read_text() == NEW
    assert OLD in (tmp_path / "field.old-keys").read_text()
    assert crypto.current().kid == crypto.key_id(NEW)
    assert find(number) == child
    assert Child.objects.get(pk=child.pk).id_number_enc.startswith(f"gk1${crypto.key_id(NEW)}$")


@pytest.mark.parametrize(
    ("content", "message"),
    [("short", "至少 32 个字符"), ("a b" * 20, "不含空格"), (None, "读不到新密钥文件")],
)
@pytest.mark.django_db
def test_bad_new_key_file_is_refused(old_key, tmp_path, content, message):
    key_file = tmp_path / "new.key"
    if content is not None:
        key_file.write_text(content)
    with pytest.raises(CommandError, match=message):
        run("--new-key-file", str(key_file))
    assert crypto.current().kid == crypto.key_id(OLD)


@pytest.mark.django_db
def test_env_keyed_install_is_refused_with_instructions(old_key, tmp_path, monkeypatch):
    monkeypatch.setenv("GUANAI_FIELD_KEY", OLD)
    key_file = tmp_path / "new.key"
    key_file.write_text(NEW)
    with pytest.raises(CommandError, match="GUANAI_FIELD_OLD_KEYS"):
        run("--new-key-file", str(key_file))


@pytest.mark.django_db
def test_bad_batch_size(old_key):
    with pytest.raises(CommandError, match="正整数"):
        run("--batch-size", "0")


@pytest.mark.django_db
def test_card_search_and_duplicate_checks_work_during_rotation(old_key, monkeypatch):
    from guanai.children.services import find_by_id_number, find_by_student_no

    made = make_kids(4)
    for child, number in made:
        child.set_student_no("G" + number)
        child.save()
    switch_to_new(old_key)

    def stop(number):
        if number == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(rotation, "after_batch", stop)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(batch_size=2)  # two children rotated, two not
    for child, number in made:
        assert list(Child.objects.search(number)) == [child]
        assert find_by_id_number(number) == child
        assert find_by_student_no("G" + number) == child
    # Saving an unchanged number keeps its ciphertext (no history noise) on either side.
    for child, number in made:
        fresh = Child.objects.get(pk=child.pk)
        before = fresh.id_number_enc
        fresh.set_id_number(number)
        assert fresh.id_number_enc == before


@pytest.mark.django_db
def test_a_restarted_process_reads_the_old_keys_from_the_data_dir(old_key, tmp_path, monkeypatch):
    """Without FIELD_OLD_KEYS in the settings, the ring still holds the keys that
    `--new-key-file` moved to field.old-keys (or GUANAI_FIELD_OLD_KEYS)."""
    token = crypto.encrypt("430102201503021233")
    for name in ("GUANAI_FIELD_KEY", "GUANAI_FIELD_KEY_FILE", "GUANAI_FIELD_OLD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "field.old-keys").write_text(OLD + "\n")
    old_key.DATA_DIR = tmp_path
    old_key.FIELD_KEY = NEW
    del old_key.FIELD_OLD_KEYS
    crypto._configured_old_keys.cache_clear()
    try:
        assert crypto.decrypt(token) == "430102201503021233"
        (tmp_path / "field.old-keys").unlink()
        monkeypatch.setenv("GUANAI_FIELD_OLD_KEYS", f"another-key,{OLD}")
        crypto._configured_old_keys.cache_clear()
        assert crypto.decrypt(token) == "430102201503021233"
        assert len(crypto.ring()) == 3
    finally:
        crypto._configured_old_keys.cache_clear()
