"""Contact workflows shared by the pages, the API, the outbox and the demo loader."""

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from guanai.accounts.models import User
from guanai.accounts.scope import my_children_q
from guanai.children.models import Child
from guanai.children.validation import CardInvalid
from guanai.lib.photos import PhotoError, reencode_photo

from . import access
from .models import (
    FINDING_AREAS,
    Contact,
    ContactKind,
    ContactPhoto,
    ContactRule,
    FindingLevel,
    PlannedVisit,
    RuleAudience,
    RulePeriod,
)
from .rules import DEFAULTS_BY_CODE, SHANGHAI, local_date

AREA_KEYS = [key for key, _label in FINDING_AREAS]
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# A contact is a fact: it cannot be later than now. A phone's or a program's clock a few
# minutes ahead of the server's is not a fact in the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
# Kinds that reach a person directly: they say whom, and what was found or said.
CONVERSATIONS = {ContactKind.HOME_VISIT, ContactKind.PHONE, ContactKind.VIDEO}
LEVEL_TEXT = ("level", "text")


class IdempotencyConflict(Exception):
    """An Idempotency-Key already used by this user for a different request body."""


def normalize_at(at: dt.datetime) -> dt.datetime:
    """A contact time without a zone is Asia/Shanghai local time."""
    if timezone.is_naive(at):
        return at.replace(tzinfo=SHANGHAI)
    return at


def clean_contact(
    *,
    kind: str,
    at: dt.datetime,
    with_whom: str = "",
    notes: str = "",
    follow_up_by: dt.date | None = None,
    findings: dict[str, dict[str, str]] | None = None,
    by: User | None = None,
) -> dict[str, Any]:
    """Validate one contact's fields (page form and API alike); raise CardInvalid naming each
    bad field in Chinese. Returns the model field values.

    A home visit, a call or a video call says whom it reached and what was found or said (an
    empty one would count as a visit and reset 上次家访). `by`, the person logging it: a proxy
    parent logs only his kinds and no psychological finding (`access.logging_errors`)."""
    errors: dict[str, str] = {}
    if kind not in ContactKind.values:
        errors["kind"] = "取值不在允许范围内：" + "、".join(str(lbl) for lbl in ContactKind.labels)
    errors.update(access.logging_errors(by, kind=kind, findings=findings or {}))
    at = normalize_at(at)
    today = timezone.localdate()
    now = timezone.now()
    if at > now + CLOCK_SKEW:
        errors["at"] = f"联系时间不能晚于现在（{timezone.localtime(now):%Y-%m-%d %H:%M}）"
    elif at.year < 2000:
        errors["at"] = "联系时间太早了，请核对"
    with_whom = (with_whom or "").strip()
    notes = (notes or "").strip()
    if len(with_whom) > 100:
        errors["with_whom"] = "不能超过 100 个字"
    if len(notes) > 5000:
        errors["notes"] = "不能超过 5000 个字"
    if follow_up_by is not None:
        if follow_up_by < local_date(at):
            errors["follow_up_by"] = "跟进日期不能早于联系日期"
        elif follow_up_by > today + dt.timedelta(days=366):
            errors["follow_up_by"] = "跟进日期太远了，请定在一年以内"
    values: dict[str, Any] = {
        "kind": kind,
        "at": at,
        "with_whom": with_whom,
        "notes": notes,
        "follow_up_by": follow_up_by,
    }
    for area in (findings or {}).keys() - set(AREA_KEYS):
        errors[f"findings.{area}"] = "没有这个方面，应为 学习、生活、心理、安全"
    for area in AREA_KEYS:
        finding = (findings or {}).get(area) or {}
        level = (finding.get("level") or "").strip()
        text = (finding.get("text") or "").strip()
        if level and level not in FindingLevel.values:
            errors[f"findings.{area}.level"] = "应为 正常、关注 或 重点关注"
        if len(text) > 500:
            errors[f"findings.{area}.text"] = "不能超过 500 个字"
        values[f"{area}_level"] = level
        values[f"{area}_text"] = text
    if kind in CONVERSATIONS:
        if not with_whom:
            errors.setdefault("with_whom", "请填写见到或联系了谁，如“祖母 张桂花”")
        if not notes and not any(values[f"{area}_{p}"] for area in AREA_KEYS for p in LEVEL_TEXT):
            errors.setdefault(
                "notes", "请至少记下一个方面的情况（学习、生活、心理、安全），或填写情况记录"
            )
    if errors:
        raise CardInvalid(errors)
    return values


