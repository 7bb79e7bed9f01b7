"""Before issue #12 a message posted to a class WeChat group was also written as a 平台消息
contact on each child's card, so one notice to the class counted as the guardian contact every
child was owed. Those contacts go: each leaves a deletion row in the contact's history naming
why (nothing is lost: the history keeps it, and the message's recipient row keeps the text, the
guardian and the time). Only untouched ones go — a contact someone corrected or gave a
follow-up to is a teacher's record now and stays."""

from django.db import migrations
from django.utils import timezone

REASON = "微信群通知不算家校联系（系统清理）"


def forwards(apps, schema_editor):
    Recipient = apps.get_model("contacts", "Recipient")
    Contact = apps.get_model("contacts", "Contact")
    History = apps.get_model("contacts", "HistoricalContact")
    rows = Recipient.objects.filter(message__gateway="wechat", contact__isnull=False)
    fields = [f.attname for f in Contact._meta.concrete_fields]
    history_fields = {f.attname for f in History._meta.concrete_fields}
    now = timezone.now()
    for recipient in rows.select_related("contact"):
        contact = recipient.contact
        if (
            contact.kind != "message"
            or contact.notes != recipient.text
            or contact.follow_up_by is not None
            or History.objects.filter(id=contact.pk, history_type="~").exists()
        ):
            continue
        values = {f: getattr(contact, f) for f in fields if f in history_fields}
        History.objects.create(
            **values,
            history_date=now,
            history_type="-",
            history_change_reason=REASON,
            history_user_id=None,
        )
        recipient.contact = None
        recipient.save(update_fields=["contact"])
        contact.delete()


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_finding_level_words")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
