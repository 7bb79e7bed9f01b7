"""The built-in letters give the class teacher's and the school's phone ({班主任电话},
{学校电话}). Databases made before get the same sentences in their built-in templates; a
school's own copy is its own text and stays as it is. The sentences are written out here, not
imported, so this migration means the same whatever builtin_letters.py says later."""

from django.db import migrations

EDITS = [
    (
        "如有困难，请与班主任{班主任}联系。",
        "如有困难，请与班主任{班主任}（电话：{班主任电话}）或学校（电话：{学校电话}）联系。",
    ),
    (
        "家庭住址、监护人或联系电话有变化时，请及时告诉班主任{班主任}。",
        (
            "家庭住址、监护人或联系电话有变化时，请及时告诉班主任{班主任}（电话：{班主任电话}）；"
            "学校电话：{学校电话}。"
        ),
    ),
]


def _edit(apps, pairs):
    LetterTemplate = apps.get_model("contacts", "LetterTemplate")
    for template in LetterTemplate.objects.filter(built_in=True):
        body = template.body
        for before, after in pairs:
            if after not in body:
                body = body.replace(before, after)
        if body != template.body:
            template.body = body
            template.save(update_fields=["body"])


def add_phones(apps, schema_editor):
    _edit(apps, EDITS)


def remove_phones(apps, schema_editor):
    _edit(apps, [(after, before) for before, after in EDITS])


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_families_history_audience_rounds")]
    operations = [migrations.RunPython(add_phones, remove_phones)]
