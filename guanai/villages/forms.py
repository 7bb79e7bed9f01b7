"""The 委托监护确认书 form: plain Chinese messages naming the field; the rules are in services."""

from django import forms

from guanai.forms import PlainForm


class EntrustmentForm(PlainForm):
    guardian_name = forms.CharField(label="受委托监护人姓名", max_length=50)
    guardian_relation = forms.CharField(
        label="与儿童关系", max_length=20, help_text="如：祖母、外祖父、姑姑"
    )
    signed_on = forms.DateField(label="签署日期", widget=forms.DateInput(attrs={"type": "date"}))
    scan = forms.FileField(
        label="确认书扫描件",
        required=False,
        help_text="拍照或扫描签好的确认书：JPG、PNG 照片或 PDF 文件，不超过 10 MB",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
