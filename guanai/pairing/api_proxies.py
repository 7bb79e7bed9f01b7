"""/api/v1/proxy-parents: the register of proxy parents (代理家长), their children, and
suggestions for a child. Readers: the school's staff and town roles; writers: school leaders and
town administrators; a proxy parent reads their own entry."""

import datetime as dt
from typing import Literal

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.api_common import ErrorsOut
from guanai.children.models import Child, ChildAssignment
from guanai.lib.bounds import Id, Pages
from guanai.lib.masking import mask_phone
from guanai.org.models import School

from .api_common import user_label
from .models import ProxyParent
from .permissions import check_manage_school, managed_schools, visible_classes
from .proxies import (
    assign_child,
    current_assignments,
    end_assignment,
    proxy_assignments,
    register_proxy_parent,
    suggest_proxies,
)

proxy_parents_router = Router(tags=["proxy-parents"])  # /api/v1/proxy-parents


class ProxyFilter(FilterSchema):
    school: str | None = None
    village: str | None = None
    kind: Literal["teacher", "cadre", "volunteer"] | None = None
    active: bool | None = True
    q: str | None = None


class ProxyOut(Schema):
    id: int
    name: str
    phone: str
    kind: str
    village: str
    address: str
    school: str
    username: str
    active: bool
    declared_on: dt.date
    declaration_recorded_by: str | None
    children: int

    @staticmethod
    def resolve_phone(obj: ProxyParent, context) -> str:
        request = context["request"]
        if obj.user_id == request.user.pk or _manages(request, obj):
            return obj.phone
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_school(obj: ProxyParent) -> str:
        return obj.school.code

    @staticmethod
    def resolve_username(obj: ProxyParent) -> str:
        return obj.user.username

    @staticmethod
    def resolve_declaration_recorded_by(obj: ProxyParent) -> str | None:
        return user_label(obj.declaration_recorded_by)

    @staticmethod
    def resolve_children(obj: ProxyParent) -> int:
        return getattr(obj, "load", 0)


class ProxyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    school: str = Field(..., min_length=1, max_length=20)
    name: str = Field(..., min_length=1, max_length=50)
    phone: str = Field(..., min_length=1, max_length=30)
    kind: Literal["teacher", "cadre", "volunteer"]
    village: str = Field("", max_length=40)
    address: str = Field("", max_length=200)
    notes: str = Field("", max_length=2000)
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field("", max_length=128)
    declared: bool
    declared_on: dt.date


class ProxyAssignmentOut(Schema):
    id: int
    child: int
    child_name: str
    valid_from: dt.date
    valid_to: dt.date | None
    current: bool

    @staticmethod
    def resolve_child(obj: ChildAssignment) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: ChildAssignment) -> str:
        return obj.child.name

    @staticmethod
    def resolve_current(obj: ChildAssignment) -> bool:
        today = timezone.localdate()
        return obj.valid_from <= today and (obj.valid_to is None or obj.valid_to >= today)


class ProxyAssignmentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    valid_from: dt.date
    valid_to: dt.date | None = None


def _manages(request: HttpRequest, proxy: ProxyParent) -> bool:
    cache = getattr(request, "_managed_school_ids", None)
    if cache is None:
        cache = set(managed_schools(request.user).values_list("pk", flat=True))
        request._managed_school_ids = cache
    return not request.user.is_read_only and proxy.school_id in cache


def _proxies(request: HttpRequest) -> QuerySet[ProxyParent]:
    return (
        ProxyParent.objects.visible_to(request.user)
        .select_related("school", "user", "declaration_recorded_by")
        .annotate(
            load=Count(
                "user__child_assignments",
                filter=Q(user__child_assignments__in=current_assignments()),
                distinct=True,
            )
        )
    )


def _proxy_for_write(request: HttpRequest, proxy_id: Id) -> ProxyParent:
    proxy = get_object_or_404(_proxies(request), pk=proxy_id)
    check_manage_school(request.user, proxy.school)
    return proxy


