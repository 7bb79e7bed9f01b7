"""Inspection workflows shared by the pages, the API and the demo loader: draw the sample, move
the inspection along, record findings, decide the corrections they propose, follow 整改 items."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import RoleAssignment, User
from guanai.children.models import LEFT_BEHIND, Child, Enrolment
from guanai.children.services import update_child
from guanai.children.validation import CardInvalid, clean_card
from guanai.lib.errors import Invalid
from guanai.lib.photos import PhotoError, reencode_photo
from guanai.org.models import School
from guanai.pairing.services import school_staff

from . import documents, sampling
from .models import (
    CARD_KEY,
    DEFAULT_CHECKLIST,
    Attachment,
    AttachmentKind,
    CheckField,
    ChecklistItem,
    ChecklistTemplateItem,
    Correction,
    EvidencePhoto,
    Finding,
    FindingCheck,
    Inspection,
    ItemStatus,
    Rectification,
    Status,
)

MAX_SAMPLE = 10_000
NEXT_STATUS = {
    Status.PLANNED: Status.IN_PROGRESS,
    Status.IN_PROGRESS: Status.REPORTED,
    Status.REPORTED: Status.CLOSED,
}


def eligible_children(*, school: School) -> list[tuple[int, int]]:
    """The school's enrolled 单留守/双留守 children now, as [(id, grade)] ordered by id."""
    rows = (
        Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED, category__in=LEFT_BEHIND)
        .order_by("id")
        .values_list("id", "school_class__grade")
    )
    return [(pk, grade) for pk, grade in rows]


def town_checklist(town) -> list[ChecklistTemplateItem]:
    """The town's checklist template, created from the default items the first time."""
    items = list(ChecklistTemplateItem.objects.filter(town=town, active=True))
    if not items and not ChecklistTemplateItem.objects.filter(town=town).exists():
        items = ChecklistTemplateItem.objects.bulk_create(
            ChecklistTemplateItem(town=town, title=t, position=i)
            for i, t in enumerate(DEFAULT_CHECKLIST)
        )
    return items


@transaction.atomic
def create_inspection(
    *,
    school: School,
    planned_on: dt.date,
    sample_size: int,
    by,
    seed: str | None = None,
    previous: Inspection | None = None,
    inspectors: list | None = None,
) -> Inspection:
    """Plan an inspection and draw its sample now, from today's eligible children; the seed
    (a fresh one unless given) and the list are stored so anyone can re-derive the sample.
    `inspectors` (town administrators and 督导员 of the school's town; None: the one planning
    it) and `previous` (an earlier inspection of the same school, for a re-inspection)."""
    check_team(school=school, inspectors=inspectors, previous=previous)
    if sample_size < 1:
        raise Invalid({"sample_size": "抽样人数必须大于 0"})
    if sample_size > MAX_SAMPLE:
        raise Invalid({"sample_size": f"抽样人数不能超过 {MAX_SAMPLE}"})
    seed = (seed or "").strip() or sampling.new_seed()
    if len(seed) > 100:
        raise Invalid({"seed": "随机种子不能超过 100 个字符"})
    eligible = eligible_children(school=school)
    inspection = Inspection.objects.create(
        school=school,
        planned_on=planned_on,
        seed=seed,
        sample_size=sample_size,
        drawn_on=timezone.localdate(),
        eligible=[[pk, grade] for pk, grade in eligible],
        sample=sampling.draw(seed, eligible, sample_size),
        created_by=by,
        previous=previous,
    )
    if inspectors is not None:
        inspection.inspectors.set(inspectors)
    elif by is not None:
        inspection.inspectors.add(by)
    ChecklistItem.objects.bulk_create(
        ChecklistItem(inspection=inspection, title=t.title, position=t.position)
        for t in town_checklist(school.town)
    )
    return inspection


