"""Which children of a printing are one family (one letter per family): the rule, pure, and
the key stored on a letter (a keyed hash: the phone cannot be read back from it)."""

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


def facts_of(child: Child) -> FamilyFacts:
    guardian = getattr(child, "guardian", None)
    return FamilyFacts(
        phone=guardian.phone if guardian else "",
        guardian_name=guardian.name if guardian else "",
        village=child.village,
        group=child.group,
        address=child.address,
    )
