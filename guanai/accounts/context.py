"""Template context: what the signed-in user may do, for the navigation."""

from django.http import HttpRequest


def roles(request: HttpRequest) -> dict:
    from guanai.care.services import reads_psych
    from guanai.privacy.views import may_read as reads_guardian_requests

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    assignments = user.active_roles()
    return {
        "my_roles": assignments,
        "is_town_admin": user.is_town_admin,
        "can_export": user.can_export,
        "read_only": user.is_read_only,
        "reads_psych": reads_psych(user),
        "reads_guardian_requests": reads_guardian_requests(user),
    }