def request_digest(child_id: int, values: dict[str, Any]) -> str:
    """A digest of what a request asked for, to tell a replay from a different body."""
    canonical = {"child": child_id}
    for key, value in values.items():
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        canonical[key] = value
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def find_replay(*, by: User, key: str, digest: str) -> Contact | None:
    """The contact an earlier request with this key created, or None. Raises
    IdempotencyConflict when the key was used for a different body."""
    if not key:
        return None
    first = Contact.objects.filter(by=by, idempotency_key=key).first()
    if first is not None and first.request_digest != digest:
        raise IdempotencyConflict(key)
    return first


def log_contact(
    *,
    child: Child,
    by: User,
    values: dict[str, Any],
    idempotency_key: str = "",
    photos: list[UploadedFile] | None = None,
) -> tuple[Contact, bool]:
    """Record a contact from cleaned `values` (see clean_contact). With an idempotency key
    already used by `by`, answer the first contact (created=False) or raise
    IdempotencyConflict when the body differs. Returns (contact, created)."""
    key = (idempotency_key or "").strip()[:100]
    digest = request_digest(child.pk, values) if key else ""
    first = find_replay(by=by, key=key, digest=digest)
    if first is not None:
        return first, False
    stored = prepare_photos(child, photos) if photos else []
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                child=child, by=by, idempotency_key=key, request_digest=digest, **values
            )
            for photo in stored:
                ContactPhoto.objects.create(contact=contact, file=photo)
    except IntegrityError:
        # a concurrent request with the same key won the race: answer its contact
        first = find_replay(by=by, key=key, digest=digest)
        if first is None:
            raise
        return first, False
    return contact, True


def prepare_photos(child: Child, photos: list[UploadedFile]) -> list[ContentFile]:
    """Photos only with the guardian's recorded consent; JPEG or PNG, at most 5 MB each.
    Each is decoded and re-encoded (lib.photos) and named afresh: what gets stored and served
    is an image the app made, never the uploaded bytes or name. Raises CardInvalid."""
    if not child.photo_consent:
        raise CardInvalid({"photos": "档卡上没有监护人同意使用照片的记录，不能上传照片"})
    out = []
    for upload in photos:
        if upload.size > MAX_PHOTO_BYTES:
            raise CardInvalid({"photos": f"照片“{upload.name[:40]}”超过 5 MB"})
        try:
            photo = reencode_photo(upload, name=upload.name or "")
        except PhotoError as exc:
            raise CardInvalid({"photos": str(exc)}) from exc
        out.append(ContentFile(photo.data, name=f"{uuid.uuid4().hex}.{photo.ext}"))
    return out


@transaction.atomic
def complete_follow_up(*, contact: Contact, by: User, note: str = "") -> Contact:
    """Mark a contact's follow-up done (it leaves the home page's list), with a short note of
    what was done: the timeline shows it, and "done" alone tells nobody anything."""
    if contact.follow_up_by is None:
        raise CardInvalid({"follow_up_by": "这条记录没有需要跟进的事项"})
    note = (note or "").strip()
    if contact.follow_up_done_at is None:
        if not note:
            raise CardInvalid({"note": "请简要写下做了什么，如“已电话联系母亲，周末回家”"})
        if len(note) > 500:
            raise CardInvalid({"note": "跟进结果不能超过 500 个字"})
        contact.follow_up_done_at = timezone.now()
        contact.follow_up_done_by = by
        contact.follow_up_note = note
        contact.save(update_fields=["follow_up_done_at", "follow_up_done_by", "follow_up_note"])
    return contact


def may_log_contacts(user: User) -> None:
    """Read-only roles (督导员) log nothing: 403 before any lookup."""
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能登记联系记录")


def own_children_filter(user: User) -> Q:
    """The teacher's own children: named responsible teacher, her classes, or assigned to her
    (proxy parent, following subject teacher) — `scope.my_children_q`."""
    return my_children_q(user)


