"""/api/v1/contacts (log, list, correct, due) and /api/v1/messages (send through a gateway,
status). /api/v1/visit-rounds (普访轮次) is in api_rounds.py.

Everything starts from Child.objects.visible_to(): a child outside the user's scope is not
found, in a query string and in a request body alike.
"""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts.models import User
from guanai.children.api import HistoryOut
from guanai.children.models import Child
from guanai.children.validation import CardInvalid
from guanai.lib.bounds import Id, LazyOut, Pages
from guanai.lib.dates import DateError, query_date, query_moment
from guanai.lib.errors import Invalid

from . import access, messaging
from .corrections import (
    contact_histories,
    contact_input,
    contact_to_correct,
    correct_contact,
    reason_errors,
)
from .due import DueList
from .gateways import default_gateway_for
from .models import FINDING_AREAS, Contact, Message
from .rules import SHANGHAI
from .services import (
    IdempotencyConflict,
    clean_contact,
    completable,
    complete_follow_up,
    log_contact,
    may_log_contacts,
    own_children_filter,
)

router = Router(tags=["contacts"])  # mounted at /api/v1/contacts
messages_router = Router(tags=["messages"])  # mounted at /api/v1/messages

KindCode = Literal["home_visit", "phone", "video", "message", "letter", "meeting", "family_call"]
LevelCode = Literal["normal", "watch", "follow_up", ""]
AreaCode = Literal["study", "life", "psych", "safety"]
RuleCode = Literal["home_visit", "guardian_contact", "family_call", "proxy_contact"]
CategoryCode = Literal["single", "double", "migrant", "none", "unknown"]


class FindingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    level: LevelCode = ""
    text: str = Field("", max_length=500)


class ContactIn(Schema):
    """A contact to log. `at` without a zone is Asia/Shanghai."""

    model_config = ConfigDict(extra="forbid")
    child: Id
    kind: KindCode
    at: dt.datetime
    with_whom: str = Field("", max_length=100)
    notes: str = Field("", max_length=5000)
    follow_up_by: dt.date | None = None
    findings: dict[AreaCode, FindingIn] | None = None


class FindingOut(Schema):
    level: str
    text: str


