from django import forms

from guanai.lib.grades import GRADE_NAMES

from .models import School, SchoolClass


class SchoolForm(forms.ModelForm):
    class Meta:
        model = School
        fields = ["code", "name", "is_central", "active"]


class SchoolClassForm(forms.ModelForm):
    grade = forms.TypedChoiceField(label="年级", coerce=int, choices=list(GRADE_NAMES.items()))
    class_no = forms.IntegerField(label="班级", min_value=1, max_value=99)

    class Meta:
        model = SchoolClass
        fields = ["grade", "class_no"]

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
