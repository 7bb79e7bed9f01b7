"""Forms of the inspection pages; every message names its field in Chinese (guanai.forms)."""

from django import forms

from guanai.contacts.forms import MultipleFileField
from guanai.forms import PlainForm

from . import documents
from .models import CheckField, Inspection

# What a file input offers: photos and the three document kinds (checked again by their bytes).
ACCEPT_FILES = "image/jpeg,image/png," + documents.ACCEPT


class PersonChoices(forms.ModelMultipleChoiceField):
    """People by name (display name), never by login or number."""

    def label_from_instance(self, obj) -> str:
        return str(obj)


class InspectionChoice(forms.ModelChoiceField):
    """An earlier inspection by school and date, as the pages name it."""

    def label_from_instance(self, obj: Inspection) -> str:
        return f"{obj.school.name} {obj.planned_on:%Y-%m-%d}（{obj.get_status_display()}）"


class TeamFields(PlainForm):
    """Who inspects, and the earlier inspection a re-inspection follows."""

    inspectors = PersonChoices(
        label="检查人员",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="本镇的镇管理员和督导员；不选时为您本人。",
    )
    previous = InspectionChoice(
        label="上次检查（复查时选择）",
        queryset=None,
        required=False,
        empty_label="不是复查",
    )

    def __init__(self, *args, people, earlier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = people
        self.fields["previous"].queryset = earlier.select_related("school").order_by(
            "school__code", "-planned_on", "-id"
        )


class InspectionForm(TeamFields):
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

    field_order = ["school", "planned_on", "sample_size", "seed", "inspectors", "previous"]

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class EditForm(TeamFields):
    """What may change after the draw: the date, the inspectors, the earlier inspection."""

    planned_on = forms.DateField(label="计划日期", widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["planned_on", "inspectors", "previous"]


class AttachForm(PlainForm):
    files = MultipleFileField(
        label="附件",
        required=False,
        help_text="照片（JPG、PNG）或文件（PDF、Word、Excel），每个不超过 10 MB，一次最多 5 个。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs["accept"] = ACCEPT_FILES


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
    files = MultipleFileField(label="证明材料", required=False)
    evidence = forms.CharField(
        label="整改情况", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
