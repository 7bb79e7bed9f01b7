"""Forms for pairing, named responsibility and proxy parents. They parse what was typed; the
rules live in the services, whose `Invalid` errors the views put back on these fields."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from guanai.accounts.models import User
from guanai.forms import PlainForm
from guanai.lib.dates import range_errors
from guanai.lib.grades import grade_name
from guanai.org.models import SchoolClass

from .models import EXCLUSIONS, ProxyKind
from .responsibility import Invalid, term_bounds, term_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _person_label(user: User) -> str:
    return f"{user}（{user.username}）"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _person_label(obj)


class ProposeForm(PlainForm):
    """Whole school (`s<id>`) or one class (`c<id>`), among what the user may propose for."""

    target = forms.ChoiceField(label="结对范围")

    def __init__(self, *args, schools, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.schools = {s.pk: s for s in schools}
        self.classes = {c.pk: c for c in classes}
        choices = [(f"s{s.pk}", f"全校：{s.name}") for s in self.schools.values()]
        choices += [(f"c{c.pk}", f"{c.school.name} {c}") for c in self.classes.values()]
        self.fields["target"].choices = choices
        self.fields["target"].error_messages["invalid_choice"] = "请选择您可以安排结对的学校或班级"

    def clean_target(self):
        value = self.cleaned_data["target"]
        kind, pk = value[0], int(value[1:])
        if kind == "s":
            return self.schools[pk], None
        school_class = self.classes[pk]
        return school_class.school, school_class


class EndForm(PlainForm):
    reason = forms.CharField(
        label="结束原因",
        max_length=200,
        error_messages={"required": "请填写结束原因", "max_length": "结束原因最多 200 个字"},
    )


class SwapForm(PlainForm):
    buddy = forms.IntegerField(
        label="新的结对伙伴",
        error_messages={"required": "请选择新的结对伙伴", "invalid": "请选择新的结对伙伴"},
    )


class FollowForm(PlainForm):
    teacher = StaffChoiceField(
        label="跟踪教师",
        queryset=User.objects.none(),
        required=False,
        empty_label="（不指定）",
        error_messages={"invalid_choice": "请从本校教职工中选择"},
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = staff


# --- responsibility ----------------------------------------------------------------------------


class _PeriodForm(PlainForm):
    """A term, or dates typed by hand; the term wins when both are given."""

    user = StaffChoiceField(
        label="人员",
        queryset=User.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择人员", "invalid_choice": "请从本校教职工中选择"},
    )
    term = forms.ChoiceField(label="学期", required=False)
    valid_from = forms.DateField(
        label="起始日期",
        required=False,
        widget=DATE,
        error_messages={"invalid": "日期格式应为 2026-09-01"},
    )
    valid_to = forms.DateField(
        label="截止日期",
        required=False,
        widget=DATE,
        error_messages={"invalid": "日期格式应为 2027-01-31"},
    )
    replace = forms.BooleanField(
        label="接替现任（现任在新任开始前一天结束）", required=False, initial=True
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff
        terms = term_choices()
        self.fields["term"].choices = [("", "按下面的日期"), *terms]
        self.fields["term"].initial = terms[0][0]
        self.fields["term"].error_messages["invalid_choice"] = "请选择本学期或下学期"

    def clean(self):
        data = super().clean()
        if data.get("term"):
            try:
                data["valid_from"], data["valid_to"] = term_bounds(data["term"])
            except Invalid as exc:
                self.add_error("term", exc.errors["term"])
        elif not data.get("valid_from") and "valid_from" not in self.errors:
            self.add_error("valid_from", "请选择学期或填写起始日期")
        vf, vt = data.get("valid_from"), data.get("valid_to")
        for field, message in range_errors(
            vf, vt, field_start="valid_from", field_end="valid_to"
        ).items():
            self.add_error(field, message)
        return data


class GradeLeaderForm(_PeriodForm):
    grade = forms.TypedChoiceField(label="年级", coerce=int)

    def __init__(self, *args, grades, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [(g, grade_name(g)) for g in grades]
        self.fields["grade"].error_messages["invalid_choice"] = "本校没有该年级的班级"


class ClassTeacherForm(_PeriodForm):
    school_class = forms.ModelChoiceField(
        label="班级",
        queryset=SchoolClass.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择班级", "invalid_choice": "请选择本校的班级"},
    )

    def __init__(self, *args, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes


class ResponsibleForm(PlainForm):
    teacher = StaffChoiceField(
        label="责任教师",
        queryset=User.objects.none(),
        required=False,
        empty_label="（不指定）",
        error_messages={"invalid_choice": "请从本校教职工中选择"},
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = staff


# --- proxy parents -----------------------------------------------------------------------------


class ProxyDetailsForm(PlainForm):
    name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名"})
    phone = forms.CharField(label="电话", max_length=30, error_messages={"required": "请填写电话"})
    kind = forms.ChoiceField(
        label="身份",
        choices=ProxyKind.choices,
        error_messages={"required": "请选择身份", "invalid_choice": "请选择身份"},
    )
    village = forms.CharField(label="居住村", max_length=40, required=False)
    address = forms.CharField(label="住址", max_length=200, required=False)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ProxyRegisterForm(ProxyDetailsForm):
    username = forms.CharField(
        label="登录名",
        max_length=150,
        help_text="已有账号（如本校教师）填其登录名即可；新账号请同时设置初始密码",
        error_messages={"required": "请填写登录名"},
    )
    password = forms.CharField(
        label="初始密码", required=False, widget=forms.PasswordInput, help_text="新账号至少 8 位"
    )
    declared = forms.BooleanField(
        label="本人已声明不存在未成年人保护法第二十二条第二款（一）至（三）项情形",
        help_text="；".join(EXCLUSIONS),
        error_messages={"required": "须记录本人的声明，才能登记为代理家长"},
    )
    declared_on = forms.DateField(
        label="声明日期",
        widget=DATE,
        initial=timezone.localdate,
        error_messages={"required": "请填写声明日期", "invalid": "日期格式应为 2026-09-01"},
    )


class ProxyAssignForm(PlainForm):
    child = forms.IntegerField(
        label="儿童", error_messages={"required": "请选择儿童", "invalid": "请选择儿童"}
    )
    valid_from = forms.DateField(
        label="起始日期",
        widget=DATE,
        initial=timezone.localdate,
        error_messages={"required": "请填写起始日期", "invalid": "日期格式应为 2026-09-01"},
    )
    valid_to = forms.DateField(
        label="截止日期",
        widget=DATE,
        required=False,
        error_messages={"invalid": "日期格式应为 2027-01-31"},
    )


class RetireForm(PlainForm):
    reason = forms.CharField(
        label="退出原因",
        max_length=200,
        error_messages={"required": "请填写退出原因", "max_length": "退出原因最多 200 个字"},
    )


def put_errors(form: forms.Form, exc: Invalid) -> None:
    """Show a service's field errors on the form (at the field when it has one)."""
    for key, message in exc.errors.items():
        form.add_error(key if key in form.fields else None, message)
