"""What the screening and verification pages share: the children in scope, the list filters,
walking a class one by one, form errors from the card, and logging phones shown in full."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.children.access import (
    search_children,
)
from guanai.children.models import Child
from guanai.children.validation import CardInvalid
from guanai.org.models import School

from .models import (
    schools_managed_by,
)

PAGE_SIZE = 30


def scoped_children(request: HttpRequest, action: str = "view"):
    return Child.objects.visible_to(request.user, action=action)


def add_card_errors(form, exc: CardInvalid) -> None:
    for key, message in exc.errors.items():
        form.add_error(key if key in form.fields else None, message)


def manages_school(request: HttpRequest, school: School) -> bool:
    return (
        not request.user.is_read_only
        and schools_managed_by(request.user).filter(pk=school.pk).exists()
    )


def log_phones_shown(request: HttpRequest, child: Child, detail: str) -> None:
    """The screening and verification forms show the parents' and guardian's phones in full
    (to call and to correct): each such view is logged, as on the card page."""
    people = [*child.parents.all(), getattr(child, "guardian", None)]
    if any(p is not None and p.phone for p in people):
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail=detail,
        )


def next_in_class(child: Child, candidates) -> Child | None:
    """The next child of `child`'s class among `candidates`, in the list's order (name, then
    id), starting again from the top after the last: walking through a class one by one."""
    mates = sorted(
        candidates.filter(school_class_id=child.school_class_id)
        .exclude(pk=child.pk)
        .only("pk", "name"),
        key=lambda c: (c.name, c.pk),
    )
    after = [c for c in mates if (c.name, c.pk) > (child.name, child.pk)]
    return (after or mates or [None])[0]


def child_for_change(request: HttpRequest, pk: int) -> Child:
    """A child in scope (else 404) whose card the user may change (else 403)."""
    child = get_object_or_404(
        scoped_children(request)
        .select_related("school", "school_class")
        .prefetch_related("parents"),
        pk=pk,
    )
    if not scoped_children(request, "change").filter(pk=pk).exists():
        raise PermissionDenied("您不能修改这名学生的档卡")
    return child


def filter_children(request: HttpRequest, children, done_ids, states=None):
    """The list's filters; `states` adds named sets (a round's 缺假期去向 …): state → ids."""
    g = request.GET
    if g.get("class", "").isdigit():
        children = children.filter(school_class_id=int(g["class"]))
    if g.get("grade", "").isdigit():
        children = children.filter(school_class__grade=int(g["grade"]))
    if g.get("state") == "missing":
        children = children.exclude(pk__in=done_ids)
    elif g.get("state") == "done":
        children = children.filter(pk__in=done_ids)
    elif g.get("state") in (states or {}):
        children = children.filter(pk__in=states[g["state"]])
    if g.get("mine") == "1":
        children = children.filter(responsible_teacher=request.user)
    if g.get("q"):
        children = search_children(request, children, g["q"])
    return children.select_related("school_class").order_by(
        "school_class__grade", "school_class__class_no", "name", "id"
    )
