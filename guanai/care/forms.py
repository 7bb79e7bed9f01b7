from django import forms

from guanai.forms import PlainForm

from .models import Referral, RiskLevel

LEVELS = list(RiskLevel.choices)


class ObservationForm(PlainForm):
    level = forms.ChoiceField(
        label="关注程度",
        choices=LEVELS,
        initial=RiskLevel.WATCH,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择关注程度", "invalid_choice": "请选择关注程度"},
    )
    what = forms.CharField(
        label="看到或听到的情况",
        max_length=1000,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "class": "form-control",
                "placeholder": "如：这两周上课常发呆，说想妈妈",
            }
        ),
        error_messages={"required": "请写下看到或听到的情况"},
    )
    referral = forms.ChoiceField(
        label="建议", choices=Referral.choices, required=False, widget=forms.RadioSelect
    )


class SessionForm(PlainForm):
    notes = forms.CharField(
        label="辅导记录",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        error_messages={"required": "请填写辅导记录"},
    )
    level = forms.ChoiceField(
        label="辅导后关注程度",
        choices=LEVELS,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择关注程度", "invalid_choice": "请选择关注程度"},
    )
    referral = forms.ChoiceField(
        label="转介", choices=Referral.choices, required=False, widget=forms.RadioSelect
    )
    next_review_on = forms.DateField(
        label="下次回访日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
        error_messages={"invalid": "日期格式不对，应为 2026-12-10"},
    )
