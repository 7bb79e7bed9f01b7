"""The inspection part of a person's 我的待办 (pairing's work page), without pairing importing
the inspections app: `{% load inspection_tags %}{% my_rectifications request.user %}`."""

from django import template

from guanai.inspections.services import home_panel

register = template.Library()


@register.inclusion_tag("inspections/_home_panel.html")
def my_rectifications(user) -> dict:
    """The open 整改 items the user owns (overdue first, in red) and the card corrections an
    inspection proposed that wait for her."""
    return {"inspection_panel": home_panel(user)}
