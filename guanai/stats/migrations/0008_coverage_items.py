from django.db import migrations, models


class Migration(migrations.Migration):
    """A line's first items due (child and rule) as packed 64-bit places, beside its first
    children: the API's pages are merged from them (covstore.first_items). Lines stored
    before have none; covstore.LAYOUT 6 counts them again."""

    dependencies = [
        ("stats", "0007_coverage_first_packed"),
    ]

    operations = [
        migrations.AddField(
            model_name="coverageline",
            name="items",
            field=models.BinaryField(
                blank=True, default=None, null=True, verbose_name="最该联系的事项"
            ),
        ),
    ]
