"""Stored points of the trends per term (`stats.TermPoint`), deleted by triggers on the tables
they read (SQL in stats/termstore.py). Undoing this drops the triggers."""

from django.db import migrations, models


def install(apps, schema_editor):
    from guanai.stats.termstore import install_triggers

    install_triggers(schema_editor)


def drop(apps, schema_editor):
    from guanai.stats.termstore import drop_triggers

    drop_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0003_live_counts"),
        ("contacts", "0009_contact_summary"),
        ("screening", "0003_encrypt_contact_phone"),
        ("pairing", "0003_encrypt_proxy_phone"),
        ("children", "0008_encrypt_phones_health"),
        ("org", "0002_school_phone"),
    ]

    operations = [
        migrations.CreateModel(
            name="TermPoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=64, verbose_name="范围")),
                ("term", models.CharField(max_length=12, verbose_name="学期")),
                ("day", models.DateField(verbose_name="截至日期")),
                ("data", models.JSONField(null=True, verbose_name="统计")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
            ],
            options={
                "verbose_name": "学期趋势统计",
                "verbose_name_plural": "学期趋势统计",
                "indexes": [
                    models.Index(fields=["day"], name="term_point_day"),
                    models.Index(fields=["term"], name="term_point_term"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("key", "term", "day"), name="term_point_once")
                ],
            },
        ),
        migrations.RunPython(install, drop),
    ]
