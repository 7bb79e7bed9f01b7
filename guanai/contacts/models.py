"""家校联系: contacts with families, frequency rules, visit plans, letters and the outbox."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from guanai.lib.fields import EncryptedText

# Receipt codes avoid characters that are easily misread on paper (0/O, 1/I/L, 2/Z, 5/S, 8/B).
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 6


class ContactKind(models.TextChoices):
    HOME_VISIT = "home_visit", "家访"
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"
    MESSAGE = "message", "平台消息/短信"
    LETTER = "letter", "书信"
    MEETING = "meeting", "来校面谈"
    FAMILY_CALL = "family_call", "亲情电话"


class FindingLevel(models.TextChoices):
    NORMAL = "normal", "正常"
    WATCH = "watch", "关注"
    FOLLOW_UP = "follow_up", "重点关注"


# The four areas a contact's findings cover: (key, label). Fields are `<key>_level`/`<key>_text`.
FINDING_AREAS = [("study", "学习"), ("life", "生活"), ("psych", "心理"), ("safety", "安全")]


def _holds_every_child(children) -> bool:
    """Whether a scoped queryset of children holds every card (one statement for both counts,
    so they see the same rows even while cards are added)."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    try:
        sql, params = children.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # no role at all
        return False
    table = connection.ops.quote_name(children.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({sql}) s) = (SELECT COUNT(*) FROM {table})", params
        )
        return bool(cursor.fetchone()[0])


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user, *, listing: bool = False) -> "ContactQuerySet":
        """Contacts of the children the user may see: the one scope method, applied to the child.

        For a long listing (`listing`), a user whose scope holds every child — a town's
        administrator or inspector on the town's server — gets the rows unfiltered: the filter
        would keep every row but cost SQLite a pass over every contact of the town for the count
        and the page (bench/contacts.py). The same rows either way."""
        from guanai.children.models import Child

        children = Child.objects.visible_to(user)
        if listing and _holds_every_child(children):
            return self
        return self.filter(child__in=children.values("pk"))

    def open_follow_ups(self) -> "ContactQuerySet":
        return self.filter(follow_up_by__isnull=False, follow_up_done_at__isnull=True)


