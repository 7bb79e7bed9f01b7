"""The village side: a village's children as its children's director sees them, the 委托监护确认书,
the 登记表 per village and the termly list of changed cards (the school ↔ village exchange).

Every set starts from `Child.objects.visible_to`: a village a user's scope does not reach is not
found, and a school leader opening a village sees only her own school's children of it.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.access import FULL, ID_FIELDS, SENSITIVE_FIELDS, card_access
from guanai.children.models import Child, Guardian, Parent
from guanai.children.services import record_changes
from guanai.children.validation import FIELD_LABELS
from guanai.lib.dates import term_start
from guanai.lib.errors import Invalid
from guanai.lib.photos import PhotoError, reencode_photo
from guanai.lib.text import clean
from guanai.lib.villages import village_key, village_label, village_names
from guanai.lib.vocab import parse_relation
from guanai.org.models import School

from .models import Entrustment

MAX_SCAN_BYTES = 10 * 2**20
SCAN_TYPES = "JPG、PNG 照片或 PDF 文件"


# --- villages and their children ------------------------------------------------------------


def villages_of(user) -> list[tuple[str, str]]:
    """(key, label) of the villages the user may open, by name: a children's director's own
    village, and the home villages of the enrolled children she sees."""
    keys = {key for _town, key in scope.village_units(user)}
    homes = (
        Child.objects.visible_to(user)
        .active()
        .exclude(village="")
        .order_by()
        .values_list("village", flat=True)
        .distinct()
    )
    keys |= {village_key(v) for v in homes}
    keys.discard("")
    return sorted((k, village_label(k)) for k in keys)


def may_open(user, key: str) -> bool:
    return bool(key) and any(k == key for k, _label in villages_of(user))


def village_children(user, key: str, action: str = "view") -> QuerySet[Child]:
    """The enrolled children of a village the user sees (for `action`)."""
    return Child.objects.visible_to(user, action).active().filter(village__in=village_names(key))


def entrust_children(user) -> QuerySet[Child]:
    """Children whose 委托监护确认书 the user may record (the `entrust` units)."""
    if user is None or not user.is_authenticated:
        return Child.objects.none()
    cond = scope.unit_children_q(user, "entrust")
    return Child.objects.all() if cond is None else Child.objects.filter(cond)


@dataclass
class VillageRow:
    child: Child
    last_contact: dt.datetime | None
    signed_on: dt.date | None
    alert: str = ""


def village_rows(user, key: str, *, q: str = "") -> list[VillageRow]:
    """The village list: each child with the last contact, the last signed confirmation and
    the open guardianship alert (for those who handle alerts)."""
    from guanai.protection.alerts import REASONS, at_risk, children_in_scope

    children = village_children(user, key)
    if q:
        children = children.search(q)
    children = (
        children.select_related("school", "school_class", "guardian")
        .annotate(last_contact=Max("contacts__at"), signed_on=Max("entrustments__signed_on"))
        .order_by("school__code", "school_class__grade", "school_class__class_no", "name_pinyin")
    )
    alerts: dict[int, str] = {}
    if scope.acts_as(user, "alerts"):
        risky = at_risk(children_in_scope(user).filter(village__in=village_names(key)))
        alerts = {
            pk: REASONS[reason]
            for pk, reason in risky.filter(alert_open=True).values_list("pk", "alert_reason")
        }
    return [VillageRow(c, c.last_contact, c.signed_on, alerts.get(c.pk, "")) for c in children]


# --- 委托监护确认书 --------------------------------------------------------------------------


def prepare_scan(upload) -> ContentFile:
    """The scan as stored: a JPG or PNG photo decoded and re-encoded (lib.photos), or a PDF
    (its signature checked); at most 10 MB. Raises Invalid."""
    if upload is None:
        raise Invalid({"scan": f"请上传签好的确认书（{SCAN_TYPES}）"})
    name = (upload.name or "")[:40]
    if upload.size > MAX_SCAN_BYTES:
        raise Invalid({"scan": f"文件“{name}”超过 10 MB，请压缩后再上传"})
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        data = upload.read()
        if b"%%EOF" not in data[-2048:]:
            raise Invalid({"scan": f"PDF 文件“{name}”不完整或已损坏"})
        return ContentFile(data, name=f"{uuid.uuid4().hex}.pdf")
    try:
        photo = reencode_photo(upload, name=upload.name or "")
    except PhotoError as exc:
        raise Invalid({"scan": f"确认书扫描件应为{SCAN_TYPES}：{exc}"}) from exc
    return ContentFile(photo.data, name=f"{uuid.uuid4().hex}.{photo.ext}")


@transaction.atomic
def record_entrustment(
    *,
    child: Child,
    guardian_name: str,
    guardian_relation: str,
    signed_on: dt.date | None,
    scan,
    by,
) -> Entrustment:
    """Record a signed 委托监护确认书. The caller has checked the `entrust` scope. The date may
    not lie in the future nor before the child's birth. Raises Invalid."""
    errors: dict[str, str] = {}
    name, relation = clean(guardian_name or ""), parse_relation(guardian_relation or "")
    if not name:
        errors["guardian_name"] = "请填写受委托监护人姓名"
    elif len(name) > 50:
        errors["guardian_name"] = "受委托监护人姓名不能超过 50 个字"
    if not relation:
        errors["guardian_relation"] = "请填写受委托监护人与儿童的关系"
    elif len(relation) > 20:
        errors["guardian_relation"] = "关系不能超过 20 个字"
    today = timezone.localdate()
    if signed_on is None:
        errors["signed_on"] = "请填写签署日期"
    elif signed_on > today:
        errors["signed_on"] = "签署日期不能晚于今天"
    elif child.birth_date and signed_on < child.birth_date:
        errors["signed_on"] = "签署日期不能早于儿童出生日期"
    if errors:
        raise Invalid(errors)
    content = prepare_scan(scan)
    return Entrustment.objects.create(
        child=child,
        guardian_name=name,
        guardian_relation=relation,
        signed_on=signed_on,
        scan=content,
        recorded_by=by,
    )


