"""Form messages in plain Chinese that name the field, for every form of the app.

Django's own Chinese messages name nothing ("这个字段是必填项。", "确保该变量包含不超过 100 字符",
"具有 学校代码 的 学校 已存在。"). Forms inherit `PlainForm` / `PlainModelForm` (or mix
`PlainMessages` into another base); a message a form sets itself is kept.
"""

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def _defaults(field: forms.Field) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cls in reversed(type(field).__mro__):
        out.update(getattr(cls, "default_error_messages", {}))
    return out


def plain_messages(field: forms.Field) -> dict[str, str]:
    """The messages for one field, each naming it by its label."""
    label = str(field.label or "此项")
    if isinstance(field, forms.DateTimeField):
        invalid = f"{label}应为日期和时间，如 2026-11-29 08:30"
    elif isinstance(field, forms.DateField):
        invalid = f"{label}应为日期，如 2026-11-29"
    elif isinstance(field, forms.IntegerField):
        invalid = f"{label}应为整数"
    elif isinstance(field, forms.DecimalField | forms.FloatField):
        invalid = f"{label}应为数字"
    elif isinstance(field, forms.EmailField):
        invalid = f"{label}不是有效的邮箱地址"
    else:
        invalid = f"{label}的格式不正确"
    choosing = isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
    messages = {
        "required": f"请{'选择' if choosing else '填写'}{label}",
        "invalid": invalid,
        "invalid_choice": f"所选{label}不在可选范围内，请重新选择",
        "invalid_list": f"请选择{label}",
        "invalid_pk_value": f"所选{label}不在可选范围内，请重新选择",
        "max_length": f"{label}最多 %(limit_value)d 个字（现在 %(show_value)d 个）",
        "min_length": f"{label}至少 %(limit_value)d 个字（现在 %(show_value)d 个）",
        "max_value": f"{label}不能大于 %(limit_value)s",
        "min_value": f"{label}不能小于 %(limit_value)s",
        "max_digits": f"{label}最多 %(max)s 位数字",
        "max_decimal_places": f"{label}最多 %(max)s 位小数",
        "max_whole_digits": f"{label}整数部分最多 %(max)s 位",
        "empty": f"{label}是空文件",
        "missing": f"没有收到{label}",
        "invalid_image": f"{label}不是可以识别的图片",
    }
    if isinstance(field, forms.FileField):
        messages["max_length"] = f"{label}的文件名最多 %(max)d 个字"
    return messages


class PlainMessages:
    """Mixin: Django's default messages of every field, and uniqueness messages of model forms,
    replaced by Chinese that names the field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            defaults = _defaults(field)
            for code, message in plain_messages(field).items():
                current = field.error_messages.get(code)
                if current is None or current == defaults.get(code):
                    field.error_messages[code] = message

    def _update_errors(self, errors: ValidationError) -> None:
        if hasattr(errors, "error_dict"):
            errors = ValidationError(
                {
                    name: [self._plain_unique(name, e) for e in errs]
                    for name, errs in errors.error_dict.items()
                }
            )
        super()._update_errors(errors)

    def _plain_unique(self, name: str, error: ValidationError) -> ValidationError:
        model = self._meta.model._meta
        if error.code == "unique" and name != NON_FIELD_ERRORS:
            label = self.fields[name].label if name in self.fields else name
            value = self.cleaned_data.get(name, "")
            return ValidationError(
                f"已有{model.verbose_name}的{label}是“{value}”，请换一个", code="unique"
            )
        if error.code in ("unique", "unique_together"):
            return ValidationError(
                f"这个{model.verbose_name}已经有了，请不要重复添加", code=error.code
            )
        return error


class PlainForm(PlainMessages, forms.Form):
    pass


class PlainModelForm(PlainMessages, forms.ModelForm):
    pass