def town_inspectors(town) -> QuerySet:
    """People who may inspect the town's schools today: holders of a role the `inspect` action
    admits (town administrators, 督导员) over the town, by name."""
    today = timezone.localdate()
    ras = RoleAssignment.objects.filter(
        role__in=scope.ROLES_FOR_ACTION["inspect"], town=town, valid_from__lte=today
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return User.objects.filter(is_active=True, pk__in=ras.values("user_id")).order_by(
        "display_name", "username"
    )


def check_team(
    *,
    school: School,
    inspectors: list | None,
    previous: Inspection | None,
    inspection: Inspection | None = None,
) -> None:
    """The inspectors must inspect the school's town; the earlier inspection must be one of the
    same school (and not this one). Raises Invalid."""
    errors = {}
    if inspectors is not None:
        if not inspectors:
            errors["inspectors"] = "请至少选择一名检查人员"
        allowed = set(town_inspectors(school.town).values_list("pk", flat=True))
        if outside := [u for u in inspectors if u.pk not in allowed]:
            errors["inspectors"] = f"{outside[0]} 不是本镇的镇管理员或督导员，不能担任检查人员"
    if previous is not None:
        if previous.school_id != school.pk:
            errors["previous"] = "上次检查应为同一所学校的检查"
        elif inspection is not None and previous.pk == inspection.pk:
            errors["previous"] = "上次检查不能是本次检查"
        elif inspection is not None and previous.pk > inspection.pk:
            errors["previous"] = "上次检查应早于本次检查"
    if errors:
        raise Invalid(errors)


@transaction.atomic
def update_inspection(
    *,
    inspection: Inspection,
    by,
    planned_on: dt.date | None = None,
    inspectors: list | None = None,
    previous: Inspection | None | bool = False,
    meeting_attendees: str | None = None,
    meeting_points: str | None = None,
) -> Inspection:
    """Change what may change after the draw — the date, the inspectors, the earlier inspection
    (`previous` False: unchanged, None: none), the meeting record; never the sample. A closed
    inspection stays as it is."""
    if inspection.status == Status.CLOSED:
        raise Invalid({"status": "已结束的检查不能再修改"})
    check_team(
        school=inspection.school,
        inspectors=inspectors,
        previous=previous or None,
        inspection=inspection,
    )
    fields = ["updated_at"]
    if planned_on is not None:
        inspection.planned_on = planned_on
        fields.append("planned_on")
    if previous is not False:
        inspection.previous = previous
        fields.append("previous")
    if meeting_attendees is not None:
        inspection.meeting_attendees = meeting_attendees.strip()[:2000]
        fields.append("meeting_attendees")
    if meeting_points is not None:
        inspection.meeting_points = meeting_points.strip()[:4000]
        fields.append("meeting_points")
    inspection.save(update_fields=fields)
    if inspectors is not None:
        inspection.inspectors.set(inspectors)
    return inspection


def compare_with_previous(inspection: Inspection) -> dict[str, Any] | None:
    """For a re-inspection: the earlier one's accuracy and this one's, and the earlier items
    not yet closed (None when there is no earlier inspection)."""
    previous = inspection.previous
    if previous is None:
        return None

    def percent(rate):
        return "" if rate is None else f"{rate * 100:.1f}%"

    then, now = accuracy(previous)["rate"], accuracy(inspection)["rate"]
    return {
        "previous": previous,
        "then": percent(then),
        "now": percent(now),
        "change": "" if then is None or now is None else f"{(now - then) * 100:+.1f}",
        "open_items": list(
            previous.rectifications.exclude(status=ItemStatus.CLOSED)
            .select_related("owner")
            .order_by("due_on", "id")
        ),
    }


def reproduced(inspection: Inspection) -> bool:
    """Whether the stored sample is the draw of the stored seed and list."""
    eligible = [(int(pk), int(grade)) for pk, grade in inspection.eligible]
    return sampling.draw(inspection.seed, eligible, inspection.sample_size) == inspection.sample


@transaction.atomic
def advance(*, inspection: Inspection, to: str, by) -> Inspection:
    """Move the inspection one step: planned → in progress → reported → closed."""
    if NEXT_STATUS.get(inspection.status) != to:
        raise Invalid({"status": f"不能从“{inspection.get_status_display()}”改为这个状态"})
    inspection.status = to
    inspection.save(update_fields=["status", "updated_at"])
    return inspection


# --- findings --------------------------------------------------------------------------------


def card_value(child: Child, field: str) -> str:
    """The card's value of a checked field, in words (the 档卡记载 column)."""
    guardian = getattr(child, "guardian", None)
    father, mother = child.parent("father"), child.parent("mother")
    if field == "address":
        return " ".join(x for x in (child.village, child.group, child.address) if x)
    if field == "guardian":
        return guardian.name if guardian else ""
    if field == "guardian_phone":
        return guardian.phone if guardian else ""
    if field == "father_status":
        return father.get_status_display() if father and father.status else ""
    if field == "mother_status":
        return mother.get_status_display() if mother and mother.status else ""
    if field == "work_place":
        places = [
            f"{p.get_relation_display()}：{p.work_place or p.work_city or p.work_province}"
            for p in (father, mother)
            if p and (p.work_place or p.work_city or p.work_province)
        ]
        return "；".join(places)
    return child.get_category_display()


def card_key(child: Child, field: str) -> str | None:
    """The card key a correction of `field` writes; work place goes to the parent away (the
    father when both or neither are)."""
    if field != "work_place":
        return CARD_KEY[field]
    mother = child.parent("mother")
    father = child.parent("father")
    if mother and mother.status == "away" and not (father and father.status == "away"):
        return "mother.work_place"
    return "father.work_place"


@transaction.atomic
def record_finding(
    *,
    inspection: Inspection,
    child: Child,
    visited: bool,
    checks: list[dict[str, Any]],
    by,
    met_whom: str = "",
    notes: str = "",
) -> Finding:
    """Record (or replace) what the visit found for a sampled child. Each wrong value of a
    typed field must be a valid card value and becomes a correction proposed to the class
    teacher; a wrong category is a discrepancy only (the category is derived)."""
    if inspection.status != Status.IN_PROGRESS:
        raise Invalid({"child": "检查开始后（进行中）才能记录走访结果"})
    if child.pk not in inspection.sample:
        raise Invalid({"child": "该儿童不在本次抽样名单中"})
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for i, check in enumerate(checks):
        field = check.get("field")
        if field not in CheckField.values:
            errors[f"checks.{i}.field"] = "核对项目不在清单中"
            continue
        if field in seen:
            errors[f"checks.{i}.field"] = f"“{CheckField(field).label}”重复了"
        seen.add(field)
        found = (check.get("found") or "").strip()
        if check.get("correct"):
            continue
        if not found:
            errors[f"checks.{i}.found"] = f"“{CheckField(field).label}”不正确时请填写实际情况"
            continue
        key = card_key(child, field)
        if key:
            try:
                clean_card({key: found})
            except CardInvalid as exc:
                errors[f"checks.{i}.found"] = next(iter(exc.errors.values()))
    if errors:
        raise Invalid(errors)
    Finding.objects.filter(inspection=inspection, child=child).delete()
    finding = Finding.objects.create(
        inspection=inspection,
        child=child,
        visited=visited,
        met_whom=met_whom.strip(),
        notes=notes.strip(),
        by=by,
    )
    FindingCheck.objects.bulk_create(
        FindingCheck(
            finding=finding,
            field=c["field"],
            correct=bool(c.get("correct")),
            recorded=card_value(child, c["field"])[:200],
            found=(c.get("found") or "").strip()[:200],
            correction=(
                Correction.PROPOSED
                if not c.get("correct") and card_key(child, c["field"])
                else Correction.NONE
            ),
        )
        for c in checks
    )
    return finding


def accuracy(inspection: Inspection) -> dict[str, Any]:
    """The card accuracy of the inspected school in this inspection: fields checked, wrong,
    the rate (None before any check) and the discrepancies."""
    checks = list(
        FindingCheck.objects.filter(finding__inspection=inspection).select_related("finding__child")
    )
    wrong = [c for c in checks if not c.correct]
    rate = round((len(checks) - len(wrong)) / len(checks), 4) if checks else None
    return {
        "checked": len(checks),
        "wrong": len(wrong),
        "rate": rate,
        "discrepancies": [
            {
                "check": c.pk,
                "child": c.finding.child_id,
                "child_name": c.finding.child.name,
                "field": c.field,
                "field_label": c.get_field_display(),
                "recorded": c.recorded,
                "found": c.found,
                "correction": c.correction or None,
            }
            for c in wrong
        ],
    }


@transaction.atomic
def decide_correction(*, check: FindingCheck, accept: bool, by) -> FindingCheck:
    """The class teacher accepts a proposed correction (written to the card, the history naming
    the inspection) or rejects it."""
    check = (
        FindingCheck.objects.select_for_update()
        .select_related("finding__inspection")
        .get(pk=check.pk)
    )
    if check.correction != Correction.PROPOSED:
        raise Invalid({"correction": "这条更正已经处理过了"})
    child = Child.objects.get(pk=check.finding.child_id)
    if accept:
        key = card_key(child, check.field)
        inspection = check.finding.inspection
        update_child(
            child=child,
            data={key: check.found},
            version=child.version,
            by=by,
            reason=f"督导检查（{inspection}）核实更正：{check.get_field_display()}",
        )
    check.correction = Correction.ACCEPTED if accept else Correction.REJECTED
    check.decided_by = by
    check.decided_at = timezone.now()
    check.save(update_fields=["correction", "decided_by", "decided_at"])
    return check


# --- rectification items ---------------------------------------------------------------------


@transaction.atomic
def raise_item(
    *,
    inspection: Inspection | None,
    school: School,
    title: str,
    owner,
    due_on: dt.date,
    by,
    finding: Finding | None = None,
    checklist_item: ChecklistItem | None = None,
) -> Rectification:
    """A 整改 item for a person of the school, from an inspection (or on its own)."""
    errors = {}
    if not title.strip():
        errors["title"] = "整改事项不能为空"
    if not school_staff(school).filter(pk=owner.pk).exists():
        errors["owner"] = "责任人应为该校的教职工"
    if errors:
        raise Invalid(errors)
    return Rectification.objects.create(
        school=school,
        inspection=inspection,
        finding=finding,
        checklist_item=checklist_item,
        title=title.strip(),
        owner=owner,
        due_on=due_on,
        created_by=by,
    )


MAX_PHOTO_BYTES = 5 * 2**20
MAX_PHOTOS = 5


def prepare_photos(photos: list) -> list[ContentFile]:
    """Evidence photos: JPEG or PNG, at most 5 MB and 5 of them, each decoded and re-encoded
    (lib.photos) so what is stored and served is an image the app made. Raises Invalid."""
    if len(photos) > MAX_PHOTOS:
        raise Invalid({"photos": f"一次最多上传 {MAX_PHOTOS} 张照片"})
    out = []
    for upload in photos:
        if upload.size > MAX_PHOTO_BYTES:
            raise Invalid({"photos": f"照片“{(upload.name or '')[:40]}”超过 5 MB"})
        try:
            photo = reencode_photo(upload, name=upload.name or "")
        except PhotoError as exc:
            raise Invalid({"photos": str(exc)}) from exc
        out.append(ContentFile(photo.data, name=f"{uuid.uuid4().hex}.{photo.ext}"))
    return out


# --- attachments: photos and documents on checklist items and 整改 items ----------------------

MAX_FILES = 5  # in one upload
MAX_ATTACHMENTS = 20  # on one checklist item or 整改 item
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@dataclass(frozen=True)
class Prepared:
    kind: str  # an AttachmentKind value
    name: str  # shown and downloaded under
    content: ContentFile


def prepare_files(files: list, *, field: str = "files") -> list[Prepared]:
    """Uploads of a photo (JPEG/PNG, decoded and re-encoded by lib.photos) or a document (PDF,
    .docx, .xlsx, recognised by its bytes: documents.read_document), at most 10 MB each and
    MAX_FILES at once. Raises Invalid({field: 中文}) naming the file."""
    if len(files) > MAX_FILES:
        raise Invalid({field: f"一次最多上传 {MAX_FILES} 个文件"})
    out = []
    for upload in files:
        name = (upload.name or "")[:200]
        if upload.size is not None and upload.size > documents.MAX_BYTES:
            raise Invalid({field: f"文件“{name[:40]}”超过 {documents.MAX_BYTES // 2**20} MB"})
        head = upload.read(8)
        upload.seek(0)
        try:
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if head.startswith(IMAGE_MAGIC) and ext in documents.EXTENSIONS:
                label = documents.KINDS[ext][2]
                raise documents.DocumentError(f"文件“{name[:40]}”是照片，不是真正的 {label} 文件")
            if head.startswith(IMAGE_MAGIC):
                photo = reencode_photo(upload, name=name)
                out.append(
                    Prepared(
                        AttachmentKind.PHOTO,
                        f"{documents.clean_stem(name)}.{photo.ext}",
                        ContentFile(photo.data, name=f"x.{photo.ext}"),
                    )
                )
            else:
                doc = documents.read_document(upload, name=name, size=upload.size)
                out.append(
                    Prepared(doc.kind, doc.name, ContentFile(doc.data, name=f"x.{doc.kind}"))
                )
        except (PhotoError, documents.DocumentError) as exc:
            raise Invalid({field: str(exc)}) from exc
    return out


def _store(prepared: list[Prepared], *, school: School, by, **owner) -> list[Attachment]:
    return [
        Attachment.objects.create(
            school=school,
            kind=p.kind,
            name=p.name[:100],
            size=p.content.size,
            file=p.content,
            uploaded_by=by,
            **owner,
        )
        for p in prepared
    ]


@transaction.atomic
def attach_to_item(*, item: ChecklistItem, files: list, by) -> list[Attachment]:
    """Files on a checklist item of an inspection not yet closed (the activity plan, the
    meeting photo, a scanned 台账 page)."""
    inspection = item.inspection
    if inspection.status == Status.CLOSED:
        raise Invalid({"files": "检查已结束，不能再添加附件"})
    if not files:
        raise Invalid({"files": "请选择要上传的文件"})
    if item.attachments.count() + len(files) > MAX_ATTACHMENTS:
        raise Invalid({"files": f"每个检查项目最多 {MAX_ATTACHMENTS} 个附件"})
    prepared = prepare_files(files)
    return _store(prepared, school=inspection.school, by=by, checklist_item=item)


@transaction.atomic
def attach_evidence(*, item: Rectification, files: list, by) -> list[Attachment]:
    """Evidence files on a 整改 item not yet closed: documents (PDF, .docx, .xlsx) and photos."""
    if item.status == ItemStatus.CLOSED:
        raise Invalid({"files": "已销号的整改事项不能再修改"})
    if not files:
        raise Invalid({"files": "请选择要上传的文件"})
    if item.files.count() + item.photos.count() + len(files) > MAX_ATTACHMENTS:
        raise Invalid({"files": f"每个整改事项最多 {MAX_ATTACHMENTS} 个附件"})
    prepared = prepare_files(files)
    return _store(prepared, school=item.school, by=by, rectification=item)


@transaction.atomic
def remove_attachment(*, attachment: Attachment, by) -> None:
    """Take a file off its item (a wrong upload) while the inspection or item is open."""
    item = attachment.checklist_item
    if item is not None and item.inspection.status == Status.CLOSED:
        raise Invalid({"files": "检查已结束，不能再删除附件"})
    if (
        attachment.rectification is not None
        and attachment.rectification.status == ItemStatus.CLOSED
    ):
        raise Invalid({"files": "已销号的整改事项不能再修改"})
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))  # the row first: never a dangling row


