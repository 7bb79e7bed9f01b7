"""Forms of the inspection pages; every message names its field in Chinese (guanai.forms)."""

from django import forms

from guanai.contacts.forms import MultipleFileField
from guanai.forms import PlainForm

from .models import CheckField


class InspectionForm(PlainForm):
    school = forms.ModelChoiceField(label="学校", queryset=None, empty_label="请选择学校")
    planned_on = forms.DateField(label="计划日期", widget=forms.DateInput(attrs={"type": "date"}))
    sample_size = forms.IntegerField(
        label="抽样人数",
        min_value=1,
        max_value=10_000,
        initial=20,
        error_messages={"min_value": "抽样人数必须大于 0"},
    )
    seed = forms.CharField(
        label="随机种子",
        max_length=100,
        required=False,
        help_text="可不填，系统自动生成并保存；任何人可用同一种子重新验证抽样。",
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class FindingForm(PlainForm):
    """One sampled child's visit, for a phone: each card field correct, wrong (with the true
    value) or not checked."""

    visited = forms.TypedChoiceField(
        label="走访方式",
        choices=[("1", "入户走访"), ("0", "电话核实")],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    met_whom = forms.CharField(label="见到的人", max_length=100, required=False)
    notes = forms.CharField(
        label="备注", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, recorded: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded = recorded
        for value, label in CheckField.choices:
            self.fields[f"{value}__state"] = forms.ChoiceField(
                label=label,
                required=False,
                initial="",
                choices=[("", "未核对"), ("ok", "正确"), ("wrong", "不正确")],
                widget=forms.RadioSelect,
            )
            self.fields[f"{value}__found"] = forms.CharField(
                label=f"{label}（实际情况）", max_length=200, required=False
            )

    def rows(self):
        """(label, card value, state field, found field) per checked field, for the template."""
        return [
            (label, self.recorded.get(value, ""), self[f"{value}__state"], self[f"{value}__found"])
            for value, label in CheckField.choices
        ]

    def checks(self) -> list[dict]:
        out = []
        for value, _label in CheckField.choices:
            state = self.cleaned_data.get(f"{value}__state")
            if state:
                out.append(
                    {
                        "field": value,
                        "correct": state == "ok",
                        "found": self.cleaned_data.get(f"{value}__found", ""),
                    }
                )
        return out


class ItemForm(PlainForm):
    title = forms.CharField(label="整改事项", max_length=200)
    owner = forms.ModelChoiceField(label="责任人", queryset=None, empty_label="请选择责任人")
    due_on = forms.DateField(label="整改期限", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class DoneForm(PlainForm):
    photos = MultipleFileField(label="照片", required=False)
    evidence = forms.CharField(
        label="整改情况", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
