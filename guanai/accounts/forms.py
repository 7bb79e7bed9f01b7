"""Forms for login and for managing users and their role assignments."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from guanai.forms import PlainModelForm
from guanai.lib.dates import range_errors
from guanai.lib.grades import GRADE_NAMES
from guanai.lib.villages import village_label
from guanai.org.models import School, SchoolClass

from .models import AUDIT_ONLY_ROLES, TOWN_ROLES, Role, RoleAssignment, User


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。连续输错 5 次将锁定 15 分钟。",
        "inactive": "该账号已停用，请联系镇管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update({"autocapitalize": "none"})


class UserForm(PlainModelForm):
    password = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput,
        min_length=8,
        required=False,
        help_text="至少 8 位；留空则不修改",
    )

    class Meta:
        model = User
        fields = ["username", "display_name", "phone", "is_active"]
        labels = {"username": "用户名", "is_active": "启用"}

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if not self.instance.pk and not password:
            raise forms.ValidationError("新用户必须设置初始密码")
        return password

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class RoleAssignmentForm(PlainModelForm):
    grade = forms.TypedChoiceField(
        label="年级",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "（年级负责人填写）"), *GRADE_NAMES.items()],
    )

    class Meta:
        model = RoleAssignment
        fields = ["role", "school", "grade", "school_class", "village", "valid_from", "valid_to"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_to": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, town=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.town = town
        self.fields["school"].queryset = School.objects.filter(town=town, active=True)
        self.fields["school_class"].queryset = SchoolClass.objects.filter(
            school__town=town, school__active=True, active=True
        ).select_related("school")
        self.fields["school_class"].label_from_instance = lambda c: c.label
        # The audit role is granted on the command line only (separation of duties).
        grantable = [(v, label) for v, label in Role.choices if v not in AUDIT_ONLY_ROLES]
        self.fields["role"].choices = [("", "请选择角色"), *grantable]
        self.fields["school"].empty_label = "（镇管理员、督导员、儿童主任、儿童督导员不选）"
        self.fields["school_class"].empty_label = "（班主任选择）"
        self.fields["village"].label = "村（儿童主任填写）"
        self.fields["village"].help_text = "如“枫树村”，写“枫树”也可以"
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

    def clean(self):
        data = super().clean()
        role, school = data.get("role"), data.get("school")
        school_class, grade = data.get("school_class"), data.get("grade")
        if role in TOWN_ROLES:  # held over the town (or one of its villages), not a school
            data["school"], data["grade"], data["school_class"] = None, None, None
            village = village_label(data.get("village"))
            data["village"] = village if role == Role.VILLAGE_DIRECTOR else ""
            if role == Role.VILLAGE_DIRECTOR and not village:
                self.add_error("village", "儿童主任需要填写所在的村")
        else:
            data["village"] = ""
        if role not in TOWN_ROLES and not school and not school_class:
            self.add_error("school", "该角色需要选择学校")
        if role == Role.GRADE_LEADER and grade is None:
            self.add_error("grade", "年级负责人需要填写年级")
        if role == Role.CLASS_TEACHER:
            if not school_class:
                self.add_error("school_class", "班主任需要选择班级")
            else:
                data["school"] = school_class.school
        if school_class and school and school_class.school_id != school.pk:
            self.add_error("school_class", "班级不属于所选学校")
        vf, vt = data.get("valid_from"), data.get("valid_to")
        for field, message in range_errors(
            vf, vt, field_start="valid_from", field_end="valid_to"
        ).items():
            self.add_error(field, message)
        return data

    def save(self, commit: bool = True) -> RoleAssignment:
        ra = super().save(commit=False)
        if ra.role in TOWN_ROLES:
            ra.town = self.town
        if commit:
            ra.save()
        return ra
