"""The access log's hash chain: two columns, and the rows written so far chained in id order."""

from django.db import migrations, models


def chain_existing(apps, schema_editor):
    from guanai.accounts.audit import rechain

    rechain(apps.get_model("accounts", "AccessLog"), schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_access_action_incident"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="前一条哈希"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="row_hash",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="本条哈希"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