@transaction.atomic
def mark_done(
    *,
    item: Rectification,
    evidence: str,
    by,
    photos: list | None = None,
    files: list | None = None,
) -> Rectification:
    """The owner (or a leader of the school) reports the item done, with evidence: text and
    optional photos and files (documents or photos)."""
    if item.status == ItemStatus.CLOSED:
        raise Invalid({"status": "已销号的整改事项不能再修改"})
    if not evidence.strip():
        raise Invalid({"evidence": "请填写整改情况"})
    for content in prepare_photos(photos or []):
        EvidencePhoto.objects.create(item=item, file=content)
    if files:
        attach_evidence(item=item, files=files, by=by)
    item.status = ItemStatus.DONE
    item.evidence = evidence.strip()
    item.done_at = timezone.now()
    item.save(update_fields=["status", "evidence", "done_at", "updated_at"])
    return item


@transaction.atomic
def close_item(*, item: Rectification, by) -> Rectification:
    """The inspectors close (销号) an item reported done."""
    if item.status != ItemStatus.DONE:
        raise Invalid({"status": "整改完成并提交整改情况后才能销号"})
    item.status = ItemStatus.CLOSED
    item.closed_by = by
    item.closed_at = timezone.now()
    item.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
    return item


def check_inspect(user) -> None:
    """403 unless the user's role may inspect at all (town administrators and inspectors)."""
    if not (user.is_superuser or scope.units(user, "inspect")):
        raise PermissionDenied("只有镇管理员和督导员可以进行督导检查")


