"""Messages to guardians (校信通): selection, outbox, sending job, retries, rate limit.

Sending is a background job (`send_message`). Each recipient row is claimed
(排队 → 发送中) with one UPDATE before its gateway call and is never sent again once 已发送, so
a retry — of the job or by a person — cannot send twice; the row's `ref` goes with every
attempt so a provider can drop a duplicate as well. Transient failures (timeouts, 5xx) are
retried with exponential back-off; numbers that cannot receive the message are refused before
anything is sent. Each delivered message becomes a 平台消息 contact on the child's card,
except a post to a class WeChat group: that is a notice to the class, not a contact with the
child's guardian (see `send_pending`).
"""

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.children.models import LEFT_BEHIND, Child
from guanai.children.validation import CardInvalid
from guanai.jobs.models import Job
from guanai.jobs.services import start_job
from guanai.lib.grades import grade_name
from guanai.lib.masking import mask_phone

from .gateways import GATEWAYS, GatewayError, conf, gateways_for, get_gateway
from .letters import BLANK_PHONE, check_placeholders, class_teacher_users, fill
from .models import Contact, ContactKind, Message, Recipient, RecipientStatus
from .rules import due_items

MAX_RECIPIENTS = 5000
sleep: Callable[[float], None] = time.sleep  # tests replace it
clock: Callable[[], float] = time.monotonic


def may_send(user: User) -> None:
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能发送消息")
    if not user.is_superuser and not scope.units(user, "contact"):
        raise PermissionDenied("只有教师和学校领导可以给家长群发消息")


def select_children(
    *,
    user: User,
    children: list[int] | None = None,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    category: str | None = None,
    rule: str | None = None,
) -> QuerySet[Child]:
    """Enrolled children in the user's contact scope matching the selection."""
    if not (children or school or grade is not None or class_no or category or rule):
        raise CardInvalid({"children": "请选择发送对象：学校、年级、班级、类别或名单"})
    qs = Child.objects.visible_to(user, "contact").active()
    if children:
        qs = qs.filter(pk__in=children)
    if school:
        qs = qs.filter(school__code=school)
    if grade is not None:
        qs = qs.filter(school_class__grade=grade)
    if class_no:
        qs = qs.filter(school_class__class_no=class_no)
    if category == "left_behind":
        qs = qs.filter(category__in=LEFT_BEHIND)
    elif category:
        qs = qs.filter(category=category)
    if rule:
        due = {i.child for i in due_items(qs, as_of=timezone.localdate(), rule_codes=[rule])}
        qs = qs.filter(pk__in=due)
    return qs


def describe_selection(
    *,
    children: list[int] | None = None,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    category: str | None = None,
    rule: str | None = None,
) -> str:
    from .rules import DEFAULT_RULES

    parts = []
    if school:
        parts.append(school)
    if grade is not None:
        parts.append(grade_name(grade))
    if class_no:
        parts.append(f"{class_no}班")
    if category:
        parts.append(
            {"left_behind": "留守儿童", "single": "单留守", "double": "双留守"}.get(
                category, category
            )
        )
    if rule:
        parts.append("待联系：" + {r.code: r.name for r in DEFAULT_RULES}.get(rule, rule))
    if children:
        parts.append(f"名单 {len(children)} 人")
    return " · ".join(parts)[:200]


