"""Drop `contacts.LastContact` (0007): since `ContactSummary` (0009) nothing reads it, and its
triggers cost every contact write an upsert. The triggers go first (on SQLite a trigger on the
contacts table that names a dropped table would fail the next write), then the table.
ContactSummary's triggers are not touched. Undoing this creates the table again, refilled from
the contacts, with its triggers."""

from importlib import import_module

from django.db import migrations

# LastContact's trigger SQL, as migration 0007 installed it.
last_contact = import_module("guanai.contacts.migrations.0007_last_contact")


def drop_triggers(apps, schema_editor):
    last_contact.drop_triggers(schema_editor)


def install_triggers(apps, schema_editor):
    last_contact.install_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_contact_summary"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, install_triggers),
        migrations.DeleteModel(name="LastContact"),
    ]
