"""The home page: each role's "what do I do today". It sits above the features (it shows a
panel of each), so that the card app at the bottom knows none of them."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.access_requests import home_panel as access_home_panel
from guanai.activities.services import home_panel as activities_home_panel
from guanai.care.services import high_risk, reads_psych
from guanai.children.access import REDUCED, card_access
from guanai.children.models import Category
from guanai.children.views import _can_add, _scope
from guanai.contacts.services import home_panel
from guanai.inspections.services import home_panel as inspection_home_panel
from guanai.protection.views import home_panel_context as protection_panel
from guanai.villages.services import home_panel as village_home_panel


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the user does today: her follow-ups and contacts due, the panels of the features
    she works in (psychological care, child protection, inspections, statistics), and the
    counts of her scope by category."""
    qs = _scope(request).active()
    counts = dict(qs.values_list("category").annotate(n=Count("id")).order_by())
    incomplete = qs.filter(
        Q(category=Category.UNKNOWN)
        | Q(birth_date__isnull=True)
        | Q(village="")
        | (Q(id_number_hash__isnull=True) & Q(student_no_hash__isnull=True))
    ).count()
    cards = [(c.value, c.label, counts.get(c.value, 0)) for c in Category]
    total = sum(counts.values())
    return render(
        request,
        "children/home.html",
        {
            "cards": cards,
            "total": total,
            "incomplete": incomplete,
            "left_behind": counts.get("single", 0) + counts.get("double", 0),
            "civil": qs.filter(civil_affairs=True).count(),
            "contact_panel": home_panel(request.user),
            # 重点关注 children for the counselor and the school leaders (SPEC §3.8)
            "high_risk": high_risk(request.user) if reads_psych(request.user) else None,
            "today": timezone.localdate(),
            **protection_panel(request.user),
            "inspection_panel": inspection_home_panel(request.user),
            "activities_panel": activities_home_panel(request.user),
            # access requests to decide, emergency openings to review, one's own grants
            "access_panel": access_home_panel(request.user),
            # the village children's director: visits due, alerts, unsigned confirmations
            "village_panel": village_home_panel(request.user),
            # statistics are for those who hold a unit (not a proxy parent's two children)
            "stats_link": request.user.is_superuser or bool(scope.units(request.user, "view")),
            "can_add": _can_add(request),
            # a proxy parent follows a few children: the statistics' definitions are not his
            "reduced": card_access(request.user) == REDUCED,
        },
    )