class Contact(models.Model):
    """One contact with a child's family: when, how, by whom, with whom, what was found, and the
    follow-up it needs.

    Contacts are the evidence the frequency rules count (`contacts.rules`). A request made with
    an `Idempotency-Key` keeps the key and a digest of its body, so a resubmit after a network
    drop answers the first contact instead of creating a second one.
    """

    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="contacts", verbose_name="儿童"
    )
    kind = models.CharField("联系方式", max_length=12, choices=ContactKind.choices)
    at = models.DateTimeField("联系时间")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="contacts", verbose_name="联系人"
    )
    with_whom = models.CharField("联系对象", max_length=100, blank=True)
    notes = models.TextField("情况记录", blank=True)
    study_level = models.CharField("学习", max_length=10, choices=FindingLevel.choices, blank=True)
    study_text = models.CharField("学习情况", max_length=500, blank=True)
    life_level = models.CharField("生活", max_length=10, choices=FindingLevel.choices, blank=True)
    life_text = models.CharField("生活情况", max_length=500, blank=True)
    psych_level = models.CharField("心理", max_length=10, choices=FindingLevel.choices, blank=True)
    psych_text = EncryptedText("心理情况", max_length=500, blank=True, single_line=True)
    safety_level = models.CharField("安全", max_length=10, choices=FindingLevel.choices, blank=True)
    safety_text = models.CharField("安全情况", max_length=500, blank=True)
    follow_up_by = models.DateField("跟进截止日期", null=True, blank=True)
    follow_up_done_at = models.DateTimeField("跟进完成时间", null=True, blank=True)
    follow_up_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="跟进完成人",
    )
    follow_up_note = models.CharField("跟进结果", max_length=500, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=100, blank=True)
    request_digest = models.CharField("请求摘要", max_length=64, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # Corrections keep every earlier version (who, when, why): nothing is ever lost.
    history = HistoricalRecords(
        excluded_fields=["updated_at", "idempotency_key", "request_digest", "created_at"]
    )
    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = "家校联系"
        verbose_name_plural = "家校联系"
        ordering = ["id"]
        indexes = [
            # the frequency rules: a child's last contact of some kinds
            models.Index(fields=["child", "kind", "at"], name="contact_child_kind_at"),
            # the proxy-parent rule: a child's last contact by one of its proxy parents (the
            # due list reads a proxy parent's few contacts, not all of the child's)
            models.Index(fields=["child", "by", "at"], name="contact_child_by_at"),
            models.Index(fields=["at"], name="contact_at"),
            models.Index(fields=["by", "at"], name="contact_by_at"),
            models.Index(
                fields=["follow_up_by"],
                name="contact_open_follow_up",
                condition=Q(follow_up_by__isnull=False, follow_up_done_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="contact_idempotency_key_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} · {self.get_kind_display()} · {self.at:%Y-%m-%d}"

    def findings(self) -> list[dict]:
        """The areas with something recorded: [{"area", "label", "level", "level_label", "text"}]."""
        out = []
        labels = dict(FindingLevel.choices)
        for key, label in FINDING_AREAS:
            level, text = getattr(self, f"{key}_level"), getattr(self, f"{key}_text")
            if level or text:
                out.append(
                    {
                        "area": key,
                        "label": label,
                        "level": level,
                        "level_label": labels.get(level, ""),
                        "text": text,
                    }
                )
        return out

    @property
    def follow_up_open(self) -> bool:
        return self.follow_up_by is not None and self.follow_up_done_at is None


def photo_path(instance: "ContactPhoto", filename: str) -> str:
    """A generated name under the child's folder. Only the extension of the re-encoded file
    (services.prepare_photos) survives, and only as .jpg or .png: the photo view serves the
    content type from it."""
    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"contacts/{instance.contact.child_id}/{uuid.uuid4().hex}.{ext}"


class ContactSummary(models.Model):
    """One row per child: the latest contact of each kind, its time (`<kind>_at`) and local day
    (`<kind>_day`, days since 1970-01-01 in Asia/Shanghai), NULL when none. The due list reads
    a child's row by primary key (`contacts.due`). Kept below the ORM by triggers on the
    contacts table (`contacts.contact_summary`, installed by migration 0009): every insert,
    correction, deletion and cascade keeps it current, whatever code wrote. No code writes it. A new `ContactKind` needs its two
    columns here."""

    child = models.OneToOneField(
        "children.Child",
        models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="+",
        verbose_name="儿童",
    )
    home_visit_at = models.DateTimeField(null=True)
    home_visit_day = models.IntegerField(null=True)
    phone_at = models.DateTimeField(null=True)
    phone_day = models.IntegerField(null=True)
    video_at = models.DateTimeField(null=True)
    video_day = models.IntegerField(null=True)
    message_at = models.DateTimeField(null=True)
    message_day = models.IntegerField(null=True)
    letter_at = models.DateTimeField(null=True)
    letter_day = models.IntegerField(null=True)
    meeting_at = models.DateTimeField(null=True)
    meeting_day = models.IntegerField(null=True)
    family_call_at = models.DateTimeField(null=True)
    family_call_day = models.IntegerField(null=True)

    class Meta:
        verbose_name = "联系摘要"
        verbose_name_plural = "联系摘要"
        # covering: the due list reads a child's days without the row
        indexes = [
            models.Index(
                fields=[
                    "child",
                    "home_visit_day",
                    "phone_day",
                    "video_day",
                    "message_day",
                    "letter_day",
                    "meeting_day",
                    "family_call_day",
                ],
                name="contactsummary_days",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id}"


class ContactPhoto(models.Model):
    """A photo taken during a contact; only stored when the card records the guardian's photo
    consent, and served only to users who may see the child."""

    contact = models.ForeignKey(
        Contact, models.CASCADE, related_name="photos", verbose_name="联系记录"
    )
    file = models.FileField("照片", upload_to=photo_path)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "家访照片"
        verbose_name_plural = "家访照片"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.contact} 照片"


class RulePeriod(models.TextChoices):
    TERM = "term", "每学期一次"
    DAYS = "days", "每 N 天一次"


class RuleAudience(models.TextChoices):
    CATEGORY = "category", "按儿童类别"
    PROXY = "proxy", "有代理家长的儿童"


class ContactRule(models.Model):
    """A frequency rule (联系频次): children of some categories need a contact of some kinds at
    least once a term or once every N days. Town rules apply to every school of the town; a
    school's rule with the same code overrides the town's. Without rows, the built-in defaults
    of `contacts.rules.DEFAULT_RULES` apply."""

    town = models.ForeignKey(
        "org.Town",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_rules",
        verbose_name="镇",
    )
    school = models.ForeignKey(
        "org.School",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_rules",
        verbose_name="学校",
    )
    code = models.CharField("规则代码", max_length=30)
    name = models.CharField("名称", max_length=50)
    kinds = models.JSONField("算作完成的联系方式", default=list)
    period = models.CharField("频次", max_length=6, choices=RulePeriod.choices)
    days = models.PositiveSmallIntegerField(
        "天数",
        default=30,
        help_text="“每 N 天一次”：上次联系当天算第 1 天，第 N 天仍在期限内，第 N+1 天起列入待联系。",
    )
    categories = models.JSONField("适用儿童类别", default=list)
    audience = models.CharField(
        "适用对象",
        max_length=10,
        choices=RuleAudience.choices,
        default=RuleAudience.CATEGORY,
        help_text="“有代理家长的儿童”：只算当前代理家长本人做的联系，不看儿童类别。",
    )
    active = models.BooleanField("启用", default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修改人",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "联系频次规则"
        verbose_name_plural = "联系频次规则"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(town__isnull=False, school__isnull=True)
                | Q(town__isnull=True, school__isnull=False),
                name="contact_rule_town_or_school",
            ),
            models.UniqueConstraint(
                fields=["town", "code"],
                condition=Q(school__isnull=True),
                name="contact_rule_town_code_once",
            ),
            models.UniqueConstraint(
                fields=["school", "code"],
                condition=Q(town__isnull=True),
                name="contact_rule_school_code_once",
            ),
            models.CheckConstraint(condition=Q(days__gte=1), name="contact_rule_days_min"),
        ]

    def __str__(self) -> str:
        return self.name


class PlannedVisit(models.Model):
    """A home visit a teacher plans for a week (the weekly visit plan built from the due list)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="planned_visits",
        verbose_name="教师",
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="planned_visits", verbose_name="儿童"
    )
    week = models.DateField("周一日期")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "家访计划"
        verbose_name_plural = "家访计划"
        ordering = ["week", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "child", "week"], name="planned_visit_once_a_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.child} · {self.week}"


class VisitRound(models.Model):
    """A named round of home visits (普访), e.g. "2026 秋季学期普访": a period over which every
    child (or every left-behind child) of a town or one school should be visited at home once.
    Its coverage is counted from the home-visit contacts inside the period."""

    town = models.ForeignKey(
        "org.Town",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="visit_rounds",
        verbose_name="镇",
    )
    school = models.ForeignKey(
        "org.School",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="visit_rounds",
        verbose_name="学校",
    )
    name = models.CharField("名称", max_length=60)
    since = models.DateField("开始日期")
    until = models.DateField("结束日期")
    left_behind_only = models.BooleanField("只统计留守儿童", default=False)
    notes = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="创建人",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "普访轮次"
        verbose_name_plural = "普访轮次"
        ordering = ["-since", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(town__isnull=False, school__isnull=True)
                | Q(town__isnull=True, school__isnull=False),
                name="visit_round_town_or_school",
            ),
            models.CheckConstraint(
                condition=Q(until__gte=models.F("since")), name="visit_round_until_after_since"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- letters to families ------------------------------------------------------------------------


class LetterTemplate(models.Model):
    """A letter to families (致家长的一封信): title and body with placeholders such as
    {学生姓名}. Built-in templates (the vacation safety letter) belong to no town."""

    town = models.ForeignKey(
        "org.Town",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="letter_templates",
        verbose_name="镇",
    )
    school = models.ForeignKey(
        "org.School",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="letter_templates",
        verbose_name="学校",
    )
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文")
    receipt_text = models.CharField(
        "回执内容", max_length=300, default="我已收到并认真阅读此信，知悉并将履行监护责任。"
    )
    built_in = models.BooleanField("内置模板", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="创建人",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "家长信模板"
        verbose_name_plural = "家长信模板"
        ordering = ["-built_in", "id"]

    def __str__(self) -> str:
        return self.title


class LetterBatch(models.Model):
    """One printing of a letter for a class, grade or school: the text as printed, the letters
    (one per family, each with its receipt code) and the PDF."""

    template = models.ForeignKey(
        LetterTemplate,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="batches",
        verbose_name="模板",
    )
    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="letter_batches", verbose_name="学校"
    )
    grade = models.PositiveSmallIntegerField("年级", null=True, blank=True)
    school_class = models.ForeignKey(
        "org.SchoolClass",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="letter_batches",
        verbose_name="班级",
    )
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文")
    receipt_text = models.CharField("回执内容", max_length=300)
    values = models.JSONField("日期等填充内容", default=dict, blank=True)
    pdf = models.CharField("PDF 文件", max_length=300, blank=True)
    job = models.ForeignKey(
        "jobs.Job", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="任务"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="letter_batches",
        verbose_name="打印人",
    )
    created_at = models.DateTimeField("打印时间", auto_now_add=True)

    class Meta:
        verbose_name = "家长信批次"
        verbose_name_plural = "家长信批次"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.title} · {self.scope_label}"

    @property
    def scope_label(self) -> str:
        from guanai.lib.grades import grade_name

        if self.school_class_id:
            return f"{self.school.name} {self.school_class}"
        if self.grade is not None:
            return f"{self.school.name} {grade_name(self.grade)}"
        return self.school.name


def new_receipt_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Letter(models.Model):
    """One family's copy of a letter; its receipt slip (回执) carries `code`, typed or scanned
    when the signed slip comes back.

    A family is the children of the batch who share a guardian (same guardian phone, or the
    same guardian name and address when there is no phone): brothers and sisters get one
    letter, addressed to their guardian and naming each of them. `child` is the first of them
    (the eldest); `children` lists them all (`LetterChild`), and a returned slip counts for
    every one of them."""

    batch = models.ForeignKey(
        LetterBatch, models.CASCADE, related_name="letters", verbose_name="批次"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="letters", verbose_name="儿童"
    )
    code = models.CharField("回执编号", max_length=12, unique=True, default=new_receipt_code)
    children = models.ManyToManyField(
        "children.Child",
        through="LetterChild",
        related_name="family_letters",
        verbose_name="本户儿童",
    )
    family_key = models.CharField("家庭标识", max_length=64, blank=True)
    guardian_name = models.CharField("收信人", max_length=60, blank=True)
    returned_at = models.DateTimeField("回执收回时间", null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登记人",
    )

    class Meta:
        verbose_name = "家长信"
        verbose_name_plural = "家长信"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "child"], name="letter_once_per_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.batch.title} · {self.child} · {self.code}"


class LetterChild(models.Model):
    """A child named in a family's letter. Each child appears in at most one letter of a batch."""

    letter = models.ForeignKey(
        Letter, models.CASCADE, related_name="letter_children", verbose_name="家长信"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="letter_children", verbose_name="儿童"
    )
    batch = models.ForeignKey(LetterBatch, models.CASCADE, related_name="+", verbose_name="批次")

    class Meta:
        verbose_name = "家长信儿童"
        verbose_name_plural = "家长信儿童"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "child"], name="letter_child_once_per_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} · {self.child_id}"


# --- messages to guardians (校信通) ----------------------------------------------------------------


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", "排队"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "失败"


class MessageQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MessageQuerySet":
        """Messages with at least one recipient the user may see (and those they sent)."""
        from guanai.children.models import Child

        kids = Child.objects.visible_to(user).values("pk")
        return self.filter(
            Q(created_by=user)
            | Q(pk__in=Recipient.objects.filter(child__in=kids).values("message"))
        )


class Message(models.Model):
    """A message to the guardians of a selection of children, sent through a gateway by a
    background job. Each recipient row is the outbox entry with its own status."""

    text = models.TextField("内容")
    gateway = models.CharField("发送通道", max_length=20)
    selection = models.CharField("发送对象", max_length=200, blank=True)
    school = models.ForeignKey(
        "org.School",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name="学校",
    )
    job = models.ForeignKey(
        "jobs.Job", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="任务"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="messages", verbose_name="发送人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = "家长消息"
        verbose_name_plural = "家长消息"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"消息 #{self.pk} · {self.text[:20]}"


class Recipient(models.Model):
    """One outbox entry: a guardian's number, the text rendered for them, and the delivery
    status (排队 / 已发送 / 失败 + reason). A row is claimed (排队 → 发送中) before the gateway is
    called and never sent again once sent, so retries cannot send twice."""

    message = models.ForeignKey(
        Message, models.CASCADE, related_name="recipients", verbose_name="消息"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="message_recipients", verbose_name="儿童"
    )
    guardian_name = models.CharField("收信人", max_length=60, blank=True)
    phone = EncryptedText("号码", max_length=20, blank=True, single_line=True)
    text = models.TextField("内容")
    status = models.CharField(
        "状态",
        max_length=8,
        choices=RecipientStatus.choices,
        default=RecipientStatus.QUEUED,
        db_index=True,
    )
    reason = models.CharField("失败原因", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    provider_ref = models.CharField("通道回执号", max_length=100, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    contact = models.OneToOneField(
        Contact,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="message_recipient",
        verbose_name="联系记录",
    )

    class Meta:
        verbose_name = "发件箱"
        verbose_name_plural = "发件箱"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.guardian_name} {self.get_status_display()}"

    @property
    def ref(self) -> str:
        """A stable reference sent with each attempt, so a provider can drop duplicates."""
        return f"guanai-{self.message_id}-{self.pk}"
