"""The 学籍号 (often "G" + the ID number) is kept like the ID number: encrypted at rest, a
keyed hash for lookups, a masked form for lists and history. Existing cards and their history
rows are converted, then the plaintext column is dropped."""

from django.db import migrations, models

BATCH = 500


def encrypt_student_numbers(apps, schema_editor):
    from guanai.lib import crypto
    from guanai.lib.idcard import normalize_student_no
    from guanai.lib.masking import mask_id_number

    Child = apps.get_model("children", "Child")
    taken: set[str] = set()
    rows = []
    for child in Child.objects.exclude(student_no="").only("pk", "student_no").iterator(BATCH):
        number = normalize_student_no(child.student_no) or child.student_no
        digest = crypto.lookup_hash(number)
        if digest in taken:  # two cards differing only in case: keep each as typed
            number = child.student_no
            digest = crypto.lookup_hash(number)
        taken.add(digest)
        child.student_no_enc = crypto.encrypt(number)
        child.student_no_hash = digest
        child.student_no_masked = mask_id_number(number)
        rows.append(child)
    Child.objects.bulk_update(
        rows, ["student_no_enc", "student_no_hash", "student_no_masked"], batch_size=BATCH
    )

    History = apps.get_model("children", "HistoricalChild")
    rows = []
    for record in History.objects.exclude(student_no="").only("history_id", "student_no").iterator(
        BATCH
    ):
        number = normalize_student_no(record.student_no) or record.student_no
        record.student_no_enc = crypto.encrypt(number)
        record.student_no_masked = mask_id_number(number)
        rows.append(record)
    History.objects.bulk_update(rows, ["student_no_enc", "student_no_masked"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("children", "0002_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name='child',
            name='student_no_enc',
            field=models.TextField(blank=True, verbose_name='学籍号（加密）'),
        ),
        migrations.AddField(
            model_name='child',
            name='student_no_hash',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True, verbose_name='学籍号摘要'),
        ),
        migrations.AddField(
            model_name='child',
            name='student_no_masked',
            field=models.CharField(blank=True, max_length=30, verbose_name='学籍号（脱敏）'),
        ),
        migrations.AddField(
            model_name='historicalchild',
            name='student_no_enc',
            field=models.TextField(blank=True, verbose_name='学籍号（加密）'),
        ),
        migrations.AddField(
            model_name='historicalchild',
            name='student_no_masked',
            field=models.CharField(blank=True, max_length=30, verbose_name='学籍号（脱敏）'),
        ),
        migrations.RunPython(encrypt_student_numbers, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(
            model_name='child',
            name='children_student_no_unique',
        ),
        migrations.RemoveField(
            model_name='child',
            name='student_no',
        ),
        migrations.RemoveField(
            model_name='historicalchild',
            name='student_no',
        ),
    ]
