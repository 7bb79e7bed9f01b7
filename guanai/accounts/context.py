"""Template context: what the signed-in user may do, for the navigation."""

from django.http import HttpRequest


def roles(request: HttpRequest) -> dict:
    from guanai.care.services import reads_psych
    from guanai.privacy.views import may_read as reads_guardian_requests

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from . import scope

    assignments = user.active_roles()
    return {
        # The menu of an auditor is the access log and nothing else (三权分立).
        "is_auditor_only": user.is_auditor_only,
        "reads_access_log": user.is_superuser or bool(scope.units(user, "audit")),
        "reviews_emergencies": bool(scope.units(user, "review_emergency")),
        "decides_access": bool(scope.units(user, "approve_access")),
        # a village's children across schools (儿童主任, 督导员) and their lists
        "village_lists": scope.acts_as(user, "village_export"),
        # the menu, from the scope table: a unit of children (not only children named to one),
        # the schools' own work, a proxy parent's own page
        "has_unit": user.is_superuser or bool(scope.units(user, "view")),
        "school_work": scope.acts_as(user, "school_work"),
        "follows_named": scope.acts_as(user, "follow_named"),
        "my_roles": assignments,
        "is_town_admin": user.is_town_admin,
        "can_export": user.can_export,
        "read_only": user.is_read_only,
        "reads_psych": reads_psych(user),
        "reads_guardian_requests": reads_guardian_requests(user),
    }
