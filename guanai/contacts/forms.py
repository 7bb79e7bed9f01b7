"""Forms of the contact pages; validation delegates to the services shared with the API."""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from guanai.children.models import Category, Child
from guanai.children.validation import CardInvalid
from guanai.forms import PlainForm

from . import access
from .corrections import FINDING_FIELDS
from .models import FINDING_AREAS, Contact, ContactKind, FindingLevel, RulePeriod
from .services import clean_contact

LEVEL_CHOICES = [("", "未记录"), *FindingLevel.choices]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(d, initial) for d in items]


def with_whom_choices(child: Child) -> list[str]:
    """The people a teacher usually talks to: guardian first, then the parents."""
    out = []
    guardian = getattr(child, "guardian", None)
    if guardian and guardian.name:
        out.append(f"{guardian.relation or '监护人'} {guardian.name}".strip())
    for parent in child.parents.all():
        label = f"{parent.get_relation_display()} {parent.name}".strip()
        if label not in out:
            out.append(label)
    if "本人" not in out:
        out.append("学生本人")
    return out


class ContactForm(PlainForm):
    """Log one contact. The hidden `idempotency_key` makes a resubmit (after a network drop)
    answer the first save instead of creating a duplicate. `by`, who logs it, decides the kinds
    offered and whether the psychological area is there (`access`)."""

    kind = forms.ChoiceField(
        label="联系方式", choices=ContactKind.choices, widget=forms.RadioSelect
    )
    at = forms.DateTimeField(
        label="时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    with_whom = forms.CharField(label="联系对象", max_length=100, required=False)
    notes = forms.CharField(
        label="情况记录", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up_by = forms.DateField(
        label="需跟进，截止日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="有需要跟进的事项时填写；跟进完成前会显示在您的首页",
    )
    photos = MultipleFileField(label="照片", required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, child: Child, by: Any, **kwargs: Any) -> None:
        kinds = access.kind_choices(by)
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("idempotency_key", uuid.uuid4().hex)
        initial.setdefault("at", timezone.localtime().replace(second=0, microsecond=0))
        initial.setdefault("kind", kinds[0][0] if access.proxy_reader(by) else "home_visit")
        super().__init__(*args, **kwargs)
        self.child, self.by = child, by
        self.fields["kind"].choices = kinds
        self.areas = [
            (area, label)
            for area, label in FINDING_AREAS
            if area != "psych" or not access.proxy_reader(by)
        ]
        for area, label in self.areas:
            self.fields[f"{area}_level"] = forms.ChoiceField(
                label=label, choices=LEVEL_CHOICES, required=False, widget=forms.RadioSelect
            )
            self.fields[f"{area}_text"] = forms.CharField(
                label=f"{label}情况", max_length=500, required=False
            )
        if not child.photo_consent:
            del self.fields["photos"]
        self.values: dict[str, Any] = {}

    def area_fields(self) -> list[tuple[str, Any, Any]]:
        return [(label, self[f"{area}_level"], self[f"{area}_text"]) for area, label in self.areas]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        findings = {
            area: {"level": data.get(f"{area}_level", ""), "text": data.get(f"{area}_text", "")}
            for area, _label in self.areas
        }
        try:
            self.values = clean_contact(
                kind=data["kind"],
                at=data["at"],
                with_whom=data.get("with_whom", ""),
                notes=data.get("notes", ""),
                follow_up_by=data.get("follow_up_by"),
                findings=findings,
                by=self.by,
            )
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                field = key.replace("findings.", "").replace(".", "_")
                self.add_error(field if field in self.fields else None, message)
        return data


class ContactEditForm(ContactForm):
    """Correct a saved contact: the same fields (not the child, not photos) and a required
    reason, kept in the contact's history."""

    reason = forms.CharField(
        label="修改原因",
        max_length=100,
        error_messages={"required": "请填写修改原因"},
        widget=forms.TextInput(attrs={"placeholder": "如：时间记错了，应为上午"}),
    )

    def __init__(self, *args: Any, contact: Contact, by: Any, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.update(
            {
                "kind": contact.kind,
                "at": timezone.localtime(contact.at).replace(second=0, microsecond=0),
                "with_whom": contact.with_whom,
                "notes": contact.notes,
                "follow_up_by": contact.follow_up_by,
                **{f: getattr(contact, f) for f in FINDING_FIELDS},
            }
        )
        super().__init__(*args, child=contact.child, by=by, **kwargs)
        self.contact = contact
        if access.psych_hidden(by, contact):  # kept as recorded, neither shown nor changed
            self.areas = [(a, label) for a, label in self.areas if a != "psych"]
            for part in ("level", "text"):
                self.fields.pop(f"psych_{part}", None)
        del self.fields["idempotency_key"]
        self.fields.pop("photos", None)
        # the version being corrected: a save over somebody else's newer one is refused
        self.fields["loaded_at"] = forms.DateTimeField(
            widget=forms.HiddenInput, required=False, initial=contact.updated_at.isoformat()
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The form shows minutes: an unchanged minute keeps the seconds the API may have sent.
        at = self.values.get("at")
        if at is not None and at == self.initial["at"]:
            self.values["at"] = self.contact.at
        if self.values and "psych_level" not in self.fields:
            for f in ("psych_level", "psych_text"):
                self.values[f] = getattr(self.contact, f)
        return data


class VisitRoundForm(PlainForm):
    """A new 普访 round for a town or one school; `create_round` checks the dates and name."""

    unit = forms.ChoiceField(label="范围")
    name = forms.CharField(
        label="名称",
        max_length=60,
        error_messages={"required": "请填写轮次名称，如“2026 秋季学期普访”"},
        widget=forms.TextInput(attrs={"placeholder": "如 2026 秋季学期普访"}),
    )
    since = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))
    left_behind_only = forms.BooleanField(label="只统计留守儿童", required=False)
    notes = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, towns: list, schools: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units: dict[str, dict[str, Any]] = {
            **{f"town:{t.pk}": {"town": t, "school": None} for t in towns},
            **{f"school:{s.pk}": {"town": None, "school": s} for s in schools},
        }
        self.fields["unit"].choices = [(f"town:{t.pk}", f"{t.name}（全镇）") for t in towns] + [
            (f"school:{s.pk}", s.name) for s in schools
        ]

    def round_values(self) -> dict[str, Any]:
        """Keyword arguments of `create_round` (all but `by`)."""
        data = self.cleaned_data
        return {**self.units[data["unit"]], **{f: data[f] for f in ROUND_FIELDS}}


ROUND_FIELDS = ("name", "since", "until", "left_behind_only", "notes")


class VisitRoundEditForm(VisitRoundForm):
    """Change a round's name, dates and notes; its town or school stays."""

    def __init__(self, *args: Any, visit_round: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).update({f: getattr(visit_round, f) for f in ROUND_FIELDS})
        super().__init__(*args, towns=[], schools=[], **kwargs)
        del self.fields["unit"]

    def round_values(self) -> dict[str, Any]:
        """Keyword arguments of `update_round` (all but the round and `by`)."""
        return {f: self.cleaned_data[f] for f in ROUND_FIELDS}


class DoneForm(PlainForm):
    """A follow-up marked done, with what was done (checked by `complete_follow_up`)."""

    note = forms.CharField(label="跟进结果", max_length=500, required=False)


class RuleForm(PlainForm):
    """One frequency rule as edited on the rules page."""

    name = forms.CharField(
        label="名称", max_length=50, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    active = forms.BooleanField(
        label="启用",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    period = forms.ChoiceField(
        label="频次",
        choices=RulePeriod.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    days = forms.IntegerField(
        label="天数",
        min_value=1,
        max_value=366,
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    kinds = forms.MultipleChoiceField(
        label="算作完成的联系方式",
        choices=ContactKind.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    categories = forms.MultipleChoiceField(
        label="适用儿童",
        required=False,  # checked by save_rule: a proxy-parent rule has none
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("period") == RulePeriod.DAYS and not data.get("days"):
            self.add_error("days", "“每 N 天一次”请填写天数")
        return data


class TemplateForm(PlainForm):
    title = forms.CharField(label="标题", max_length=100)
    body = forms.CharField(label="正文", widget=forms.Textarea(attrs={"rows": 14}))
    receipt_text = forms.CharField(
        label="回执内容",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PrintForm(PlainForm):
    """Print a letter for a class, a grade or a school."""

    template = forms.TypedChoiceField(label="信件", coerce=int)
    unit = forms.ChoiceField(label="范围")
    left_behind_only = forms.BooleanField(label="只给留守儿童家庭", required=False)
    holiday_start = _date_field("假期开始")
    holiday_end = _date_field("假期结束")
    return_on = _date_field("返校日期")

    def __init__(self, *args: Any, templates: list, units: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, t.title) for t in templates]
        self.fields["unit"].choices = units

    def values(self) -> dict[str, str]:
        names = {"holiday_start": "假期开始", "holiday_end": "假期结束", "return_on": "返校日期"}
        return {
            label: self.cleaned_data[field].isoformat()
            for field, label in names.items()
            if isinstance(self.cleaned_data.get(field), dt.date)
        }


class ReceiptForm(PlainForm):
    code = forms.CharField(
        label="回执编号",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "autocapitalize": "characters"}
        ),
    )


class MessageForm(PlainForm):
    text = forms.CharField(
        label="消息内容",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="可用占位符：{学生姓名} {监护人} {班级} {学校} {班主任}",
    )
    gateway = forms.ChoiceField(label="发送通道")
    unit = forms.ChoiceField(label="范围", required=False)
    category = forms.ChoiceField(
        label="儿童类别",
        required=False,
        choices=[("", "全部学生"), ("left_behind", "留守儿童"), *Category.choices],
    )
    rule = forms.ChoiceField(label="只发给待联系的", required=False)
    children = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, gateways: list, units: list, rules: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = gateways
        self.fields["unit"].choices = [("", "（按名单）"), *units]
        self.fields["rule"].choices = [("", "不限"), *rules]

    def child_ids(self) -> list[int]:
        raw = self.cleaned_data.get("children") or ""
        return [int(x) for x in raw.split(",") if x.strip().isdigit()]
