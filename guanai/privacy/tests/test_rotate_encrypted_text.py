"""`guanai rotate-key` over the columns encrypted at rest (`lib/fields.EncryptedText`): a
phone and a psychology note read before, during (half rotated) and after a rotation."""

import pytest
from django.db import connection
from django.utils import timezone

from guanai.care.models import Observation
from guanai.children.models import Guardian
from guanai.lib import crypto
from guanai.privacy import rotation
from guanai.privacy.tests.test_rotate_key import NEW, OLD, run, switch_to_new
from guanai.testing import make_child, make_class

NOTE = "上课常常发呆，说想妈妈"


@pytest.fixture
def old_key(settings):
    settings.FIELD_KEY = OLD
    settings.FIELD_OLD_KEYS = []
    return settings


def raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> '' ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]


def under(key: str, values: list[str]) -> bool:
    return bool(values) and all(v.startswith(f"gk1${crypto.key_id(key)}$") for v in values)


@pytest.mark.django_db
def test_phone_and_psych_note_read_before_during_and_after_rotation(old_key, users, monkeypatch):
    school_class = make_class()
    kids = [
        make_child(school_class, name=f"孩子{i}", **{"guardian.phone": f"1390000000{i}"})
        for i in range(4)
    ]
    for kid in kids:
        Observation.objects.create(child=kid, by=users["zx_teacher31"], level="watch", what=NOTE)
    assert under(OLD, raw("children_guardian", "phone"))
    assert under(OLD, raw("care_observation", "what"))

    phones = Guardian.objects.exclude(phone="").count()  # the cast's and these four
    switch_to_new(old_key)
    before = rotation.pending()
    assert before["监护人·电话"] == phones
    assert before["监护人历史·电话"] >= phones
    assert before["心理观察·看到的情况"] == 4
    assert "心理观察·看到的情况：4" in run("--check")

    def stop(number):
        done = phones - rotation.pending()["监护人·电话"]
        if 0 < done < phones:
            raise KeyboardInterrupt

    monkeypatch.setattr(rotation, "after_batch", stop)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(batch_size=2)  # stopped after the first batch of guardians
    assert rotation.pending()["监护人·电话"] == phones - 2
    assert rotation.pending()["心理观察·看到的情况"] == 4
    for i, kid in enumerate(kids):  # half rotated: every phone and note still reads
        assert Guardian.objects.get(child=kid).phone == f"1390000000{i}"
    assert {o.what for o in Observation.objects.all()} == {NOTE}

    monkeypatch.setattr(rotation, "after_batch", lambda number: None)
    summary = rotation.rotate(batch_size=2)
    assert summary.rows["监护人·电话"] == phones - 2  # only what was left
    assert summary.rows["心理观察·看到的情况"] == 4
    assert sum(rotation.pending().values()) == 0
    assert under(NEW, raw("children_guardian", "phone"))
    assert under(NEW, raw("children_historicalguardian", "phone"))
    assert under(NEW, raw("care_observation", "what"))

    old_key.FIELD_OLD_KEYS = []  # the old key gone: everything still reads
    assert [Guardian.objects.get(child=k).phone for k in kids] == [
        f"1390000000{i}" for i in range(4)
    ]
    assert Guardian.objects.get(child=kids[0]).history.first().phone == "13900000000"
    assert {o.what for o in Observation.objects.all()} == {NOTE}
    assert "全部数据已用当前密钥加密" in run("--check")


@pytest.mark.django_db
def test_an_edit_of_a_note_during_rotation_is_not_overwritten(old_key, users, monkeypatch):
    kid = make_child(make_class())
    note = Observation.objects.create(child=kid, by=users["zx_teacher31"], level="watch", what=NOTE)
    switch_to_new(old_key)
    real = crypto.decrypt_with_key
    edited = []

    def counselor_edits_meanwhile(token):
        result = real(token)
        if result[0] == NOTE and not edited:
            edited.append(True)
            Observation.objects.filter(pk=note.pk).update(what="已好转", at=timezone.now())
        return result

    monkeypatch.setattr(crypto, "decrypt_with_key", counselor_edits_meanwhile)
    summary = rotation.rotate()
    assert summary.skipped >= 1
    assert Observation.objects.get(pk=note.pk).what == "已好转"
