"""Letters of one family across a field key rotation (issue #19): the stored family key is a
hash under the field key, so letters printed before `guanai rotate-key` are still found as the
family's — under every key of the ring, and after their keys are moved to the new key, once the
old key has left the ring too."""

import datetime as dt

import pytest

from guanai.children.models import Guardian
from guanai.contacts import letters as L
from guanai.contacts.families import rehash_family_keys
from guanai.contacts.models import Letter, LetterTemplate
from guanai.testing import make_child

OLD = "old-field-key-" + "o" * 40
NEW = "new-field-key-" + "n" * 40


@pytest.fixture
def zhang(cast, settings):
    """张三 and his elder brother 张四 (same grandmother, same phone); the other children of the
    cast each their own family. Under the old key."""
    settings.FIELD_KEY, settings.FIELD_OLD_KEYS = OLD, []
    for n, child in enumerate(cast["children"].values()):
        Guardian.objects.filter(child=child).update(phone=f"1390000{n:04d}")
    san = cast["children"]["c31a"]
    guardian = Guardian.objects.get(child=san)
    si = make_child(
        cast["classes"]["c41"],
        name="张四",
        birth=dt.date(2016, 2, 1),
        **{"guardian.name": guardian.name, "guardian.phone": guardian.phone},
    )
    return san, si


def _print(cast):
    return L.create_batch(
        by=cast["users"]["zx_leader"],
        template=LetterTemplate.objects.get(built_in=True, title="暑假安全致家长的一封信"),
        school=cast["schools"]["zx"],
    )


def _rotate(settings):
    settings.FIELD_KEY, settings.FIELD_OLD_KEYS = NEW, [OLD]


def test_letters_before_and_after_a_rotation_are_one_familys(cast, settings, zhang):
    san, si = zhang
    before = _print(cast).letters.get(child=si)
    _rotate(settings)
    after = _print(cast).letters.get(child=si)
    assert after.family_key != before.family_key  # hashed under the new key
    assert list(L.family_letters(san)) == [after, before]
    assert list(L.family_letters(si)) == [after, before]
    other = cast["children"]["c31b"]
    assert before not in L.family_letters(other) and after not in L.family_letters(other)


def test_the_rotation_moves_the_keys_so_the_old_key_can_leave_the_ring(cast, settings, zhang):
    san, si = zhang
    before = _print(cast).letters.get(child=si)
    _rotate(settings)
    after = _print(cast).letters.get(child=si)
    waiting = Letter.objects.exclude(family_key="").count() // 2  # the first batch's letters
    assert rehash_family_keys(check=True) == waiting
    assert rehash_family_keys(batch_size=2) == waiting
    assert rehash_family_keys() == 0  # done: a second run moves nothing
    before.refresh_from_db()
    assert before.family_key == after.family_key
    settings.FIELD_OLD_KEYS = []  # `rotate-key --check` says 0: the old key goes
    assert list(L.family_letters(san)) == [after, before]


def test_a_family_whose_phone_changed_keeps_its_old_key(cast, settings, zhang):
    san, si = zhang
    before = _print(cast).letters.get(child=si)
    stored = before.family_key
    _rotate(settings)
    Guardian.objects.filter(child__in=[san, si]).update(phone="13700001111")
    rehash_family_keys()
    before.refresh_from_db()
    assert before.family_key == stored  # no family to move it to: left as it was
    assert list(L.family_letters(si)) == [before]  # still found as the letter naming him
