"""Which children of a printing are one family (one letter per family): the rule, pure, and
the key stored on a letter (a keyed hash: the phone cannot be read back from it).

The stored key is a hash under the field key, so `guanai rotate-key` changes it: a family's
letters are found under every key of the ring (`stored_family_keys`), and the rotation moves
the letters' keys to the current key (`rehash_family_keys`) so that they still group once the
old key has left the ring.
"""

from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from guanai.children.models import Child
from guanai.lib import crypto
from guanai.lib.phone import PhoneError, normalize_phone
from guanai.lib.text import clean

T = TypeVar("T")


class FamilyFacts(NamedTuple):
    """What the family rule reads from a card: the guardian's phone and name, the home."""

    phone: str
    guardian_name: str
    village: str
    group: str
    address: str


def family_key(facts: FamilyFacts) -> str:
    """Which family a child belongs to, for one letter per family; "" for a family alone.

    Children share a family when their guardians' phones are the same number (normalised: as
    typed, +86 or with dashes), or, when the guardian has no phone, the same guardian name and
    the same home (village, group and detailed address, which must be filled in). A child with
    neither is a family alone. The rule errs on the side of two letters: merging two families
    by mistake would leave one without its letter and mark its child contacted by the other's
    slip. The key holds the phone: store `stored_family_key(key)`, never the key itself.
    """
    phone = _phone_digits(facts.phone)
    if phone:
        return f"tel:{phone}"
    name, address = _compact(facts.guardian_name), _compact(facts.address)
    if name and address:
        return f"home:{name}|{_compact(facts.village)}|{_compact(facts.group)}|{address}"
    return ""


def group_families(members: Sequence[tuple[T, FamilyFacts]]) -> list[tuple[str, list[T]]]:
    """Group (member, facts) pairs into families by `family_key`, as (key, members): members
    keep their order (pass the eldest first), and families come in the order of their first
    member."""
    families: list[tuple[str, list[T]]] = []
    by_key: dict[str, list[T]] = {}
    for member, facts in members:
        key = family_key(facts)
        if key and key in by_key:
            by_key[key].append(member)
            continue
        family = [member]
        if key:
            by_key[key] = family
        families.append((key, family))
    return families


def _phone_digits(text: str) -> str:
    try:
        return normalize_phone(text)
    except PhoneError:
        digits = "".join(ch for ch in clean(text) if ch.isdigit())
        return digits if len(digits) >= 7 else ""


def _compact(text: str) -> str:
    return "".join(clean(text).split())


def stored_family_key(key: str) -> str:
    """A short keyed hash of a family key: letters of one family match across batches, but the
    phone number cannot be read back from it."""
    return crypto.lookup_hash(f"family:{key}")[:16] if key else ""


def stored_family_keys(key: str) -> list[str]:
    """The stored form of a family key under every key of the ring, the current key's first:
    `filter(family_key__in=stored_family_keys(key))` finds the family's letters printed before
    and after a key rotation."""
    if not key:
        return []
    return [crypto.lookup_hash_with(k, f"family:{key}")[:16] for k in crypto.ring()]


def rehash_family_keys(*, batch_size: int = 500, check: bool = False) -> int:
    """Move the letters' stored family keys to the current field key (for `guanai rotate-key`);
    returns how many letters moved (with `check`: would move, nothing written).

    A stored key cannot be read back, so it is recomputed from the family as the cards show it
    now: a letter moves when its stored key is that family key under an older key of the ring.
    A family whose phone or home changed since has no key to move to; its letters' keys stay
    as they were (they match no family under any key). Each letter is written by an UPDATE
    of its row that requires the key read to still be there, `batch_size` letters per
    transaction (`family_key` has no index: one statement per family would scan the table)."""
    from django.db import transaction

    from .models import Letter, LetterChild

    moved, last_pk = 0, 0
    while True:
        batch = list(
            Letter.objects.exclude(family_key="")
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "family_key")[:batch_size]
        )
        if not batch:
            return moved
        last_pk = batch[-1][0]
        named = (
            LetterChild.objects.filter(letter_id__in=[pk for pk, _ in batch])
            .select_related("child", "child__guardian")
            .only(
                "letter_id",
                "child__village",
                "child__group",
                "child__address",
                "child__guardian__name",
                "child__guardian__phone",
            )
        )
        children: dict[int, list[Child]] = {}
        for lc in named:
            children.setdefault(lc.letter_id, []).append(lc.child)
        with transaction.atomic():
            for pk, stored in batch:
                new = _current_form(stored, children.get(pk, []))
                if new is None:
                    continue
                if check:
                    moved += 1
                else:
                    moved += Letter.objects.filter(pk=pk, family_key=stored).update(family_key=new)


def _current_form(stored: str, children: list[Child]) -> str | None:
    """The current key's form of the family key `stored` is, among the letter's children's
    family keys under an older key; None if it is current already or no such key."""
    for key in {family_key(facts_of(child)) for child in children} - {""}:
        forms = stored_family_keys(key)
        if stored in forms[1:]:
            return forms[0]
    return None


def facts_of(child: Child) -> FamilyFacts:
    guardian = getattr(child, "guardian", None)
    return FamilyFacts(
        phone=guardian.phone if guardian else "",
        guardian_name=guardian.name if guardian else "",
        village=child.village,
        group=child.group,
        address=child.address,
    )
