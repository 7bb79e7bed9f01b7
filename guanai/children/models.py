"""一人一卡: the child's archive card, the parents' and guardian's dated facts, assignments."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from guanai.accounts import scope
from guanai.lib import crypto
from guanai.lib.fields import EncryptedText
from guanai.lib.idcard import looks_like_student_no, normalize_student_no
from guanai.lib.masking import mask_id_number

from .classification import CATEGORY_LABELS, ParentFacts, classify


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Category(models.TextChoices):
    SINGLE = "single", CATEGORY_LABELS["single"]
    DOUBLE = "double", CATEGORY_LABELS["double"]
    MIGRANT = "migrant", CATEGORY_LABELS["migrant"]
    NONE = "none", CATEGORY_LABELS["none"]
    UNKNOWN = "unknown", CATEGORY_LABELS["unknown"]


class XuejiCategory(models.TextChoices):
    """The 学籍 system's 是否留守儿童, as its own sheet says it (stored, never derived)."""

    NONE = "none", "非留守儿童"
    SINGLE = "single", "单亲留守儿童"
    DOUBLE = "double", "双亲留守儿童"


class Hukou(models.TextChoices):
    RURAL = "rural", "农业"
    URBAN = "urban", "非农业"


class Enrolment(models.TextChoices):
    ENROLLED = "enrolled", "在读"
    GRADUATED = "graduated", "已毕业"
    TRANSFERRED = "transferred", "已转出"
    LEFT = "left", "已离校"


class Assessment(models.TextChoices):
    GOOD = "good", "较好"
    FAIR = "fair", "一般"
    POOR = "poor", "差"


class Tag(models.TextChoices):
    HARDSHIP = "hardship", "困境儿童"
    POVERTY = "poverty", "贫困"
    DISABILITY = "disability", "残疾"
    NO_GUARDIAN = "no_guardian", "监护缺失"
    ORPHAN = "orphan", "孤儿"
    UNSUPPORTED = "unsupported", "事实无人抚养"
    PRISONER_CHILD = "prisoner_child", "服刑人员子女"


class ParentStatus(models.TextChoices):
    HOME = "home", "在家"
    AWAY = "away", "外出务工"
    DECEASED = "deceased", "已故"
    MISSING = "missing", "失踪"
    INCAPABLE = "incapable", "无监护能力"


class Relation(models.TextChoices):
    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"


LEFT_BEHIND = ("single", "double")


def identity_kind(q: str) -> str | None:
    """ "id_number" or "student_no" when a search text is a whole ID number or 学籍号 (a search
    that confirms someone's identity: see access.search_children), else None."""
    from guanai.lib.idcard import normalize_id_number

    ident = normalize_id_number(q)
    if len(ident) == 18:
        return "id_number"
    if looks_like_student_no(ident):
        return "student_no"
    return None


class ChildQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view") -> "ChildQuerySet":
        """The one scope method: the children `user` may act on.

        `view` reads the card; `contact` logs contacts (everyone but read-only roles);
        `change` edits the card (not proxy parents or teachers merely assigned to a child).
        Every page, API route, export, search and count starts here, so anything outside the
        scope is simply not found.
        """
        if action not in ("view", "contact", "change"):
            raise ValueError(f"unknown action {action!r}")
        if user is None or not user.is_authenticated:
            return self.none()
        cond = scope.children_q(user, action, today=timezone.localdate())
        return self if cond is None else self.filter(cond)

    def active(self) -> "ChildQuerySet":
        return self.filter(enrolment=Enrolment.ENROLLED)

    def left_behind(self) -> "ChildQuerySet":
        return self.filter(category__in=LEFT_BEHIND)

    def in_class(self, school_class) -> "ChildQuerySet":
        return self.filter(school_class=school_class)

    def search(self, q: str) -> "ChildQuerySet":
        """Name, pinyin initials or spellings, a full ID number or its last 4 characters."""
        from guanai.lib.idcard import normalize_id_number
        from guanai.lib.text import clean

        q = clean(q)
        if not q:
            return self
        ident = normalize_id_number(q)
        kind = identity_kind(q)
        if kind == "id_number":
            return self.filter(id_number_hash__in=crypto.lookup_hashes(ident))
        if kind == "student_no":
            return self.filter(
                student_no_hash__in=crypto.lookup_hashes(normalize_student_no(ident))
            )
        # One condition chosen by what was typed: OR-ing them all forces a full scan.
        if q.isascii() and q.replace(" ", "").isalpha():
            key = q.replace(" ", "").lower()
            # As a subquery on the pinyin column alone, SQLite scans its narrow index instead
            # of the whole card table (bench/list_children.py).
            keyed = Child.objects.filter(
                Q(name_pinyin__startswith=key) | Q(name_pinyin__contains=" " + key)
            )
            return self.filter(pk__in=keyed.values("pk"))
        if len(ident) == 4 and ident[:3].isdigit() and (ident[3].isdigit() or ident[3] == "X"):
            return self.filter(id_last4=ident)
        return self.filter(name__contains=q)