# --- what people see on their home page and the town's overview --------------------------------


def open_by_school(user) -> list[dict[str, Any]]:
    """Open and done-but-not-closed items of the schools the user inspects, per school: how many,
    how many overdue, and the age in days of the oldest (the town's follow-up view)."""
    today = timezone.localdate()
    schools = scope.schools(user, "inspect")
    rows: dict[int, dict[str, Any]] = {}
    items = Rectification.objects.filter(school__in=schools).exclude(status=ItemStatus.CLOSED)
    for item in items.select_related("school").order_by("school__code", "created_at"):
        row = rows.setdefault(
            item.school_id,
            {"school": item.school, "open": 0, "done": 0, "overdue": 0, "oldest_days": 0},
        )
        row["open" if item.status == ItemStatus.OPEN else "done"] += 1
        if item.status == ItemStatus.OPEN and item.due_on < today:
            row["overdue"] += 1
        age = (today - timezone.localtime(item.created_at).date()).days
        row["oldest_days"] = max(row["oldest_days"], age)
    return list(rows.values())


def home_panel(user) -> dict[str, Any]:
    """The inspection part of a person's 我的待办: the open items she owns (overdue first) and
    the corrections waiting for her decision."""
    today = timezone.localdate()
    mine = list(
        Rectification.objects.filter(owner=user, status=ItemStatus.OPEN)
        .select_related("school")
        .order_by("due_on", "id")[:10]
    )
    corrections = FindingCheck.objects.filter(
        finding__child__in=Child.objects.visible_to(user, "change"),
        correction=Correction.PROPOSED,
    ).count()
    return {"items": mine, "corrections": corrections, "today": today}


