"""{% protection_tabs user as tabs %}: which of the protection pages the user may open, so the
tabs show no page that would answer 403."""

from django import template

from guanai.protection.access import may

register = template.Library()


@register.simple_tag
def protection_tabs(user) -> dict[str, bool]:
    return {
        "incidents": may(user, "incidents") or may(user, "report"),
        "alerts": may(user, "alerts"),
    }


@register.simple_tag
def protection_card(user, child) -> dict:
    """What the child's card offers this user: the report form (`report`), a new dropout case
    (`case`: the child lies in her `change` units), and — for those who handle them — the
    child's open guardian alert (`alert`: its words)."""
    from guanai.children.models import Child
    from guanai.protection.alerts import REASONS, at_risk
    from guanai.protection.models import child_unit_q

    out: dict = {"report": may(user, "report"), "case": False, "alert": ""}
    if may(user, "change"):
        cond = child_unit_q(user, "change", whole_school=False, prefix="")
        one = Child.objects.filter(pk=child.pk)
        out["case"] = cond is None or one.filter(cond).exists()
    if may(user, "alerts"):
        row = at_risk(Child.objects.filter(pk=child.pk)).filter(alert_open=True).first()
        out["alert"] = REASONS[row.alert_reason] if row else ""
    return out