class Child(models.Model):
    """The archive card (一人一卡) of one child: placement, home, family, care and needs.

    The classifications (`category`, `civil_affairs`) are derived from the parents' facts by
    `classify_child`, never typed; their changes are kept in the card's history.
    """

    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="children", verbose_name="学校"
    )
    school_class = models.ForeignKey(
        "org.SchoolClass", models.PROTECT, related_name="children", verbose_name="班级"
    )
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=6, choices=Gender.choices, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    id_number_enc = models.TextField("身份证号（加密）", blank=True)
    id_number_hash = models.CharField(
        "身份证号摘要", max_length=64, null=True, blank=True, unique=True
    )
    id_number_masked = models.CharField("身份证号（脱敏）", max_length=18, blank=True)
    id_last4 = models.CharField("身份证号后四位", max_length=4, blank=True, db_index=True)
    # The 学籍号 is often "G" + the ID number: it is kept exactly like the ID number.
    student_no_enc = models.TextField("学籍号（加密）", blank=True)
    student_no_hash = models.CharField(
        "学籍号摘要", max_length=64, null=True, blank=True, unique=True
    )
    student_no_masked = models.CharField("学籍号（脱敏）", max_length=30, blank=True)
    school_no = models.CharField("学号", max_length=30, blank=True)
    hukou = models.CharField("户口性质", max_length=6, choices=Hukou.choices, blank=True)
    is_migrant = models.BooleanField("随迁子女", default=False)
    village = models.CharField("村", max_length=40, blank=True)
    group = models.CharField("组", max_length=20, blank=True)
    address = models.CharField("详细住址", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    boarding = models.BooleanField("寄宿", null=True, blank=True)
    health = EncryptedText("健康状况", max_length=200, blank=True, single_line=True)
    disability = models.CharField("残疾情况", max_length=200, blank=True)
    study = models.CharField("学习情况", max_length=200, blank=True)
    psych_summary = models.CharField("心理状况", max_length=200, blank=True)
    safety_notes = models.CharField("安全情况", max_length=200, blank=True)
    guardianship_assessment = models.CharField(
        "监护情况评估", max_length=6, choices=Assessment.choices, blank=True
    )
    income_sources = models.CharField("家庭收入来源", max_length=200, blank=True)
    assistance = models.CharField("享受救助（低保、临时救助等）", max_length=200, blank=True)
    tags = models.JSONField("特殊类别", default=list, blank=True)
    photo_consent = models.BooleanField("同意使用照片", default=False)
    psych_test_consent = models.BooleanField("同意心理测评", default=False)
    publicity_consent = models.BooleanField("同意宣传报道", default=False)
    notes = models.TextField("备注", blank=True)
    responsible_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_for",
        verbose_name="责任教师",
    )
    enrolment = models.CharField(
        "在读状态",
        max_length=12,
        choices=Enrolment.choices,
        default=Enrolment.ENROLLED,
    )
    category = models.CharField(
        "留守类别", max_length=8, choices=Category.choices, default=Category.UNKNOWN, db_index=True
    )
    category_reason = models.CharField("类别依据", max_length=100, blank=True)
    civil_affairs = models.BooleanField("民政口径农村留守儿童", default=False, db_index=True)
    civil_affairs_reason = models.CharField("民政口径依据", max_length=100, blank=True)
    classified_on = models.DateField("认定日期", null=True, blank=True)
    # What the national 学籍 system says (its 是否留守儿童), imported from its sheet; compared
    # with `category`, never used in its place (see guanai/children/xueji.py).
    xueji_category = models.CharField(  # noqa: DJ001 (null: the sheet had no value)
        "学籍系统留守类别",
        max_length=6,
        choices=XuejiCategory.choices,
        null=True,
        blank=True,
    )
    # The 学籍 sheet's 是否独生子女 (None: never said). 是否孤儿 is the card's 孤儿 tag (`tags`).
    only_child = models.BooleanField("独生子女", null=True, blank=True)
    name_pinyin = models.CharField("拼音检索", max_length=500, blank=True, db_index=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("建卡时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "name_pinyin",
            "updated_at",
            "id_last4",
            "id_number_hash",
            "student_no_hash",
            "classified_on",
        ],
    )
    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = "儿童档卡"
        verbose_name_plural = "儿童档卡"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["school", "category"], name="child_school_category"),
            # not `enrolment` alone: 97 % of rows are enrolled and SQLite, without statistics,
            # would drive every list through it (bench/list_children.py)
            models.Index(fields=["school", "enrolment"], name="child_school_enrolment"),
            # every column the statistics count (stats/services.py), so a town's counts read
            # the index, not the cards: the whole-town pass 371 -> 207 ms at 100,000 (SQLite)
            models.Index(
                fields=[
                    "enrolment",
                    "school",
                    "school_class",
                    "category",
                    "civil_affairs",
                    "gender",
                    "birth_date",
                    "boarding",
                    "hukou",
                    "village",
                    "id_number_masked",
                    "student_no_masked",
                ],
                name="child_stats_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_labels(self) -> list[str]:
        """The 特殊类别 in words (孤儿, 困境儿童 …), never their codes."""
        labels = dict(Tag.choices)
        return [labels.get(t, t) for t in self.tags]

    @property
    def id_number(self) -> str:
        """The full ID number. Callers showing it must write the access log."""
        return crypto.decrypt(self.id_number_enc)

    def set_id_number(self, number: str) -> None:
        if not number:
            self.id_number_enc = ""
            self.id_number_hash = None
            self.id_number_masked = ""
            self.id_last4 = ""
            return
        digest = crypto.lookup_hash(number)
        if self.id_number_hash in crypto.lookup_hashes(number):
            return  # same number: keep the ciphertext so history shows no change
        self.id_number_enc = crypto.encrypt(number)
        self.id_number_hash = digest
        self.id_number_masked = mask_id_number(number)
        self.id_last4 = number[-4:]

    @property
    def student_no(self) -> str:
        """The full 学籍号. Callers showing it must write the access log."""
        return crypto.decrypt(self.student_no_enc)

    def set_student_no(self, number: str) -> None:
        number = normalize_student_no(number)
        if not number:
            self.student_no_enc = ""
            self.student_no_hash = None
            self.student_no_masked = ""
            return
        digest = crypto.lookup_hash(number)
        if self.student_no_hash in crypto.lookup_hashes(number):
            return  # same number: keep the ciphertext so history shows no change
        self.student_no_enc = crypto.encrypt(number)
        self.student_no_hash = digest
        self.student_no_masked = mask_id_number(number)

    @property
    def grade(self) -> int:
        return self.school_class.grade

    @property
    def class_no(self) -> int:
        return self.school_class.class_no

    @property
    def is_active(self) -> bool:
        return self.enrolment == Enrolment.ENROLLED

    @property
    def is_left_behind(self) -> bool:
        return self.category in LEFT_BEHIND

    def parent(self, relation: str) -> "Parent | None":
        for p in self.parents.all():
            if p.relation == relation:
                return p
        return None

    def classification(self, on: dt.date | None = None):
        """Classify from the current facts at a reference date (default today)."""
        facts = {r: ParentFacts("") for r in ("father", "mother")}
        for p in self.parents.all():
            facts[p.relation] = ParentFacts(p.status, p.away_since)
        return classify(
            father=facts["father"],
            mother=facts["mother"],
            is_migrant=self.is_migrant,
            hukou=self.hukou,
            birth_date=self.birth_date,
            on=on or timezone.localdate(),
            away_months=settings.GUANAI_AWAY_MONTHS,
            civil_age=settings.GUANAI_CIVIL_AFFAIRS_AGE,
        )

    def missing_fields(self) -> list[str]:
        """Card fields still blank that 一人一卡 expects to be filled."""
        missing = []
        if not self.id_number_hash and not self.student_no_hash:
            missing.append("身份证号")
        if not self.birth_date:
            missing.append("出生日期")
        if not self.village:
            missing.append("村")
        if self.category == Category.UNKNOWN:
            missing.append("父母状况")
        guardian = getattr(self, "guardian", None)
        if self.is_left_behind and (guardian is None or not guardian.name or not guardian.phone):
            missing.append("监护人")
        return missing


class Parent(models.Model):
    """A parent's facts, effective from a date. History keeps every earlier state, so the
    classification on any past date can be reconstructed."""

    child = models.ForeignKey(Child, models.CASCADE, related_name="parents", verbose_name="儿童")
    relation = models.CharField("关系", max_length=6, choices=Relation.choices)
    name = models.CharField("姓名", max_length=50, blank=True)
    status = models.CharField("状况", max_length=10, choices=ParentStatus.choices, blank=True)
    status_reason = models.CharField("状况说明", max_length=100, blank=True)
    away_since = models.DateField("外出时间", null=True, blank=True)
    work_province = models.CharField("务工省份", max_length=20, blank=True)
    work_city = models.CharField("务工城市", max_length=40, blank=True)
    work_place = models.CharField("务工地", max_length=100, blank=True)
    phone = EncryptedText("电话", max_length=20, blank=True, single_line=True)
    # Stored like the child's ID number (AES-GCM at rest, a keyed hash for lookups, the masked
    # form for lists; "" when unknown): the 民政 登记表 needs it (guanai/children/minzheng.py).
    # History keeps the ciphertext only (not shown): the card does not show these numbers yet.
    id_number_enc = models.TextField("身份证号（加密）", blank=True)
    id_number_hash = models.CharField("身份证号摘要", max_length=64, blank=True, db_index=True)
    id_number_masked = models.CharField("身份证号（脱敏）", max_length=18, blank=True)
    effective_from = models.DateField("状况起始日期", default=timezone.localdate)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=["updated_at", "id_number_hash", "id_number_masked"]
    )

    class Meta:
        verbose_name = "父母"
        verbose_name_plural = "父母"
        ordering = ["child_id", "relation"]
        constraints = [
            models.UniqueConstraint(fields=["child", "relation"], name="children_parent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_relation_display()} {self.name}"


class Guardian(models.Model):
    """The adult who actually cares for the child (监护人 / 委托监护人), effective from a date."""

    child = models.OneToOneField(
        Child, models.CASCADE, related_name="guardian", verbose_name="儿童"
    )
    name = models.CharField("姓名", max_length=50, blank=True)
    relation = models.CharField("关系", max_length=20, blank=True)
    phone = EncryptedText("电话", max_length=20, blank=True, single_line=True)
    age = models.PositiveSmallIntegerField("年龄", null=True, blank=True)
    health = EncryptedText("健康状况", max_length=100, blank=True, single_line=True)
    capacity = models.CharField("监护能力", max_length=6, choices=Assessment.choices, blank=True)
    is_entrusted = models.BooleanField("委托监护", default=False)
    entrustment_notice_on = models.DateField("委托监护告知书日期", null=True, blank=True)
    confirmation_signed_on = models.DateField("被委托人确认书签署日期", null=True, blank=True)
    # Stored like the child's ID number (AES-GCM at rest, a keyed hash for lookups, the masked
    # form for lists; "" when unknown): the 民政 登记表 needs it (guanai/children/minzheng.py).
    # History keeps the ciphertext only (not shown): the card does not show these numbers yet.
    id_number_enc = models.TextField("身份证号（加密）", blank=True)
    id_number_hash = models.CharField("身份证号摘要", max_length=64, blank=True, db_index=True)
    id_number_masked = models.CharField("身份证号（脱敏）", max_length=18, blank=True)
    effective_from = models.DateField("起始日期", default=timezone.localdate)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=["updated_at", "id_number_hash", "id_number_masked"]
    )

    class Meta:
        verbose_name = "监护人"
        verbose_name_plural = "监护人"

    def __str__(self) -> str:
        return f"{self.relation} {self.name}"


class AssignmentKind(models.TextChoices):
    PROXY_PARENT = "proxy_parent", "代理家长"
    SUBJECT_TEACHER = "subject_teacher", "任课教师跟踪"


class ChildAssignment(models.Model):
    """A person named to one child for a period: proxy parent or following teacher."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="child_assignments",
        verbose_name="人员",
    )
    child = models.ForeignKey(
        Child, models.CASCADE, related_name="assignments", verbose_name="儿童"
    )
    kind = models.CharField("类型", max_length=20, choices=AssignmentKind.choices)
    valid_from = models.DateField("起始日期", default=timezone.localdate)
    valid_to = models.DateField("截止日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "儿童分配"
        verbose_name_plural = "儿童分配"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()} · {self.child}"