def guardian_defaults(child: Child) -> dict[str, str]:
    """The card's guardian, to fill the form."""
    g = Guardian.objects.filter(child=child).first()
    return {"guardian_name": g.name, "guardian_relation": g.relation} if g else {}


# --- the 登记表 per village ------------------------------------------------------------------


def register_rows(user, key: str, *, on: dt.date) -> tuple[list[str], list[list[Any]]]:
    """The 民政 登记表 (民发〔2016〕42号 附件1) for the village's children under the 民政
    definition at `on`, in the form's columns. ID numbers in full only for those who read
    them in full (`full_id`), masked for the children's director and the 督导员."""
    from guanai.children.minzheng import REGISTER_COLUMNS, civil_children, register_row

    full = card_access(user) == FULL
    rows = []
    for n, child in enumerate(civil_children(village_children(user, key), on=on), start=1):
        row = register_row(n, child, on)
        if not full:
            parents = {p.relation: p for p in child.parents.all()}
            guardian = getattr(child, "guardian", None)
            masks = {
                "公民身份证号码": child.id_number_masked,
                "父亲公民身份证号码": getattr(parents.get("father"), "id_number_masked", ""),
                "母亲公民身份证号码": getattr(parents.get("mother"), "id_number_masked", ""),
                "委托监护人公民身份证号码": getattr(guardian, "id_number_masked", ""),
            }
            for col, masked in masks.items():
                i = REGISTER_COLUMNS.index(col)
                if row[i]:
                    row[i] = masked
        rows.append(row)
    return list(REGISTER_COLUMNS), rows


# --- the changed cards of a term ------------------------------------------------------------

# Not in the exchange list: ID numbers, health and psychology, and bookkeeping.
EXCHANGE_HIDDEN = (
    ID_FIELDS
    | SENSITIVE_FIELDS
    | {
        "version",
        "latitude",
        "longitude",
        "category_reason",
        "civil_affairs_reason",
        "effective_from",
    }
)


@dataclass
class ChangedCard:
    child: Child
    fields: list[str] = field(default_factory=list)  # plain Chinese names, in order
    last_at: dt.datetime | None = None
    created: bool = False

    @property
    def summary(self) -> str:
        words = (["新建档卡"] if self.created else []) + self.fields
        return "、".join(words)


