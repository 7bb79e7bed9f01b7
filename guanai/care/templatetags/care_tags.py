"""The card's way into psychological care, asked by the card page without the card app
knowing this one (features depend on the card, never the reverse)."""

from django import template

from guanai.accounts import scope
from guanai.care.services import may_report

register = template.Library()


@register.simple_tag
def care_card(user, child) -> dict[str, bool]:
    """`record`: the user reads the child's psychological record (the school's counselor and
    leaders); else `flag`: she may file a 心理关注."""
    record = scope.holds_child(user, "psych", child)
    return {"record": record, "flag": not record and may_report(user)}