def follow_ups_for(user: User) -> QuerySet[Contact]:
    """Open follow-ups the user should see on the home page: those on her own children and
    those she recorded herself, earliest deadline first; a proxy parent's own only (he does
    not read the others', `access`)."""
    own = Child.objects.visible_to(user, "contact").filter(own_children_filter(user))
    return (
        completable(user)
        .open_follow_ups()
        .filter(Q(child__in=own.values("pk")) | Q(by=user))
        .select_related("child", "child__school_class", "by")
        .order_by("follow_up_by", "id")
    )


def completable(user: User) -> QuerySet[Contact]:
    """Contacts whose follow-up `user` may mark done: those of the children she may contact
    whose details she reads."""
    return Contact.objects.filter(
        access.readable(user), child__in=Child.objects.visible_to(user, "contact").values("pk")
    )


def home_panel(user: User) -> dict[str, Any]:
    """What the home page shows about contacts: open follow-ups and counts due."""
    if not user.is_authenticated or user.is_read_only:
        return {}
    follow_ups = list(follow_ups_for(user)[:10])
    proxy = access.proxy_reader(user)
    for c in follow_ups:
        c.kind_label = access.kind_label(c.kind, proxy=proxy)
    today = timezone.localdate()
    return {
        "follow_ups": follow_ups,
        "follow_ups_more": len(follow_ups) == 10,
        "today": today,
    }


# --- rules -----------------------------------------------------------------------------------


@transaction.atomic
def save_rule(
    *,
    code: str,
    by: User,
    town=None,
    school=None,
    name: str,
    kinds: list[str],
    period: str,
    days: int,
    categories: list[str],
    active: bool,
) -> ContactRule:
    """Create or change a town rule or a school's override of it. Raises CardInvalid."""
    errors: dict[str, str] = {}
    default = DEFAULTS_BY_CODE.get(code)
    if default is None:
        errors["code"] = "没有这条规则"
    name = (name or "").strip()
    if not name or len(name) > 50:
        errors["name"] = "请填写名称（50 字以内）"
    if not kinds or set(kinds) - set(ContactKind.values):
        errors["kinds"] = "请至少选择一种联系方式"
    if period not in RulePeriod.values:
        errors["period"] = "应为 每学期一次 或 每 N 天一次"
    if period == RulePeriod.DAYS and not (isinstance(days, int) and 1 <= days <= 366):
        errors["days"] = "天数应为 1 到 366 之间的整数"
    allowed = {"single", "double", "migrant", "none", "unknown"}
    for_proxies = default is not None and default.for_proxies
    if for_proxies:
        categories = []  # a proxy-parent rule concerns every child who has a proxy parent
    elif not categories or set(categories) - allowed:
        errors["categories"] = "请至少选择一类儿童"
    if (town is None) == (school is None):
        errors["code"] = "规则应属于一个镇或一所学校"
    if errors:
        raise CardInvalid(errors)
    row, _ = ContactRule.objects.update_or_create(
        town=town,
        school=school,
        code=code,
        defaults={
            "name": name,
            "kinds": [k for k in ContactKind.values if k in kinds],
            "period": period,
            "days": days if period == RulePeriod.DAYS else 30,
            "categories": sorted(categories),
            "audience": default.audience if default else RuleAudience.CATEGORY,
            "active": active,
            "updated_by": by,
        },
    )
    return row


@transaction.atomic
def reset_school_rule(*, school, code: str) -> None:
    """Drop a school's override so the town's rule applies again."""
    ContactRule.objects.filter(school=school, code=code).delete()


# --- weekly visit plan -------------------------------------------------------------------------


def week_of(day: dt.date) -> dt.date:
    """Monday of the week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def plan_visit(*, user: User, child: Child, week: dt.date) -> PlannedVisit:
    return PlannedVisit.objects.get_or_create(user=user, child=child, week=week_of(week))[0]


@transaction.atomic
def unplan_visit(*, user: User, child: Child, week: dt.date) -> None:
    PlannedVisit.objects.filter(user=user, child=child, week=week_of(week)).delete()