def changed_cards(user, key: str, *, since: dt.date | None = None) -> list[ChangedCard]:
    """The village's children whose card (or parents' or guardian's facts) changed since
    `since` (default: the start of this term), with what changed in plain Chinese field names,
    most recent change first."""
    since = since or term_start(timezone.localdate())
    start = dt.datetime.combine(since, dt.time(), tzinfo=timezone.get_current_timezone())
    children = {
        c.pk: c for c in village_children(user, key).select_related("school", "school_class")
    }
    found: dict[int, ChangedCard] = {}
    sources = (
        (Child.history.filter(id__in=children, history_date__gte=start), "id", lambda r: ""),
        (
            Parent.history.filter(child_id__in=children, history_date__gte=start),
            "child_id",
            lambda r: f"{r.relation}.",
        ),
        (
            Guardian.history.filter(child_id__in=children, history_date__gte=start),
            "child_id",
            lambda r: "guardian.",
        ),
    )
    for records, attr, prefix in sources:
        for record in records.order_by("history_date", "history_id"):
            pk = getattr(record, attr)
            entry = found.setdefault(pk, ChangedCard(children[pk]))
            if record.history_type == "+" and not prefix(record):
                entry.created = True  # a new card: its fields are not "changes"
            elif not (record.history_type == "+" and entry.created):
                for change in record_changes(record, prefix(record)):
                    name = change["field"]
                    if name.split(".")[-1] in EXCHANGE_HIDDEN or name in EXCHANGE_HIDDEN:
                        continue
                    label = FIELD_LABELS.get(name, name)
                    if label not in entry.fields:
                        entry.fields.append(label)
            if entry.last_at is None or record.history_date > entry.last_at:
                entry.last_at = record.history_date
    out = [e for e in found.values() if e.fields or e.created]
    out.sort(key=lambda e: e.last_at, reverse=True)
    return out


def changed_rows(entries: list[ChangedCard]) -> list[list[Any]]:
    from guanai.lib.grades import grade_name

    return [
        [
            e.child.name,
            e.child.school.name,
            f"{grade_name(e.child.school_class.grade)}({e.child.school_class.class_no})班",
            e.child.get_category_display(),
            e.summary,
            timezone.localtime(e.last_at).date() if e.last_at else None,
        ]
        for e in entries
    ]


CHANGED_COLUMNS = ["姓名", "学校", "班级", "留守类别", "变更内容", "最近变更日期"]


# --- the home panel -------------------------------------------------------------------------


def home_panel(user) -> dict[str, Any] | None:
    """A children's director's (or 督导员's) today: her children due a visit, their open
    guardianship alerts, and those without a signed 委托监护确认书 (left-behind children whose
    guardian is not a parent). None for everyone else."""
    from guanai.contacts.rules import due_items
    from guanai.protection.alerts import REASONS, at_risk, children_in_scope

    if user is None or not user.is_authenticated:
        return None
    mine = [
        (lv, ra)
        for lv, ra in scope.units(user, "contact")
        if lv in (scope.VILLAGE, scope.TOWN_LEFT_BEHIND)
    ]
    if not mine:
        return None
    today = timezone.localdate()
    children = Child.objects.visible_to(user, "contact").active().filter(scope.my_children_q(user))
    due = due_items(children, as_of=today)
    seen: set[int] = set()
    due_once = [d for d in due if not (d.child in seen or seen.add(d.child))]
    codes = {d.school for d in due_once[:8]}
    school_names = dict(School.objects.filter(code__in=codes).values_list("code", "name"))
    alerts = at_risk(children_in_scope(user).filter(pk__in=children.values("pk"))).filter(
        alert_open=True
    )
    unsigned = (
        children.left_behind()
        .filter(guardian__isnull=False)
        .exclude(guardian__name="")
        .exclude(guardian__relation__in=["父亲", "母亲"])
        .filter(~Q(pk__in=Entrustment.objects.values("child_id")))
        .select_related("school_class")
        .order_by("name_pinyin")
    )
    return {
        "villages": [village_label(ra.village) for lv, ra in mine if lv == scope.VILLAGE],
        "due_count": len(due_once),
        # (item, school name): a page names schools, never their codes
        "due": [(d, school_names.get(d.school, "")) for d in due_once[:8]],
        "alert_count": alerts.count(),
        "alerts": [(c, REASONS[c.alert_reason]) for c in alerts.select_related("school_class")[:8]],
        "unsigned_count": unsigned.count(),
        "unsigned": list(unsigned[:8]),
    }