@proxy_parents_router.get("", response=list[ProxyOut])
@paginate(Pages, page_size=50)
def list_proxy_parents(request: HttpRequest, filters: Query[ProxyFilter]):
    """The register of proxy parents the user may read, with how many children each looks
    after today; phones masked except for their managers. Ordered by id."""
    qs = _proxies(request)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    if filters.school:
        qs = qs.filter(school__code=filters.school)
    if filters.village:
        qs = qs.filter(village__contains=filters.village.strip())
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        qs = qs.filter(name__contains=filters.q.strip())
    return qs.order_by("id")


@proxy_parents_router.post("", response={201: ProxyOut, 422: ErrorsOut})
def create_proxy_parent(request: HttpRequest, payload: ProxyIn):
    """Register a proxy parent with the §22 declaration and create or link their login."""
    if request.user.is_read_only:
        raise HttpError(403, "只读账号不能登记代理家长")
    school = managed_schools(request.user).filter(code=payload.school.strip()).first()
    if school is None:
        staff_schools = visible_classes(request.user).values("school_id")
        if School.objects.filter(code=payload.school.strip(), pk__in=staff_schools).exists():
            raise HttpError(403, "只有校领导或镇管理员可以登记代理家长")
        raise HttpError(404, "未找到该学校")
    proxy = register_proxy_parent(
        school=school,
        data=payload.dict(),
        declared=payload.declared,
        declared_on=payload.declared_on,
        username=payload.username,
        password=payload.password,
        by=request.user,
    )
    return Status(201, _proxies(request).get(pk=proxy.pk))


@proxy_parents_router.get("/suggestions", response=list[ProxyOut])
def suggestions(request: HttpRequest, child: Id):
    """Proxy parents for a child: of the child's village first, then the least loaded."""
    found = get_object_or_404(Child.objects.visible_to(request.user), pk=child)
    return [s.proxy for s in suggest_proxies(found, _proxies(request))]


@proxy_parents_router.get("/{proxy_id}", response=ProxyOut)
def get_proxy_parent(request: HttpRequest, proxy_id: Id):
    """One proxy parent; out of scope: 404."""
    return get_object_or_404(_proxies(request), pk=proxy_id)


@proxy_parents_router.get("/{proxy_id}/assignments", response=list[ProxyAssignmentOut])
@paginate(Pages, page_size=50)
def list_assignments(request: HttpRequest, proxy_id: Id):
    """The proxy parent's children, past and present, among the children the user may see."""
    proxy = get_object_or_404(_proxies(request), pk=proxy_id)
    return (
        proxy_assignments()
        .filter(user_id=proxy.user_id, child__in=Child.objects.visible_to(request.user))
        .select_related("child")
        .order_by("id")
    )


@proxy_parents_router.post(
    "/{proxy_id}/assignments", response={201: ProxyAssignmentOut, 422: ErrorsOut}
)
def create_assignment(request: HttpRequest, proxy_id: Id, payload: ProxyAssignmentIn):
    """Assign a child (in the user's scope) to the proxy parent from `valid_from`."""
    proxy = _proxy_for_write(request, proxy_id)
    child = get_object_or_404(Child.objects.visible_to(request.user, "change"), pk=payload.child)
    assignment = assign_child(
        proxy=proxy,
        child=child,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        by=request.user,
    )
    return Status(201, assignment)


@proxy_parents_router.post(
    "/{proxy_id}/assignments/{assignment_id}/end",
    response={200: ProxyAssignmentOut, 422: ErrorsOut},
)
def end_assignment_route(request: HttpRequest, proxy_id: Id, assignment_id: Id):
    """End one child's proxy assignment today."""
    proxy = _proxy_for_write(request, proxy_id)
    assignment = get_object_or_404(
        proxy_assignments().filter(user_id=proxy.user_id).select_related("child"),
        pk=assignment_id,
    )
    ended = end_assignment(assignment=assignment, by=request.user)
    ended.child = assignment.child
    return Status(200, ended)
