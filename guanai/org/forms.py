from django import forms

from guanai.forms import PlainForm, PlainModelForm
from guanai.lib.grades import GRADE_NAMES
from guanai.lib.phone import PhoneError, normalize_phone

from .models import School, SchoolClass


class SchoolForm(PlainModelForm):
    class Meta:
        model = School
        fields = ["code", "name", "is_central", "active"]


class TownNameForm(PlainForm):
    name = forms.CharField(label="镇名称", max_length=50)


class SchoolNameForm(PlainForm):
    name = forms.CharField(label="学校名称", max_length=60)


class SchoolPhoneForm(PlainForm):
    """The school's phone, printed on letters to families ({学校电话}): a landline with its area
    code or a mobile, normalised like every phone of the app; blank clears it."""

    phone = forms.CharField(label="学校电话", max_length=20, required=False)

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data.get("phone", ""))
        except PhoneError as exc:
            raise forms.ValidationError(str(exc)) from None


class ClassFields(PlainForm):
    """Grade and number of a class; a new class defaults to 一年级, the usual first grade."""

    grade = forms.TypedChoiceField(
        label="年级", coerce=int, choices=list(GRADE_NAMES.items()), initial=1
    )
    class_no = forms.IntegerField(label="班级", min_value=1, max_value=99)


class SchoolClassForm(ClassFields):
    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school

    def clean(self):
        data = super().clean()
        if SchoolClass.objects.filter(
            school=self.school, grade=data.get("grade"), class_no=data.get("class_no")
        ).exists():
            raise forms.ValidationError("该班级已存在")
        return data

    def save(self) -> SchoolClass:
        return SchoolClass.objects.create(
            school=self.school,
            grade=self.cleaned_data["grade"],
            class_no=self.cleaned_data["class_no"],
        )
