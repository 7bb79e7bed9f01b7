"""The clean-up of the old WeChat-group "contacts" (issue #12): a class notice posted before
the fix no longer counts as each child's guardian contact; a teacher's own record survives."""

import importlib

from django.apps import apps
from django.utils import timezone

from guanai.contacts.models import Contact, Message, Recipient

cleanup = importlib.import_module("guanai.contacts.migrations.0006_group_posts_are_not_contacts")


def _posted(cast, gateway: str, **contact_extra) -> Contact:
    child, teacher = cast["children"]["c31a"], cast["users"]["zx_teacher31"]
    message = Message.objects.create(text="明天开家长会", gateway=gateway, created_by=teacher)
    contact = Contact.objects.create(
        child=child,
        by=teacher,
        kind="message",
        at=timezone.now(),
        with_whom="张奶奶",
        notes="明天开家长会",
        **contact_extra,
    )
    Recipient.objects.create(
        message=message, child=child, text="明天开家长会", status="sent", contact=contact
    )
    return contact


def test_group_posts_leave_the_cards_and_stay_in_history(cast):
    post = _posted(cast, "wechat")
    sms = _posted(cast, "http")
    followed = _posted(cast, "wechat", follow_up_by=timezone.localdate())
    cleanup.forwards(apps, None)
    assert not Contact.objects.filter(pk=post.pk).exists()
    # (run here with the app's models, simple_history adds its own deletion row too)
    kept = Contact.history.filter(
        id=post.pk, history_type="-", history_change_reason=cleanup.REASON
    )
    assert kept.get().notes == "明天开家长会"
    assert Recipient.objects.filter(message__gateway="wechat", contact__isnull=True).count() == 1
    assert Contact.objects.filter(pk__in=[sms.pk, followed.pk]).count() == 2
    cleanup.forwards(apps, None)  # twice: nothing more goes
    assert Contact.objects.filter(pk__in=[sms.pk, followed.pk]).count() == 2
