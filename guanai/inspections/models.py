"""督导检查: an inspection of one school with its checklist, its random sample, the findings of
the visits, the corrections they propose and the rectification items (整改) they raise."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from guanai.accounts import scope

# The checklist of a new town (editable per town): the seed's 督导 and the usual 台账 items.
DEFAULT_CHECKLIST = [
    "活动方案",
    "领导汇报",
    "教师座谈",
    "档案随机走访",
    "台账完整",
    "结对落实",
    "家访记录",
    "代理家长",
]


class Status(models.TextChoices):
    PLANNED = "planned", "计划中"
    IN_PROGRESS = "in_progress", "进行中"
    REPORTED = "reported", "已出报告"
    CLOSED = "closed", "已结束"


# The card fields an inspector checks in a home visit, and the card key a correction writes.
# `category` is derived from the parents' facts (never typed): a wrong one is a discrepancy for
# the teacher to resolve through the parents' status, not a correction to apply.
class CheckField(models.TextChoices):
    ADDRESS = "address", "家庭住址"
    GUARDIAN = "guardian", "监护人"
    GUARDIAN_PHONE = "guardian_phone", "监护人电话"
    FATHER_STATUS = "father_status", "父亲状况"
    MOTHER_STATUS = "mother_status", "母亲状况"
    WORK_PLACE = "work_place", "父母务工地"
    CATEGORY = "category", "留守类别"


CARD_KEY = {
    "address": "address",
    "guardian": "guardian.name",
    "guardian_phone": "guardian.phone",
    "father_status": "father.status",
    "mother_status": "mother.status",
    "work_place": None,  # the away parent's, chosen when applied (corrections.card_key)
    "category": None,
}


class InspectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InspectionQuerySet":
        """Inspections the user may read: the town's (administrators, inspectors) and those of
        the school a leader leads. Everyone else finds none (404)."""
        town = scope.unit_q(user, "inspect", town="school__town_id", school="school_id")
        if town is None:
            return self
        lead = scope.unit_q(user, "lead_school", town="school__town_id", school="school_id")
        return self.filter(town | lead)

    def inspectable_by(self, user) -> "InspectionQuerySet":
        """Inspections the user may work on (draw, record findings, change the checklist)."""
        cond = scope.unit_q(user, "inspect", town="school__town_id", school="school_id")
        return self if cond is None else self.filter(cond)


class Inspection(models.Model):
    """督导检查 of one school. The sample is drawn once, from `eligible` — the school's enrolled
    单留守/双留守 children on `drawn_on`, as [[child id, grade], …] ordered by id — with `seed`;
    both are stored so that `sampling.draw(seed, eligible, sample_size)` re-derives `sample`
    whatever the cards say later."""

    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="inspections", verbose_name="学校"
    )
    planned_on = models.DateField("计划日期")
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    seed = models.CharField("随机种子", max_length=100)
    sample_size = models.PositiveIntegerField("抽样人数")
    drawn_on = models.DateField("抽样日期")
    eligible = models.JSONField("抽样名单（儿童编号、年级）", default=list)
    sample = models.JSONField("抽中的儿童编号", default=list)
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="inspections", blank=True, verbose_name="检查人员"
    )
    previous = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_by",
        verbose_name="上次检查",
    )
    meeting_attendees = models.TextField("座谈会参加人员", blank=True)
    meeting_points = models.TextField("座谈会意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="创建人",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = "督导检查"
        verbose_name_plural = "督导检查"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.school.name} {self.planned_on:%Y-%m-%d}"

    @property
    def sample_open(self) -> bool:
        """Whether the inspected school may see the sample: not before the visit starts."""
        return self.status != Status.PLANNED


class ChecklistTemplateItem(models.Model):
    """One item of a town's checklist template, copied into each new inspection."""

    town = models.ForeignKey(
        "org.Town", models.CASCADE, related_name="checklist_items", verbose_name="镇"
    )
    title = models.CharField("检查项目", max_length=100)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "检查项目模板"
        verbose_name_plural = "检查项目模板"
        ordering = ["town_id", "position", "id"]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(models.Model):
    """An item of one inspection's checklist with its score (0–10) and notes."""

    inspection = models.ForeignKey(
        Inspection, models.CASCADE, related_name="checklist", verbose_name="督导检查"
    )
    title = models.CharField("检查项目", max_length=100)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    score = models.PositiveSmallIntegerField("得分", null=True, blank=True)
    notes = models.TextField("情况记录", blank=True)

    class Meta:
        verbose_name = "检查项目"
        verbose_name_plural = "检查项目"
        ordering = ["inspection_id", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Finding(models.Model):
    """What the inspectors found for one sampled child: visited or called, whom they met, and
    the field-by-field check of the card (`checks`)."""

    inspection = models.ForeignKey(
        Inspection, models.CASCADE, related_name="findings", verbose_name="督导检查"
    )
    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="inspection_findings", verbose_name="儿童"
    )
    visited = models.BooleanField("已入户走访", default=True)
    met_whom = models.CharField("见到的人", max_length=100, blank=True)
    notes = models.TextField("备注", blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="记录人",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "走访结果"
        verbose_name_plural = "走访结果"
        ordering = ["inspection_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "child"], name="inspections_finding_once_per_child"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id}: {self.child_id}"


class Correction(models.TextChoices):
    NONE = "", "无"
    PROPOSED = "proposed", "待班主任确认"
    ACCEPTED = "accepted", "已更正"
    REJECTED = "rejected", "未采纳"


class FindingCheck(models.Model):
    """One field of the card checked in a visit: the card's value then, correct or not, and the
    true value found; a wrong value of a typed field is a proposed correction."""

    finding = models.ForeignKey(
        Finding, models.CASCADE, related_name="checks", verbose_name="走访结果"
    )
    field = models.CharField("核对项目", max_length=20, choices=CheckField.choices)
    correct = models.BooleanField("正确")
    recorded = models.CharField("档卡记载", max_length=200, blank=True)
    found = models.CharField("实际情况", max_length=200, blank=True)
    correction = models.CharField(
        "更正", max_length=10, choices=Correction.choices, default=Correction.NONE, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="处理人",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "核对项"
        verbose_name_plural = "核对项"
        ordering = ["finding_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "field"], name="inspections_check_once")
        ]

    def __str__(self) -> str:
        return self.get_field_display()


class ItemStatus(models.TextChoices):
    OPEN = "open", "待整改"
    DONE = "done", "已整改待验收"
    CLOSED = "closed", "已销号"


class RectificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RectificationQuerySet":
        """The town's items (administrators, inspectors), a leader's school's, and one's own."""
        town = scope.unit_q(user, "inspect", town="school__town_id", school="school_id")
        if town is None:
            return self
        lead = scope.unit_q(user, "lead_school", town="school__town_id", school="school_id")
        return self.filter(town | lead | Q(owner=user))


class Rectification(models.Model):
    """整改 item of a school: raised from an inspection (a checklist item or a finding), owned by
    a person of the school, done with evidence, closed by the inspectors."""

    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="rectifications", verbose_name="学校"
    )
    inspection = models.ForeignKey(
        Inspection,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="rectifications",
        verbose_name="督导检查",
    )
    finding = models.ForeignKey(
        Finding,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="rectifications",
        verbose_name="走访结果",
    )
    checklist_item = models.ForeignKey(
        ChecklistItem,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="rectifications",
        verbose_name="检查项目",
    )
    title = models.CharField("整改事项", max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="rectifications",
        verbose_name="责任人",
    )
    due_on = models.DateField("整改期限")
    status = models.CharField(
        "状态", max_length=8, choices=ItemStatus.choices, default=ItemStatus.OPEN, db_index=True
    )
    evidence = models.TextField("整改情况", blank=True)
    done_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="销号人",
    )
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="提出人",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = "整改事项"
        verbose_name_plural = "整改事项"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


def evidence_path(instance: "EvidencePhoto", filename: str) -> str:
    """A generated name under the school's folder; only .jpg or .png (re-encoded on upload,
    guanai.lib.photos), which the photo view serves the content type from."""
    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"rectifications/{instance.item.school_id}/{uuid.uuid4().hex}.{ext}"


class EvidencePhoto(models.Model):
    """A photo showing that a 整改 item was done (a filled-in register, a repaired room),
    served only to those who see the item."""

    item = models.ForeignKey(
        Rectification, models.CASCADE, related_name="photos", verbose_name="整改事项"
    )
    file = models.FileField("照片", upload_to=evidence_path)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "整改照片"
        verbose_name_plural = "整改照片"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.item} 照片"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", "照片"
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word"
    XLSX = "xlsx", "Excel"


