"""The questionnaire shipped with Guanai, as data the school may edit: written for this
project (not a published, copyrighted scale), ten everyday statements a child answers with
从不 / 有时 / 经常 / 总是 (0–3); 10 or more is 关注, 18 or more 重点关注, and any answer but 从不
to the last statement (thoughts of self-harm) is 重点关注 whatever the total."""

from django.db import migrations

ITEMS = [
    "最近我常常觉得心里难过，想哭",
    "我晚上很难睡着，或者睡得不踏实",
    "我不想和同学、老师说话",
    "以前喜欢做的事，现在我不想做了",
    "我常常担心家里的事，担心爸爸妈妈",
    "我容易发脾气，管不住自己",
    "我觉得自己不如别人",
    "上课时我很难集中注意力",
    "我觉得身边没有人可以说心里话",
    "我有过伤害自己的念头",
]
OPTIONS = [("从不", 0), ("有时", 1), ("经常", 2), ("总是", 3)]


def create(apps, schema_editor):
    Instrument = apps.get_model("care", "Instrument")
    items = [
        {"text": text, "options": [{"label": label, "score": score} for label, score in OPTIONS]}
        for text in ITEMS
    ]
    items[-1]["critical"] = True
    Instrument.objects.get_or_create(
        name="学生心理状况自评（简版）",
        defaults={
            "description": "请学生按最近两周的情况，在每一题选一个最接近的回答。由心理辅导老师"
            "在监护人同意后组织，结果只有心理辅导老师和学校领导可以查看。",
            "items": items,
            "thresholds": [
                {"min": 0, "level": "normal"},
                {"min": 10, "level": "watch"},
                {"min": 18, "level": "high"},
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("care", "0001_psych")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
