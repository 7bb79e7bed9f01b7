from django.db import migrations, models


class Migration(migrations.Migration):
    """A line's first children as packed 64-bit places (covstore.pack), not JSON pairs. The
    lines are counts kept for the day (covstore.LAYOUT 5 counts them again): the old column
    is dropped, not converted (PostgreSQL has no cast from jsonb to bytea)."""

    dependencies = [
        ("stats", "0006_coverage_first"),
    ]

    operations = [
        migrations.RemoveField(model_name="coverageline", name="first"),
        migrations.AddField(
            model_name="coverageline",
            name="first",
            field=models.BinaryField(
                blank=True, default=None, null=True, verbose_name="最该联系的儿童"
            ),
        ),
    ]
