"""Template helpers of the screening pages."""

from django import template

from ..models import schools_managed_by

register = template.Library()


@register.simple_tag(takes_context=True)
def manages_schools(context) -> bool:
    """Whether the signed-in user runs school-wide work (imports, transfers, roll-over)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_read_only:
        return False
    cached = getattr(request, "_manages_schools", None)
    if cached is None:
        cached = schools_managed_by(user).exists()
        request._manages_schools = cached
    return cached
