"""The access log becomes append-only below the ORM: triggers refuse UPDATE and DELETE
(SQLite and PostgreSQL; the SQL is in accounts/audit.py). Undoing this drops them."""

from django.db import migrations


def install(apps, schema_editor):
    from guanai.accounts.audit import install_triggers

    install_triggers(schema_editor)


def drop(apps, schema_editor):
    from guanai.accounts.audit import drop_triggers

    drop_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_accesslog_hash_chain"),
    ]

    operations = [
        migrations.RunPython(install, drop),
    ]
