"""Display rules as filters: masking, labels, grades. Templates hold no logic beyond this."""

import datetime as dt

from django import template
from django.utils import timezone

from guanai.children.classification import CATEGORY_LABELS, STATUS_LABELS
from guanai.children.validation import FIELD_LABELS
from guanai.lib.grades import grade_name as _grade_name
from guanai.lib.masking import mask_id_beside_birth_date, mask_id_number, mask_phone

register = template.Library()

CATEGORY_COLORS = {
    "single": "warning",
    "double": "danger",
    "migrant": "info",
    "none": "secondary",
    "unknown": "light",
}


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value or "")


@register.filter
def masked_id(value: str) -> str:
    return mask_id_number(value or "")


@register.filter
def masked_beside_birth_date(masked: str) -> str:
    """A stored masked number (first 4, last 4) shortened for a page that also shows the birth
    date: first 4 and last 2."""
    return mask_id_beside_birth_date(masked)


@register.filter
def grade_name(value: int | None) -> str:
    return "" if value is None else _grade_name(int(value))


@register.filter
def category_label(value: str) -> str:
    return CATEGORY_LABELS.get(value, value)


@register.filter
def category_color(value: str) -> str:
    return CATEGORY_COLORS.get(value, "secondary")


@register.filter
def status_label(value: str) -> str:
    return STATUS_LABELS.get(value, value or "未填")


@register.filter
def field_label(value: str) -> str:
    return FIELD_LABELS.get(value, value)


@register.filter
def history_value(value) -> str:
    if value is None or value == "":
        return "（空）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, str):
        return CATEGORY_LABELS.get(value) or STATUS_LABELS.get(value) or _LABELS.get(value, value)
    return str(value)


_LABELS = {
    "male": "男",
    "female": "女",
    "rural": "农业",
    "urban": "非农业",
    "good": "较好",
    "fair": "一般",
    "poor": "差",
    "enrolled": "在读",
    "graduated": "已毕业",
    "transferred": "已转出",
    "left": "已离校",
}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def days_from_today(days: int) -> dt.date:
    """The Shanghai date `days` from today: the server's clock, not the phone's."""
    return timezone.localdate() + dt.timedelta(days=int(days))