class ContactOut(Schema):
    id: int
    child: int
    child_name: str
    kind: str
    at: dt.datetime
    with_whom: str
    notes: str
    follow_up_by: dt.date | None
    follow_up_done: bool
    follow_up_done_at: dt.datetime | None
    by: str
    by_name: str
    findings: dict[str, FindingOut]
    follow_up_note: str = Field("", description="跟进完成时写下的结果")
    details_hidden: bool = Field(
        False,
        description="代理家长读别人的记录时为 true：只给日期和联系方式，其余字段为空",
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactFilter(FilterSchema):
    child: Id | None = None
    kind: KindCode | None = None
    since: str | None = Field(None, description="起始日期或时间（含），如 2026-11-01")
    until: str | None = Field(None, description="截止日期或时间（含），如 2026-11-30")
    by: str | None = Field(None, description="联系人登录名")
    teacher: str | None = Field(None, description="同 by：记录联系的教师登录名")
    school: str | None = None
    follow_up: Literal["open", "done"] | None = None


class DueFilter(FilterSchema):
    school: str | None = None
    grade: int | None = Field(None, ge=0, le=12)
    class_no: int | None = Field(None, ge=1, le=99)
    child: Id | None = None
    rule: RuleCode | None = None
    mine: bool | None = Field(None, description="只看我的学生（责任教师、所带班级、分配给我的）")
    teacher: str | None = Field(None, description="责任教师登录名")
    on: str | None = Field(None, description="按哪一天计算（默认今天），如 2026-11-29")


class DueOut(Schema):
    child: int
    child_name: str
    school: str
    grade: int
    class_no: int
    rule: str
    rule_name: str
    last_at: dt.datetime | None
    due_since: dt.date
    days_overdue: int
    proxy_user_id: int | None = Field(
        None, description="代理家长规则：负责联系的代理家长（用户 id）"
    )


class DoneIn(Schema):
    model_config = ConfigDict(extra="forbid")
    # Required, but checked by the service: a read-only role or a contact out of scope is
    # answered 403 / 404 before the body is looked at.
    note: str = Field("", max_length=500, description="做了什么（必填）")


def _out_for(user: Any, contact: Contact) -> dict[str, Any]:
    """A contact as `user` may read it (`access`)."""
    return contact_out(
        contact,
        hidden=access.details_hidden(user, contact),
        psych_hidden=access.psych_hidden(user, contact),
    )


def _out_logged(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    """A contact of a list as the reader may read it; a psychological finding shown to her
    is logged (one row per such contact, as for one read alone)."""
    access.log_psych_read(request, [contact], where="API 列表中")
    return _out_for(request.user, contact)


def contact_out(
    contact: Contact, *, hidden: bool = False, psych_hidden: bool = False
) -> dict[str, Any]:
    """A contact as the API answers it; `hidden` (somebody else's contact whose details the
    reader may not read, `access.details_hidden`): its date and kind only; `psych_hidden`
    (`access.psych_hidden`): without its psychological finding."""
    findings = {}
    for area, _label in FINDING_AREAS:
        if area == "psych" and psych_hidden:
            continue
        level, text = getattr(contact, f"{area}_level"), getattr(contact, f"{area}_text")
        if level or text:
            findings[area] = {"level": level, "text": text}
    if hidden:
        return {
            "id": contact.pk,
            "child": contact.child_id,
            "child_name": contact.child.name,
            "kind": contact.kind,
            "at": contact.at.astimezone(SHANGHAI),
            "with_whom": "",
            "notes": "",
            "follow_up_by": None,
            "follow_up_done": False,
            "follow_up_done_at": None,
            "by": "",
            "by_name": "",
            "findings": {},
            "follow_up_note": "",
            "details_hidden": True,
            "created_at": contact.created_at.astimezone(SHANGHAI),
            "updated_at": contact.updated_at.astimezone(SHANGHAI),
        }
    return {
        "id": contact.pk,
        "child": contact.child_id,
        "child_name": contact.child.name,
        "kind": contact.kind,
        "at": contact.at.astimezone(SHANGHAI),
        "with_whom": contact.with_whom,
        "notes": contact.notes,
        "follow_up_by": contact.follow_up_by,
        "follow_up_done": contact.follow_up_done_at is not None,
        "follow_up_done_at": contact.follow_up_done_at.astimezone(SHANGHAI)
        if contact.follow_up_done_at
        else None,
        "by": contact.by.username,
        "by_name": str(contact.by),
        "findings": findings,
        "follow_up_note": contact.follow_up_note,
        "details_hidden": False,
        "created_at": contact.created_at.astimezone(SHANGHAI),
        "updated_at": contact.updated_at.astimezone(SHANGHAI),
    }


def _query_moment(value: str | None, field: str, label: str) -> tuple[dt.datetime, bool] | None:
    """?since= / ?until=: a date (the whole day) or an ISO datetime, Asia/Shanghai when it has
    no zone (lib.dates.query_moment); an API's policy for a bad one is a 422 naming it."""
    try:
        return query_moment(value, label=label, tz=SHANGHAI)
    except DateError as exc:
        raise Invalid({field: str(exc)}, source="query") from None


@router.post("", response={200: ContactOut, 201: ContactOut})
def create_contact(request: HttpRequest, payload: ContactIn):
    """Log a contact (家访, 电话 …) for a child in the user's scope.

    A repeated `Idempotency-Key` answers the first contact (200) and creates nothing; the same
    key with a different body answers 409.
    """
    user = request.user
    may_log_contacts(user)
    child = get_object_or_404(Child.objects.visible_to(user, "contact"), pk=payload.child)
    values = clean_contact(
        kind=payload.kind,
        at=payload.at,
        with_whom=payload.with_whom,
        notes=payload.notes,
        follow_up_by=payload.follow_up_by,
        findings={k: v.model_dump() for k, v in (payload.findings or {}).items()},
        by=user,
    )
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > 100:
        raise CardInvalid({"Idempotency-Key": "不能超过 100 个字符"})
    try:
        contact, created = log_contact(child=child, by=user, values=values, idempotency_key=key)
    except IdempotencyConflict:
        raise HttpError(409, "这个 Idempotency-Key 已用于另一条不同的联系记录") from None
    contact = Contact.objects.select_related("child", "by").get(pk=contact.pk)
    return Status(201 if created else 200, _out_for(request.user, contact))


@router.get("", response=list[ContactOut])
@paginate(Pages, page_size=50)
def list_contacts(request: HttpRequest, filters: Query[ContactFilter]):
    """Contacts of the children in the user's scope, ordered by id."""
    qs = Contact.objects.visible_to(request.user, listing=True)
    if filters.child is not None:
        qs = qs.filter(child_id=filters.child)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    since = _query_moment(filters.since, "since", "起始时间")
    if since:
        qs = qs.filter(at__gte=since[0])
    until = _query_moment(filters.until, "until", "截止时间")
    if until:
        end, whole_day = until
        if whole_day:
            end += dt.timedelta(days=1)  # the next midnight, excluded
        if since and (end <= since[0] if whole_day else end < since[0]):
            raise Invalid({"until": "截止时间不能早于起始时间"}, source="query")
        qs = qs.filter(at__lt=end) if whole_day else qs.filter(at__lte=end)
    if filters.by or filters.teacher or filters.follow_up:
        # Who logged a contact and its follow-up are details: a proxy parent filters his own.
        qs = qs.filter(access.readable(request.user))
    if filters.by or filters.teacher:
        qs = qs.filter(by__username=filters.by or filters.teacher)
    if filters.school:
        qs = qs.filter(child__school__code=filters.school)
    if filters.follow_up == "open":
        qs = qs.open_follow_ups()
    elif filters.follow_up == "done":
        qs = qs.filter(follow_up_done_at__isnull=False)
    return LazyOut(
        qs.order_by("id"),
        lambda c: _out_logged(request, c),
        fetch=Contact.objects.select_related(
            "child", "child__school", "child__school_class", "by"
        ).in_bulk,
    )


def _page_end(request: HttpRequest) -> int | None:
    """The number of items up to the end of the page `Pages` will cut (page, page_size; 50 a
    page); None when they are not numbers (the paginator answers those)."""
    page, size = request.GET.get("page", "1"), request.GET.get("page_size", "50")
    if not (page.isdigit() and size.isdigit()):
        return None
    return int(page) * int(size)


@router.get("/due", response=list[DueOut])
@paginate(Pages, page_size=50)
def list_due(request: HttpRequest, filters: Query[DueFilter]):
    """Children due or overdue under the frequency rules, one item per child and rule, most
    overdue first. See the rules page (or `contacts.rules`) for what "due" means exactly."""
    user = request.user
    children = Child.objects.visible_to(user)
    if filters.school:
        children = children.filter(school__code=filters.school)
    if filters.grade is not None:
        children = children.filter(school_class__grade=filters.grade)
    if filters.class_no is not None:
        children = children.filter(school_class__class_no=filters.class_no)
    if filters.child is not None:
        children = children.filter(pk=filters.child)
    if filters.mine:
        children = children.filter(own_children_filter(user))
    if filters.teacher:
        children = children.filter(responsible_teacher__username=filters.teacher)
    try:  # an API's policy for a bad date: a 422 naming the parameter
        as_of = query_date(filters.on, label="日期") or timezone.localdate()
    except DateError as exc:
        raise Invalid({"on": str(exc)}, source="query") from None
    # A proxy parent's list: the proxy-parent rule only (the others are the school's duties).
    codes = access.due_rule_codes(user, [filters.rule] if filters.rule else None)
    if codes == []:
        return []
    # The database orders, counts and pages the list: only the page's items are built.
    due = DueList(children, as_of=as_of, rule_codes=codes)
    if not (filters.child is not None or filters.mine or filters.teacher or filters.rule):
        from guanai.stats.covstore import use_due_counts

        # the counts per class kept for the statistics: the list is only ordered and cut
        use_due_counts(
            due,
            user,
            codes,
            page_end=_page_end(request),
            school=filters.school,
            grade=filters.grade,
            class_no=filters.class_no,
        )
    return LazyOut(due, convert=vars)


@router.get("/{int:contact_id}", response=ContactOut)
def get_contact(request: HttpRequest, contact_id: Id):
    """One contact. Out of scope: 404."""
    contact = get_object_or_404(
        Contact.objects.visible_to(request.user).select_related("child", "by"), pk=contact_id
    )
    access.log_psych_read(request, [contact], where="API ")
    return _out_for(request.user, contact)


@router.post("/{int:contact_id}/follow-up-done", response=ContactOut)
def follow_up_done(request: HttpRequest, contact_id: Id, payload: DoneIn):
    """Mark the contact's follow-up done with a note of what was done (`note`, required); it
    leaves the teachers' home pages."""
    may_log_contacts(request.user)
    contact = get_object_or_404(
        completable(request.user).select_related("child", "by"), pk=contact_id
    )
    complete_follow_up(contact=contact, by=request.user, note=payload.note)
    return _out_for(request.user, contact)


class ContactPatchIn(Schema):
    """A correction: any fields of a new contact and the `reason`, which the history keeps
    with the version it replaces. Fields left out keep their value; the child cannot change."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., description="修改原因（必填，100 字以内）")
    updated_at: dt.datetime = Field(
        None, description="读取时记录的 updated_at；此后已被他人修改则 409，不覆盖"
    )
    # Optional, but never null: a default without `| None` makes an explicit null a 422.
    child: Id = Field(None, description="只能是原来的儿童")
    kind: KindCode = None
    at: dt.datetime = Field(None, description="不带时区按北京时间")
    with_whom: str = Field(None, max_length=100)
    notes: str = Field(None, max_length=5000)
    follow_up_by: dt.date | None = Field(None, description="null 表示不再需要跟进")
    findings: dict[AreaCode, FindingIn] | None = Field(
        None, description="只改给出的方面，每个方面整体替换"
    )


@router.patch("/{int:contact_id}", response=ContactOut)
def patch_contact(request: HttpRequest, contact_id: Id, payload: ContactPatchIn):
    """Correct a contact, validated as a new one (`at` without a zone is Asia/Shanghai, not in
    the future). Its author may, while the child is in her scope, and so may whoever may
    change the child's card; a proxy parent only his own; read-only roles 403."""
    user = request.user
    contact = contact_to_correct(user, contact_id)
    body = payload.model_dump(exclude_unset=True)
    reason = body.pop("reason")
    loaded_at = body.pop("updated_at", None)
    if body.pop("child", contact.child_id) != contact.child_id:
        raise CardInvalid(
            {"child": "联系记录所属的儿童不能更改；记错了儿童，请在正确的儿童下重新记录"}
        )
    data = contact_input(contact)
    data["findings"].update(body.pop("findings", None) or {})
    data.update(body)
    errors = reason_errors(reason)
    try:
        values = clean_contact(**data, by=user)
    except CardInvalid as exc:
        raise CardInvalid(exc.errors | errors) from None
    if errors:
        raise CardInvalid(errors)
    correct_contact(contact=contact, by=user, values=values, reason=reason, loaded_at=loaded_at)
    contact = Contact.objects.select_related("child", "by").get(pk=contact.pk)
    return _out_for(request.user, contact)


@router.get("/{int:contact_id}/history", response=list[HistoryOut])
@paginate(Pages, page_size=50)
def get_contact_history(request: HttpRequest, contact_id: Id):
    """The contact's versions, newest first: who changed what, when and why (its creation
    first of all, unless it was logged before history was kept). Out of scope: 404."""
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=contact_id)
    return contact_histories([contact], user=request.user).get(contact.pk, [])


# --- /api/v1/messages ----------------------------------------------------------------------------


class MessageIn(Schema):
    """A message to the guardians of a selection: `children`, or school/grade/class/category,
    optionally only those due under a rule (`rule`)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., min_length=1, max_length=500)
    gateway: str | None = None
    children: list[Id] | None = None
    school: str | None = None
    grade: int | None = Field(None, ge=0, le=12)
    class_no: int | None = Field(None, ge=1, le=99)
    category: CategoryCode | Literal["left_behind"] | None = None
    rule: RuleCode | None = None


class JobOut(Schema):
    id: int
    status: str
    done: int
    total: int
    message: str


class MessageCreatedOut(Schema):
    id: int
    job: JobOut | None
    gateway: str
    recipients: int
    queued: int
    refused: int


class RecipientOut(Schema):
    id: int
    child: int
    child_name: str
    guardian_name: str
    phone: str
    status: str
    status_label: str
    reason: str
    attempts: int
    sent_at: dt.datetime | None
    contact: int | None


class MessageOut(Schema):
    id: int
    text: str
    gateway: str
    selection: str
    created_at: dt.datetime
    by: str
    job: JobOut | None
    counts: dict[str, int]
    recipients: list[RecipientOut]


class MessageListOut(Schema):
    id: int
    text: str
    gateway: str
    selection: str
    created_at: dt.datetime
    by: str
    counts: dict[str, int]


def _job_out(job) -> dict[str, Any] | None:
    if job is None:
        return None
    return {
        "id": job.pk,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "message": job.message,
    }


@messages_router.post("", response={202: MessageCreatedOut})
def send_message(request: HttpRequest, payload: MessageIn):
    """Queue a message to the guardians of the selected children; a background job sends it.
    Numbers that cannot receive it are refused before sending (status 失败 with the reason)."""
    user = request.user
    messaging.may_send(user)
    selection = payload.model_dump(exclude={"text", "gateway"})
    children = messaging.select_children(user=user, **selection)
    if payload.children:
        found = set(children.values_list("pk", flat=True))
        missing = [pk for pk in payload.children if pk not in found]
        if missing:
            raise HttpError(404, "未找到")
    message = messaging.create_message(
        by=user,
        text=payload.text,
        gateway=payload.gateway or default_gateway_for(user),
        children=children,
        selection=messaging.describe_selection(**selection),
    )
    total = message.recipients.count()
    refused = message.recipients.filter(status="failed", attempts=0).count()
    message.refresh_from_db(fields=["job"])
    return Status(
        202,
        {
            "id": message.pk,
            "job": _job_out(message.job),
            "gateway": message.gateway,
            "recipients": total,
            "queued": total - refused,
            "refused": refused,
        },
    )


@messages_router.get("", response=list[MessageListOut])
@paginate(Pages, page_size=50)
def list_messages(request: HttpRequest):
    """Messages the user sent or that reached children in the user's scope, newest first."""
    qs = Message.objects.visible_to(request.user).select_related("created_by").order_by("-id")
    return LazyOut(qs, lambda m: _message_summary(m))


def _message_summary(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "text": message.text,
        "gateway": message.gateway,
        "selection": message.selection,
        "created_at": message.created_at,
        "by": message.created_by.username,
        "counts": messaging.counts(message),
    }


@messages_router.get("/{int:message_id}", response=MessageOut)
def get_message(request: HttpRequest, message_id: Id):
    """A message with the status of each recipient the user may see (phones masked)."""
    user: User = request.user
    message = get_object_or_404(
        Message.objects.visible_to(user).select_related("created_by", "job"), pk=message_id
    )
    recipients = messaging.recipients_for(message, user)
    out = _message_summary(message)
    out["job"] = _job_out(message.job)
    out["recipients"] = [
        {
            "id": r.pk,
            "child": r.child_id,
            "child_name": r.child.name,
            "guardian_name": r.guardian_name,
            "phone": r.masked_phone,
            "status": r.status,
            "status_label": r.get_status_display(),
            "reason": r.reason,
            "attempts": r.attempts,
            "sent_at": r.sent_at,
            "contact": r.contact_id,
        }
        for r in recipients
    ]
    return out