@transaction.atomic
def set_town_checklist(*, town, titles: list[str]) -> list[ChecklistTemplateItem]:
    """Replace the town's checklist template by `titles` in order (one per item): kept titles
    stay, new ones are added, dropped ones are switched off (inspections already made keep
    their own copy)."""
    titles = list(dict.fromkeys(t.strip() for t in titles if t.strip()))
    if not titles:
        raise Invalid({"titles": "检查项目至少要有一项"})
    if too_long := [t for t in titles if len(t) > 100]:
        raise Invalid({"titles": f"检查项目最多 100 个字：“{too_long[0][:20]}…”"})
    town_checklist(town)  # the defaults first, so that dropping one of them is remembered
    existing = {i.title: i for i in ChecklistTemplateItem.objects.filter(town=town)}
    for item in existing.values():
        item.active = False
    for position, title in enumerate(titles):
        item = existing.get(title) or ChecklistTemplateItem(town=town, title=title)
        item.position, item.active = position, True
        existing[title] = item
        item.save()
    ChecklistTemplateItem.objects.bulk_update(existing.values(), ["active", "position"])
    return [existing[t] for t in titles]


def check_may_correct(user, check: FindingCheck) -> None:
    """403 unless the user may change the card the correction is for (its class teacher, the
    school's leaders, the town): a reader who sees the child — the inspector — may not."""
    if not Child.objects.visible_to(user, "change").filter(pk=check.finding.child_id).exists():
        raise PermissionDenied("只有能修改该档卡的老师可以处理更正")


def accuracy_by_school(inspections) -> list[dict[str, Any]]:
    """Card accuracy per school over the given inspections (checked fields, wrong ones, rate),
    in one query: how true each school's cards are."""
    from django.db.models import Count

    rows = (
        FindingCheck.objects.filter(finding__inspection__in=inspections)
        .values("finding__inspection__school__name", "finding__inspection__school__code")
        .annotate(checked=Count("id"), wrong=Count("id", filter=Q(correct=False)))
        .order_by("finding__inspection__school__code")
    )
    return [
        {
            "school": r["finding__inspection__school__name"],
            "checked": r["checked"],
            "wrong": r["wrong"],
            "percent": f"{(r['checked'] - r['wrong']) / r['checked'] * 100:.1f}%",
        }
        for r in rows
    ]
