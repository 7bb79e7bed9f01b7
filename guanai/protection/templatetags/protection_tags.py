"""{% protection_tabs user as tabs %}: which of the protection pages the user may open, so the
tabs show no page that would answer 403."""

from django import template

from guanai.protection.access import may

register = template.Library()


@register.simple_tag
def protection_tabs(user) -> dict[str, bool]:
    return {
        "incidents": may(user, "incidents") or may(user, "report"),
        "alerts": may(user, "manage"),
    }
