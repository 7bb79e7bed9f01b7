"""Small builders for the contacts tests."""

import datetime as dt

from django.utils import timezone

from guanai.contacts.models import Contact
from guanai.contacts.rules import SHANGHAI


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A Shanghai-local moment."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def add_contact(child, by, kind="phone", when=None, **extra) -> Contact:
    return Contact.objects.create(child=child, by=by, kind=kind, at=when or timezone.now(), **extra)


def created_on(child, day: dt.date) -> None:
    """Pretend the card was created on `day` (rules count never-contacted children from it)."""
    type(child).objects.filter(pk=child.pk).update(created_at=at(day, 8))
