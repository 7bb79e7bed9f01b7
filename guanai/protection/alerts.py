"""独居 / 脱离监护 alerts, computed when asked from the card's facts (no stored alert to fall out
of step with the card, a birthday or a bulk import).

A child raises an alert when, today, she is
- enrolled and under 16 (an unknown birth date counts as under 16: the schools hold minors),
- both parents' statuses are filled in (a card not yet screened raises nothing) and neither
  parent is 在家, and
- the card records no adult guardian living with her: no guardian or a guardian without a name
  (`none`), a guardian under 18 (`minor`), a guardian whose 监护能力 is 差 (`incapable`), or a
  parent who is away written down as the guardian (`away_parent`).

The school's leaders (and the town) see the alerts of their schools (`manage`) and resolve one
by recording what was done (`AlertResolution`). A resolution closes the alert for that reason
until the parents' or the guardian's facts on the card change: if after the change the child
is still without an adult guardian, the alert is raised again to be looked at afresh.
"""

import datetime as dt

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.models import Child, Enrolment, Parent

from .models import AlertResolution

REASONS = {
    "none": "父母均不在家，未登记监护人",
    "minor": "父母均不在家，监护人未成年",
    "incapable": "父母均不在家，监护人无监护能力",
    "away_parent": "父母均不在家，登记的监护人是外出的父亲或母亲",
}
AWAY_PARENT_WORDS = ["父亲", "母亲", "父", "母", "爸爸", "妈妈"]
AGE = 16
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _cutoff(today: dt.date) -> dt.date:
    """Children born after this day are under 16 today."""
    try:
        return today.replace(year=today.year - AGE)
    except ValueError:  # 29 February
        return dt.date(today.year - AGE, 2, 28)


def children_in_scope(user) -> QuerySet:
    """Children whose alerts the user reads and resolves: the school's leaders, the town, the
    village children's director and the town 儿童督导员 (units of children)."""
    if user is None or not user.is_authenticated:
        return Child.objects.none()
    cond = scope.unit_q(user, "alerts", town="school__town_id", school="school_id", child="")
    return Child.objects.all() if cond is None else Child.objects.filter(cond)


def at_risk(children: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """The children of `children` living without an adult guardian today, annotated with
    `alert_reason` (a key of REASONS), `facts_changed` and `alert_open` (no resolution since
    the facts last changed)."""
    today = today or timezone.localdate()
    parents = Parent.objects.filter(child=OuterRef("pk"))
    known = (
        parents.exclude(status="")
        .order_by()
        .values("child")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    changed = parents.order_by().values("child").annotate(at=Max("updated_at")).values("at")[:1]
    reason = Case(
        When(guardian__isnull=True, then=Value("none")),
        When(guardian__name="", then=Value("none")),
        When(guardian__age__lt=18, then=Value("minor")),
        When(guardian__capacity="poor", then=Value("incapable")),
        When(guardian__relation__in=AWAY_PARENT_WORDS, then=Value("away_parent")),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        children.filter(enrolment=Enrolment.ENROLLED)
        .filter(Q(birth_date__isnull=True) | Q(birth_date__gt=_cutoff(today)))
        .annotate(
            parents_known=Coalesce(Subquery(known, output_field=IntegerField()), 0),
            parent_home=Exists(parents.filter(status="home")),
            alert_reason=reason,
        )
        .filter(parents_known=2, parent_home=False)
        .exclude(alert_reason="")
        .annotate(
            facts_changed=Greatest(
                Coalesce(Subquery(changed, output_field=DateTimeField()), Value(_EPOCH)),
                Coalesce("guardian__updated_at", Value(_EPOCH)),
            )
        )
    )
    resolved = AlertResolution.objects.filter(
        child=OuterRef("pk"),
        reason=OuterRef("alert_reason"),
        resolved_at__gte=OuterRef("facts_changed"),
    )
    return rows.annotate(alert_open=~Exists(resolved))


def open_alerts_for(user, *, today: dt.date | None = None) -> QuerySet:
    """The open alerts the user should act on, oldest facts first."""
    return (
        at_risk(children_in_scope(user), today=today)
        .filter(alert_open=True)
        .select_related("school", "school_class", "guardian")
        .order_by("school_id", "school_class__grade", "school_class__class_no", "name", "pk")
    )


def alert_for(child: Child, *, today: dt.date | None = None) -> str | None:
    """The child's alert reason today (open or resolved), or None: for one child's card."""
    row = at_risk(Child.objects.filter(pk=child.pk), today=today).first()
    return row.alert_reason if row else None
