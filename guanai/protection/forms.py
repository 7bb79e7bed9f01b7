"""The pages' forms: plain Chinese messages naming the field; the rules themselves are in
services.py (a service's Invalid is shown at its field)."""

from django import forms
from django.utils import timezone

from guanai.forms import PlainForm
from guanai.lib.errors import Invalid

from .models import Agency, CaseStatus, HarmKind, Source


class StyledForm(PlainForm):
    """Bootstrap's classes on the text inputs (choices are drawn as buttons by _field.html)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                field.widget.attrs.setdefault("class", "form-control")

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


def show_errors(form: forms.Form, exc: Invalid) -> None:
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


class IncidentForm(StyledForm):
    observed_at = forms.DateTimeField(
        label="什么时候发现的",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    source = forms.ChoiceField(label="怎么知道的", choices=Source.choices, widget=forms.RadioSelect)
    harm_kind = forms.ChoiceField(
        label="疑似侵害类型", choices=HarmKind.choices, widget=forms.RadioSelect
    )
    what = forms.CharField(
        label="看到或听到的情况",
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "写下看到、听到的事实，如时间、地点、伤情、孩子的原话"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(
                "observed_at", timezone.localtime().replace(second=0, microsecond=0)
            )


class IncidentUpdateForm(StyledForm):
    told = forms.MultipleChoiceField(
        label="已报告部门",
        choices=Agency.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    told_at = forms.DateTimeField(
        label="报告部门时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    receipt_no = forms.CharField(label="回执编号", max_length=60, required=False)
    outcome = forms.CharField(
        label="处理结果",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DateNoteForm(StyledForm):
    on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label="跟进情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CaseForm(StyledForm):
    absent_since = forms.DateField(
        label="开始缺课日期", widget=forms.DateInput(attrs={"type": "date"})
    )
    absent_days = forms.IntegerField(label="缺课天数", min_value=1, max_value=400)
    reason_asked = forms.CharField(
        label="了解到的原因",
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "问过家长、孩子或同学后了解到的原因"}
        ),
    )


class AttemptForm(StyledForm):
    on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.CharField(label="劝返人员", max_length=100)
    with_whom = forms.CharField(label="见到谁", max_length=100)
    result = forms.CharField(
        label="劝返结果", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(StyledForm):
    status = forms.ChoiceField(
        label="结案方式",
        choices=[(CaseStatus.RETURNED, "已返校"), (CaseStatus.REPORTED, "劝返无效，书面报告")],
        widget=forms.RadioSelect,
    )
    on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label="结案说明",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(StyledForm):
    action = forms.CharField(
        label="采取的措施",
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "如：已联系村儿童主任，孩子暂住姑姑家"}
        ),
    )
