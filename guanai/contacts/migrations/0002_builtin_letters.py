"""The built-in letter templates: vacation safety letters (summer, winter) and guardians' duties."""

from django.db import migrations


def create(apps, schema_editor):
    from guanai.contacts.builtin_letters import BUILT_IN

    LetterTemplate = apps.get_model("contacts", "LetterTemplate")
    for title, body in BUILT_IN:
        LetterTemplate.objects.get_or_create(
            built_in=True, title=title, defaults={"body": body}
        )


def remove(apps, schema_editor):
    apps.get_model("contacts", "LetterTemplate").objects.filter(built_in=True).delete()


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
