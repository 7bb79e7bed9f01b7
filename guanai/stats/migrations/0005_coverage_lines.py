"""Today's coverage panels stored per class (`stats.CoverageLine`), and the log of changes the
triggers write (SQL in stats/covstore.py). Undoing this drops the triggers."""

import django.db.models.deletion
from django.db import migrations, models


def install(apps, schema_editor):
    from guanai.stats.covstore import install_triggers

    install_triggers(schema_editor)


def drop(apps, schema_editor):
    from guanai.stats.covstore import drop_triggers

    drop_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_school_phone"),
        ("stats", "0004_term_points"),
        ("contacts", "0011_contact_child_by_at"),
        ("screening", "0003_encrypt_contact_phone"),
        ("pairing", "0003_encrypt_proxy_phone"),
        ("children", "0008_encrypt_phones_health"),
    ]

    operations = [
        migrations.CreateModel(
            name="CoverageChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("school_class_id", models.BigIntegerField(null=True, verbose_name="班级")),
                ("school_id", models.BigIntegerField(null=True, verbose_name="学校")),
            ],
            options={
                "verbose_name": "覆盖统计变更",
                "verbose_name_plural": "覆盖统计变更",
            },
        ),
        migrations.CreateModel(
            name="CoverageLine",
            fields=[
                (
                    "school_class",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="coverage_line",
                        serialize=False,
                        to="org.schoolclass",
                        verbose_name="班级",
                    ),
                ),
                ("day", models.DateField(verbose_name="统计日期")),
                ("rules", models.CharField(max_length=255, verbose_name="联系规则")),
                ("stamp", models.CharField(max_length=100, verbose_name="变更标记")),
                ("data", models.JSONField(verbose_name="覆盖统计")),
            ],
            options={
                "verbose_name": "班级当日覆盖统计",
                "verbose_name_plural": "班级当日覆盖统计",
            },
        ),
        migrations.RunPython(install, drop),
    ]
