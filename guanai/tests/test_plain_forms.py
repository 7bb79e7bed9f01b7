"""Forms speak plain Chinese that names the field (guanai/forms.py), never Django's generic
"这个字段是必填项。" or "确保该变量包含不超过 100 字符"."""

import importlib
import inspect

import pytest
from django import forms

from guanai.forms import PlainForm, PlainMessages

FORM_MODULES = [
    "guanai.accounts.forms",
    "guanai.org.forms",
    "guanai.children.forms",
    "guanai.pairing.forms",
    "guanai.contacts.forms",
]
# Login keeps Django's authentication form (its own messages are set there).
EXEMPT = {"LoginForm"}


@pytest.mark.parametrize("module", FORM_MODULES)
def test_every_form_of_the_app_uses_plain_messages(module):
    mod = importlib.import_module(module)
    found = [
        name
        for name, cls in inspect.getmembers(mod, inspect.isclass)
        if issubclass(cls, forms.BaseForm)
        and cls.__module__ == module
        and name not in EXEMPT
        and not issubclass(cls, PlainMessages)
    ]
    assert found == []


class Sample(PlainForm):
    name = forms.CharField(label="姓名", max_length=4)
    age = forms.IntegerField(label="年龄", min_value=1, max_value=20)
    day = forms.DateField(label="日期")
    kind = forms.ChoiceField(label="类别", choices=[("a", "甲")])
    note = forms.CharField(label="备注", required=False, error_messages={"max_length": "自定"})


def test_default_messages_name_the_field():
    form = Sample({"name": "张三丰五六", "age": "30", "day": "明天", "kind": "b"})
    assert not form.is_valid()
    assert form.errors == {
        "name": ["姓名最多 4 个字（现在 5 个）"],
        "age": ["年龄不能大于 20"],
        "day": ["日期应为日期，如 2026-11-29"],
        "kind": ["所选类别不在可选范围内，请重新选择"],
    }
    assert Sample({}).errors["name"] == ["请填写姓名"]
    assert Sample({}).errors["kind"] == ["请选择类别"]
    assert Sample().fields["note"].error_messages["max_length"] == "自定"  # a form's own stays
