"""The card's history reads as words: Chinese labels for every field, names for people,
schools and classes (the API keeps their numbers)."""

import re

from django.urls import reverse

from guanai.children.models import Child, Guardian, Parent
from guanai.children.services import HISTORY_HIDDEN, MASKED_AS, child_history
from guanai.children.validation import FIELD_LABELS
from guanai.pairing.responsibility import set_responsible_teacher


def test_every_field_the_history_can_show_has_a_chinese_label():
    missing = []
    for model, prefix in ((Child, ""), (Parent, "father."), (Guardian, "guardian.")):
        for f in model.history.model._meta.fields:
            name = f.attname if f.is_relation else f.name
            base = name.removesuffix("_id")
            if base in HISTORY_HIDDEN or name in HISTORY_HIDDEN:
                continue
            field = MASKED_AS.get(base, base)
            field = "class" if field == "school_class" else field
            if prefix + field not in FIELD_LABELS:
                missing.append(prefix + field)
    assert missing == []


def test_history_names_the_responsible_teacher_and_the_api_keeps_the_id(client, users, kids):
    teacher = users["zx_teacher31"]
    set_responsible_teacher(child=kids["c31a"], teacher=teacher, by=users["zx_leader"])
    change = next(
        c
        for e in child_history(kids["c31a"])
        for c in e["changes"]
        if c["field"] == "responsible_teacher"
    )
    assert (change["old"], change["new"], change["new_text"]) == (None, teacher.pk, "王老师")

    client.force_login(users["zx_leader"])
    page = client.get(reverse("children:detail", args=[kids["c31a"].pk])).content.decode()
    text = re.sub(r"<[^>]+>", "", page)
    assert "责任教师：（空） → 王老师" in text
    assert f"→ {teacher.pk}" not in text
    api = client.get(f"/api/v1/children/{kids['c31a'].pk}/history").json()
    changes = [c for e in api["items"] for c in e["changes"] if c["field"] == "responsible_teacher"]
    assert changes == [{"field": "responsible_teacher", "old": None, "new": teacher.pk}]


def test_history_names_the_class_a_child_moved_to(users, kids, cast):
    from guanai.children.services import update_child

    child = Child.objects.get(pk=kids["c31a"].pk)
    update_child(
        child=child,
        data={},
        version=child.version,
        by=users["zx_leader"],
        reason="调班",
        school_class=cast["classes"]["c32"],
    )
    change = next(c for e in child_history(child) for c in e["changes"] if c["field"] == "class")
    assert (change["label"], change["old_text"], change["new_text"]) == (
        "班级",
        "三年级(1)班",
        "三年级(2)班",
    )