@transaction.atomic
def create_message(
    *, by: User, text: str, gateway: str, children: QuerySet[Child], selection: str = ""
) -> Message:
    """Write the outbox (one row per child, text filled in; numbers that cannot receive it are
    refused now, with the reason) and start the sending job."""
    text = (text or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "请填写消息内容"
    elif len(text) > 500:
        errors["text"] = "消息不能超过 500 字"
    else:
        try:
            check_placeholders(text, "text")
        except CardInvalid as exc:
            errors.update(exc.errors)
    offered = gateways_for(by)
    if gateway not in offered:
        # The test channels (console, file) reach no family: only those who run a town try them.
        names = (
            "、".join(f"{GATEWAYS[c].label}（{c}）" for c in offered) or "无，请联系镇管理员设置"
        )
        errors["gateway"] = f"不能使用这个发送通道，可用：{names}"
    rows = list(
        children.select_related("guardian", "school", "school_class").order_by(
            "school_class__grade", "school_class__class_no", "name", "pk"
        )[: MAX_RECIPIENTS + 1]
    )
    if not rows:
        errors["children"] = "没有符合条件的学生"
    elif len(rows) > MAX_RECIPIENTS:
        errors["children"] = f"一次最多发送给 {MAX_RECIPIENTS} 位家长，请缩小范围"
    if errors:
        raise CardInvalid(errors)
    back_end = get_gateway(gateway)
    teachers = class_teacher_users({c.school_class_id for c in rows})
    schools = {c.school_id for c in rows}
    message = Message.objects.create(
        text=text,
        gateway=gateway,
        selection=selection,
        school_id=schools.pop() if len(schools) == 1 else None,
        created_by=by,
    )
    outbox = []
    for child in rows:
        guardian = getattr(child, "guardian", None)
        phone = guardian.phone if guardian else ""
        refused = back_end.check_phone(phone)
        values = {
            "学生姓名": child.name,
            "监护人": (guardian.name if guardian and guardian.name else "家长"),
            **class_values(child.school_class, child.school, teachers),
        }
        outbox.append(
            Recipient(
                message=message,
                child=child,
                guardian_name=values["监护人"],
                phone=phone,
                text=fill(text, values),
                status=RecipientStatus.FAILED if refused else RecipientStatus.QUEUED,
                reason=refused,
            )
        )
    Recipient.objects.bulk_create(outbox)
    message.job = start_job(
        kind="send_message",
        params={"message": message.pk},
        by=by,
        school=message.school,
    )
    message.save(update_fields=["job"])
    return message


class RateLimiter:
    """At most `per_second` sends a second, spaced evenly."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0

    def wait(self) -> None:
        now = clock()
        if now < self.next_at:
            sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def _mark_sent(recipient: Recipient, ref: str, message: Message, *, personal: bool) -> None:
    """Mark the row sent; a message that reached the guardian personally (`personal`) is also
    a 平台消息 contact on the child's card."""
    now = timezone.now()
    with transaction.atomic():
        contact = None
        if personal:
            contact = Contact.objects.create(
                child_id=recipient.child_id,
                kind=ContactKind.MESSAGE,
                at=now,
                by_id=message.created_by_id,
                with_whom=recipient.guardian_name,
                notes=recipient.text,
            )
        Recipient.objects.filter(pk=recipient.pk, status=RecipientStatus.SENDING).update(
            status=RecipientStatus.SENT, sent_at=now, provider_ref=ref, reason="", contact=contact
        )


def send_pending(message: Message, progress: Callable[[int, int, str], None]) -> dict[str, Any]:
    """Send the message's queued rows through its gateway (the job's body)."""
    gateway = get_gateway(message.gateway)
    attempts = max(1, int(conf("GUANAI_MESSAGE_RETRIES", 3)))
    backoff = float(conf("GUANAI_MESSAGE_BACKOFF", 2))
    limiter = RateLimiter(float(conf("GUANAI_MESSAGE_RATE", 5)))
    total = message.recipients.count()
    pending = list(
        message.recipients.filter(status=RecipientStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = total - len(pending)
    for round_no in range(attempts):
        retry: list[int] = []
        for pk in pending:
            # claim the row: only one run can move it out of 排队, so nothing is sent twice
            claimed = Recipient.objects.filter(pk=pk, status=RecipientStatus.QUEUED).update(
                status=RecipientStatus.SENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=timezone.now(),  # when claimed, to spot a crashed run
            )
            if not claimed:
                continue
            recipient = Recipient.objects.get(pk=pk)
            if not gateway.records_only:
                limiter.wait()
            try:
                result = gateway.send(phone=recipient.phone, text=recipient.text, ref=recipient.ref)
            except GatewayError as exc:
                if exc.transient and round_no + 1 < attempts:
                    delay = backoff * 2**round_no
                    Recipient.objects.filter(pk=pk).update(
                        status=RecipientStatus.QUEUED,
                        reason=f"{exc.reason}（将重试）",
                        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
                    )
                    retry.append(pk)
                    continue
                Recipient.objects.filter(pk=pk).update(
                    status=RecipientStatus.FAILED, reason=exc.reason
                )
            else:
                # A post to the class WeChat group (records_only) is one notice to the whole
                # class, read or not: it is kept as the message and its outbox rows, never as a
                # Contact. A Contact would be a personal contact with each guardian, shown on
                # the card and counted by the guardian-contact rule (every rule counts kinds,
                # and rules are edited by hand: no kind of Contact is safe from being counted).
                _mark_sent(recipient, result.ref, message, personal=not gateway.records_only)
            done += 1
            progress(done, total, f"已处理 {done} / {total}")
        if not retry:
            break
        sleep(backoff * 2**round_no)
        pending = retry
    return {
        "counts": counts(message),
        "link": f"/contacts/messages/{message.pk}/",
        "link_label": "查看发送结果",
    }


@transaction.atomic
def retry_failed(*, message: Message, by: User) -> Job | None:
    """Queue again the rows that failed after an attempt (not those refused before sending,
    not those already sent) and start a new job. Only rows of children `by` may still contact
    are sent again: an author who has since left the class does not reach its guardians."""
    stale = timezone.now() - dt.timedelta(minutes=10)
    # a row left 发送中 by a crashed run may have reached the provider: never resend it blindly
    message.recipients.filter(status=RecipientStatus.SENDING, next_attempt_at__lt=stale).update(
        status=RecipientStatus.FAILED, reason="发送结果未知（可能已发送），请核对后单独联系"
    )
    reachable = Child.objects.visible_to(by, "contact").values("pk")
    n = message.recipients.filter(
        status=RecipientStatus.FAILED, attempts__gt=0, child__in=reachable
    ).update(status=RecipientStatus.QUEUED, reason="")
    if not n:
        return None
    message.job = start_job(
        kind="send_message", params={"message": message.pk}, by=by, school=message.school
    )
    message.save(update_fields=["job"])
    return message.job


def counts(message: Message) -> dict[str, int]:
    out = {s.value: 0 for s in RecipientStatus}
    for status, n in message.recipients.values_list("status").annotate(n=Count("id")).order_by():
        out[status] = n
    return out


def recipients_for(message: Message, user: User) -> list[Recipient]:
    """The message's rows for children the user may see; phones masked."""
    kids = Child.objects.visible_to(user).values("pk")
    rows = list(
        message.recipients.filter(child__in=kids)
        .select_related("child", "child__school", "child__school_class")
        .order_by("pk")
    )
    for r in rows:
        r.masked_phone = mask_phone(r.phone)
    return rows


def class_values(school_class, school, teachers: dict[int, User]) -> dict[str, str]:
    """The placeholders a message fills the same for a whole class: its name, the school and
    the class teacher (the word 班主任 when the class has none on record) with the phones."""
    teacher = teachers.get(school_class.pk)
    return {
        "班级": str(school_class),
        "学校": school.name,
        "班主任": str(teacher) if teacher else "班主任",
        "班主任电话": (teacher.phone if teacher else "") or BLANK_PHONE,
        "学校电话": school.phone or BLANK_PHONE,
    }


def wechat_posts(message: Message, user: User) -> list[dict[str, Any]]:
    """For the WeChat-group back-end: one text per class to paste into the class group."""
    posts: dict[int, dict[str, Any]] = {}
    classes = {}
    for r in recipients_for(message, user):
        klass = r.child.school_class
        classes[klass.pk] = (klass, r.child.school)
        post = posts.setdefault(klass.pk, {"label": str(klass), "names": []})
        post["names"].append(f"{r.child.name}家长")
    teachers = class_teacher_users(set(posts))
    for pk, post in posts.items():
        klass, school = classes[pk]
        values = {"学生姓名": "孩子", "监护人": "家长", **class_values(klass, school, teachers)}
        post["text"] = "各位家长好！" + fill(message.text, values)
    return list(posts.values())
