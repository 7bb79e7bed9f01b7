"""The pages' forms; the rules are in services.py (its Invalid is shown at the field)."""

from django import forms
from django.utils import timezone

from guanai.protection.forms import StyledForm

from .models import RequestKind, RequestStatus

_DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class RequestForm(StyledForm):
    kind = forms.ChoiceField(
        label="请求类型", choices=RequestKind.choices, widget=forms.RadioSelect
    )
    received_on = forms.DateField(label="收到日期", **_DATE)
    requester = forms.CharField(label="提出人姓名", max_length=50)
    relation = forms.CharField(
        label="与儿童的关系",
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "例如：母亲、祖父"}),
    )
    asked = forms.CharField(
        label="请求内容",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "家长要查看、更正或删除什么"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class ReplyForm(StyledForm):
    status = forms.ChoiceField(
        label="状态", choices=RequestStatus.choices, widget=forms.RadioSelect
    )
    reply = forms.CharField(
        label="答复与处理情况",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "做了什么、怎样答复家长"}),
    )
    replied_on = forms.DateField(label="答复日期", required=False, **_DATE)
