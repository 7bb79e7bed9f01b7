"""Guardians' requests (查阅、更正、删除): recording one and its reply. Shared by the pages and
the API; bad input raises Invalid({field: 中文}). Scope is the caller's: these functions take
a child or a request already found through `visible_to`."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from guanai.children.models import Child
from guanai.lib.errors import Invalid
from guanai.lib.text import clean

from .models import GuardianRequest, RequestKind, RequestStatus

MAX_ASKED = 1000
EARLIEST = dt.date(2000, 1, 1)


def _text(errors: dict, field: str, value: str, *, label: str, limit: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = f"请填写{label}"
    elif len(value) > limit:
        errors[field] = f"{label}不能超过 {limit} 个字"
    return value


def _day(errors: dict, field: str, value, *, label: str, not_before: dt.date | None = None):
    today = timezone.localdate()
    if value is None:
        errors[field] = f"请填写{label}"
    elif value > today:
        errors[field] = f"{label}不能晚于今天"
    elif value < EARLIEST:
        errors[field] = f"{label}不能早于 2000 年"
    elif not_before and value < not_before:
        errors[field] = f"{label}不能早于收到请求的日期（{not_before:%Y-%m-%d}）"
    return value


@transaction.atomic
def record_request(
    *,
    child: Child,
    by,
    kind: str,
    received_on: dt.date | None,
    requester: str,
    relation: str,
    asked: str,
) -> GuardianRequest:
    """Record a guardian's request about a child (the caller found the child in scope)."""
    errors: dict[str, str] = {}
    if kind not in RequestKind.values:
        errors["kind"] = "请选择请求类型：查阅复制、更正补充或删除"
    _day(errors, "received_on", received_on, label="收到日期")
    requester = _text(
        errors, "requester", clean(requester), label="提出人姓名", limit=50, required=True
    )
    relation = _text(
        errors, "relation", clean(relation), label="与儿童的关系", limit=20, required=True
    )
    asked = _text(errors, "asked", asked, label="请求内容", limit=MAX_ASKED, required=True)
    if errors:
        raise Invalid(errors)
    return GuardianRequest.objects.create(
        child=child,
        kind=kind,
        received_on=received_on,
        requester=requester,
        relation=relation,
        asked=asked,
        recorded_by=by,
    )


@transaction.atomic
def reply_request(
    *,
    item: GuardianRequest,
    by,
    status: str,
    reply: str,
    replied_on: dt.date | None,
) -> GuardianRequest:
    """Record what was done: 已办结 or 不予办理 need the reply and its date; 办理中 may carry
    a note of progress (no date needed)."""
    errors: dict[str, str] = {}
    if status not in RequestStatus.values:
        errors["status"] = "请选择状态：办理中、已办结或不予办理"
    closing = status in (RequestStatus.DONE, RequestStatus.REFUSED)
    label = "不予办理的理由" if status == RequestStatus.REFUSED else "答复与处理情况"
    reply = _text(errors, "reply", reply, label=label, limit=MAX_ASKED, required=closing)
    if closing or replied_on is not None:
        _day(errors, "replied_on", replied_on, label="答复日期", not_before=item.received_on)
    if errors:
        raise Invalid(errors)
    locked = GuardianRequest.objects.select_for_update().get(pk=item.pk)
    locked.status = status
    locked.reply = reply
    locked.replied_on = replied_on
    locked.replied_by = by if (closing or reply) else None
    locked.save()
    return locked


EXPORT_HEADER = (
    "学校",
    "班级",
    "儿童",
    "请求类型",
    "收到日期",
    "提出人",
    "关系",
    "请求内容",
    "状态",
    "答复期限",
    "是否超期",
    "答复与处理",
    "答复日期",
    "答复人",
)


def export_rows(items, today: dt.date):
    for r in items:
        yield (
            r.child.school.name,
            str(r.child.school_class),
            r.child.name,
            r.get_kind_display(),
            r.received_on,
            r.requester,
            r.relation,
            r.asked,
            r.get_status_display(),
            r.due_on,
            "已超期" if r.is_overdue(today) else "",
            r.reply,
            r.replied_on,
            str(r.replied_by) if r.replied_by_id else "",
        )