# The stored extension and the content type served, by kind (never sniffed when served).
ATTACHMENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def attachment_path(instance: "Attachment", filename: str) -> str:
    """A generated name under the school's folder with one of the known extensions (the upload
    was recognised and, for a photo, re-encoded before it got here)."""
    ext = filename.rsplit(".", 1)[-1].lower()
    ext = ext if ext in ATTACHMENT_TYPES else "bin"
    return f"inspections/{instance.school_id}/{uuid.uuid4().hex}.{ext}"


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AttachmentQuerySet":
        """Files of the checklist items of inspections the user reads, and of the 整改 items
        the user sees."""
        return self.filter(
            Q(checklist_item__inspection__in=Inspection.objects.visible_to(user))
            | Q(rectification__in=Rectification.objects.visible_to(user))
        )


class Attachment(models.Model):
    """A file on a checklist item (the activity plan, the meeting photo, a scanned 台账 page)
    or on a 整改 item (a document as evidence): a re-encoded photo, a PDF, .docx or .xlsx whose
    bytes were checked. Served only to those who read its record; each download is logged."""

    school = models.ForeignKey("org.School", models.PROTECT, related_name="+", verbose_name="学校")
    checklist_item = models.ForeignKey(
        ChecklistItem,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name="检查项目",
    )
    rectification = models.ForeignKey(
        Rectification,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="files",
        verbose_name="整改事项",
    )
    kind = models.CharField("类型", max_length=8, choices=AttachmentKind.choices)
    name = models.CharField("文件名", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    file = models.FileField("文件", upload_to=attachment_path)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="上传人",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checklist_item__isnull=False, rectification__isnull=True)
                | Q(checklist_item__isnull=True, rectification__isnull=False),
                name="inspections_attachment_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def content_type(self) -> str:
        return ATTACHMENT_TYPES.get(self.file.name.rsplit(".", 1)[-1].lower(), "")

    @property
    def size_label(self) -> str:
        """The size as people read it: in MB, one decimal, at least 0.1."""
        return f"{max(0.1, self.size / 2**20):.1f} MB"
