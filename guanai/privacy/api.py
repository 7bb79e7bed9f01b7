"""/api/v1/privacy (mounted in guanai/api.py): guardians' requests (查阅、更正、删除) and replies.

Readers: school leaders and the town (`manage`), the town's inspectors (`inspect`, read-only);
writers: `manage`. Scope and role come before the body (guanai/api.py)."""

import datetime as dt
from typing import Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.api_common import ErrorsOut
from guanai.lib.bounds import Id, Pages

from . import services
from .models import GuardianRequest
from .views import may_read, may_write, writable_children

router = Router(tags=["privacy"])

KindIn = Literal["see", "correct", "delete"]
StatusIn = Literal["open", "done", "refused"]


class RequestIn(Schema):
    model_config = ConfigDict(extra="forbid")
    child: Id
    kind: KindIn = Field(..., description="see 查阅复制 / correct 更正补充 / delete 删除")
    received_on: dt.date
    requester: str = Field(..., max_length=50, description="提出人姓名")
    relation: str = Field(..., max_length=20, description="与儿童的关系")
    asked: str = Field(..., max_length=services.MAX_ASKED, description="请求内容")


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: StatusIn = Field(..., description="open 办理中 / done 已办结 / refused 不予办理")
    reply: str = Field("", max_length=services.MAX_ASKED, description="答复与处理情况")
    replied_on: dt.date | None = None


class RequestOut(Schema):
    id: int
    child: int
    child_name: str
    school: str
    school_class: str
    kind: str
    kind_label: str
    received_on: dt.date
    due_on: dt.date
    overdue: bool
    requester: str
    relation: str
    asked: str
    status: str
    status_label: str
    reply: str
    replied_on: dt.date | None
    replied_by: str

    @staticmethod
    def resolve_child(obj: GuardianRequest) -> int:
        return obj.child_id

    @staticmethod
    def resolve_child_name(obj: GuardianRequest) -> str:
        return obj.child.name

    @staticmethod
    def resolve_school(obj: GuardianRequest) -> str:
        return obj.child.school.name

    @staticmethod
    def resolve_school_class(obj: GuardianRequest) -> str:
        return str(obj.child.school_class)

    @staticmethod
    def resolve_kind_label(obj: GuardianRequest) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_status_label(obj: GuardianRequest) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_overdue(obj: GuardianRequest) -> bool:
        return obj.is_overdue(timezone.localdate())

    @staticmethod
    def resolve_replied_by(obj: GuardianRequest) -> str:
        return str(obj.replied_by) if obj.replied_by_id else ""


class RequestFilter(FilterSchema):
    status: StatusIn | None = None
    overdue: bool | None = None
    child: Id | None = None


def _readable(request: HttpRequest):
    if not may_read(request.user):
        raise HttpError(403, "只有校领导、镇管理员和督导员可以查看监护人请求")
    return GuardianRequest.objects.visible_to(request.user).select_related(
        "child__school", "child__school_class", "replied_by"
    )


def _check_write(request: HttpRequest) -> None:
    if not may_write(request.user):
        raise HttpError(403, "这个账号只能查看，不能登记或答复监护人请求")


@router.get("/requests", response=list[RequestOut])
@paginate(Pages, page_size=50)
def list_requests(request: HttpRequest, filters: Query[RequestFilter]):
    """Requests about the children of the user's schools, newest first. `overdue=true`: still
    办理中 more than 15 days after they were received."""
    qs = _readable(request)
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    if filters.overdue is not None:
        late = qs.overdue(timezone.localdate()).values("pk")
        qs = qs.filter(pk__in=late) if filters.overdue else qs.exclude(pk__in=late)
    if filters.child is not None:
        qs = qs.filter(child_id=filters.child)
    return qs


@router.post("/requests", response={201: RequestOut, 422: ErrorsOut})
def create_request(request: HttpRequest, payload: RequestIn):
    """Record a guardian's request about a child of the user's school (the child may have left)."""
    _check_write(request)
    child = writable_children(request.user).filter(pk=payload.child).first()
    if child is None:
        raise Http404("未找到该学生")
    item = services.record_request(
        child=child,
        by=request.user,
        kind=payload.kind,
        received_on=payload.received_on,
        requester=payload.requester,
        relation=payload.relation,
        asked=payload.asked,
    )
    return Status(201, _readable(request).get(pk=item.pk))


@router.get("/requests/{request_id}", response=RequestOut)
def get_request(request: HttpRequest, request_id: Id):
    return get_object_or_404(_readable(request), pk=request_id)


@router.post("/requests/{request_id}/reply", response={200: RequestOut, 422: ErrorsOut})
def reply_request(request: HttpRequest, request_id: Id, payload: ReplyIn):
    """Record the reply: `done` 已办结 or `refused` 不予办理 need `reply` and `replied_on`."""
    _check_write(request)
    item = get_object_or_404(_readable(request), pk=request_id)
    if not GuardianRequest.objects.visible_to(request.user, "write").filter(pk=item.pk).exists():
        raise HttpError(403, "这个账号只能查看，不能答复监护人请求")
    services.reply_request(
        item=item,
        by=request.user,
        status=payload.status,
        reply=payload.reply,
        replied_on=payload.replied_on,
    )
    return _readable(request).get(pk=item.pk)
