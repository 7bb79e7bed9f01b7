"""{% card_entrustment user child %} on the card; {% village_panel user as village_panel %} on the
home page (include villages/_home_panel.html)."""

from django import template

from guanai.accounts import scope

register = template.Library()


@register.inclusion_tag("villages/_card_entrustment.html")
def card_entrustment(user, child) -> dict:
    """The child's signed 委托监护确认书 and, for those in its `entrust` units, the link to
    record one. Shown to everyone who reads the card (the caller's scope already holds)."""
    from guanai.villages.models import Entrustment

    can_record = scope.holds_child(user, "entrust", child)
    items = list(Entrustment.objects.filter(child=child)[:3])
    if not items and not can_record:
        return {"entrust": None, "child": child}
    return {"entrust": {"items": items, "can_record": can_record}, "child": child}


@register.simple_tag
def village_panel(user) -> dict | None:
    from guanai.villages.services import home_panel

    return home_panel(user)
