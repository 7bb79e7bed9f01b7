"""Users, their role assignments (which decide scope), API tokens and the access log."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models, router, transaction
from django.db.backends.signals import connection_created
from django.utils import timezone
from simple_history.models import HistoricalRecords

from guanai.lib.grades import grade_name
from guanai.lib.villages import village_label

from . import audit


class Role(models.TextChoices):
    TOWN_ADMIN = "town_admin", "镇管理员"
    INSPECTOR = "inspector", "督导员"
    SCHOOL_LEADER = "school_leader", "校领导"
    GRADE_LEADER = "grade_leader", "年级负责人"
    CLASS_TEACHER = "class_teacher", "班主任"
    SUBJECT_TEACHER = "subject_teacher", "任课教师"
    COUNSELOR = "counselor", "心理辅导员"
    PROXY_PARENT = "proxy_parent", "代理家长"
    VILLAGE_DIRECTOR = "village_director", "儿童主任"
    CHILD_SUPERVISOR = "child_supervisor", "儿童督导员"
    AUDITOR = "auditor", "审计员"


TOWN_ROLES = {
    Role.TOWN_ADMIN,
    Role.INSPECTOR,
    Role.VILLAGE_DIRECTOR,
    Role.CHILD_SUPERVISOR,
    Role.AUDITOR,
}
# The codes of the roles held over a town (or a village of it) rather than a school.
TOWN_LEVEL_ROLES = sorted(TOWN_ROLES)
SCHOOL_ROLES = {Role.SCHOOL_LEADER, Role.COUNSELOR, Role.SUBJECT_TEACHER, Role.PROXY_PARENT}
READ_ONLY_ROLES = {Role.INSPECTOR}
# 三权分立: the audit role reads the trail and nothing else, and is granted on the command line
# only (`guanai audit auditor`): never by a town administrator, who is among the audited.
AUDIT_ONLY_ROLES = {Role.AUDITOR}


class UserQuerySet(models.QuerySet):
    def manageable_by(self, admin: "User") -> "UserQuerySet":
        """The one scope for user management: the accounts `admin` may list, edit, reset and
        deactivate in the pages and API — people whose every role assignment (ended ones
        included) lies in a town he administers.

        Staff and superusers, role-less accounts and people holding roles in another town are
        managed on the command line only, so here they are simply not found: a town
        administrator who could reset a superuser's password would own every town.
        """
        if admin is None or not admin.is_authenticated:
            return self.none()
        # Auditors are set up on the command line only (三权分立): an administrator who could
        # reset an auditor's password could read, as him, whether his own reads are noticed.
        people = self.filter(is_staff=False, is_superuser=False).exclude(
            pk__in=RoleAssignment.objects.filter(role__in=AUDIT_ONLY_ROLES).values("user_id")
        )
        if admin.is_superuser:
            return people.filter(pk__in=RoleAssignment.objects.values("user_id"))
        from . import scope  # the scope module reads this one's roles

        towns = [ra.town_id for _level, ra in scope.units(admin, "manage_users")]
        inside = models.Q(town_id__in=towns) | models.Q(school__town_id__in=towns)
        return people.filter(
            pk__in=RoleAssignment.objects.filter(inside).values("user_id")
        ).exclude(pk__in=RoleAssignment.objects.exclude(inside).values("user_id"))


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who logs in: teacher, leader, administrator, inspector or proxy parent."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机", max_length=20, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    def active_roles(self, on: dt.date | None = None) -> list["RoleAssignment"]:
        """Role assignments valid today (cached on the instance for one request)."""
        cache = getattr(self, "_active_roles", None)
        if cache is not None and on is None:
            return cache
        day = on or timezone.localdate()
        roles = list(
            self.role_assignments.filter(valid_from__lte=day)
            .filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=day))
            .select_related("town", "school", "school_class")
        )
        if on is None:
            self._active_roles = roles
        return roles

    def role_codes(self) -> set[str]:
        return {r.role for r in self.active_roles()}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes() & set(roles))

    @property
    def is_read_only(self) -> bool:
        codes = self.role_codes()
        return bool(codes) and codes <= READ_ONLY_ROLES

    @property
    def is_town_admin(self) -> bool:
        return self.is_superuser or self.has_role(Role.TOWN_ADMIN)

    @property
    def can_export(self) -> bool:
        """Downloads lists of children as Excel (the scope table's `export` row)."""
        from . import scope

        return scope.acts_as(self, "export")

    @property
    def is_auditor_only(self) -> bool:
        """Holds the audit role and nothing else: reads the access log of his town, no child."""
        codes = self.role_codes()
        return not self.is_superuser and bool(codes) and codes <= AUDIT_ONLY_ROLES


class RoleAssignment(models.Model):
    """A role held over an org unit for a period: the source of every scope decision."""

    user = models.ForeignKey(
        User, models.CASCADE, related_name="role_assignments", verbose_name="用户"
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    town = models.ForeignKey(
        "org.Town",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name="镇",
    )
    school = models.ForeignKey(
        "org.School",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name="学校",
    )
    grade = models.PositiveSmallIntegerField("年级", null=True, blank=True)
    # A village children's director (儿童主任) holds one village of her town: the village's
    # normalised name (`lib.villages.village_key`: 枫树村 = 枫树).
    village = models.CharField("村", max_length=40, blank=True)
    school_class = models.ForeignKey(
        "org.SchoolClass",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name="班级",
    )
    valid_from = models.DateField("起始日期", default=timezone.localdate)
    valid_to = models.DateField("截止日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "角色分配"
        verbose_name_plural = "角色分配"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=TOWN_LEVEL_ROLES) | models.Q(town__isnull=False),
                name="accounts_role_town_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=TOWN_LEVEL_ROLES) | models.Q(school__isnull=False),
                name="accounts_role_school_unit",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="village_director") | ~models.Q(village=""),
                name="accounts_role_village_unit",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="grade_leader") | models.Q(grade__isnull=False),
                name="accounts_role_grade_unit",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="class_teacher") | models.Q(school_class__isnull=False),
                name="accounts_role_class_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit_label}"

    @property
    def unit_label(self) -> str:
        if self.school_class_id:
            return self.school_class.label
        if self.grade is not None and self.school_id:
            return f"{self.school.name} {grade_name(self.grade)}"
        if self.school_id:
            return self.school.name
        if self.village and self.town_id:
            return f"{self.town.name} {village_label(self.village)}"
        if self.town_id:
            return self.town.name
        return ""


class RevokeReason(models.TextChoices):
    OWNER = "owner", "本人撤销"
    ADMIN = "admin", "管理员撤销"
    PASSWORD = "password", "密码已修改"
    DEACTIVATED = "deactivated", "账号已停用"
    TOTP = "totp", "启用了动态口令"


class ApiTokenQuerySet(models.QuerySet):
    def live(self) -> "ApiTokenQuerySet":
        """Tokens that still open the API: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


def token_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.GUANAI_TOKEN_DAYS)


class ApiToken(models.Model):
    """A bearer token for programs; only its SHA-256 is stored (long random secret). It expires
    after GUANAI_TOKEN_DAYS and is revoked by its owner, an administrator, a password change,
    deactivation or TOTP enrolment; revoked rows stay as a record."""

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("名称", max_length=100, blank=True)
    key_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    expires_at = models.DateTimeField("到期时间", default=token_expiry)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_reason = models.CharField(
        "撤销原因", max_length=20, choices=RevokeReason.choices, blank=True
    )
    revoked_by = models.ForeignKey(
        User,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="revoked_api_tokens",
        verbose_name="撤销人",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} 的令牌"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "") -> str:
        """Create a token and return its secret: shown once, never stored."""
        key = secrets.token_urlsafe(32)
        cls.objects.create(user=user, name=name, key_hash=cls.digest(key))
        return key


class AccessAction(models.TextChoices):
    VIEW_ID_NUMBER = "view_id_number", "查看完整身份证号"
    VIEW_SENSITIVE = "view_sensitive", "查看敏感信息"
    EXPORT = "export", "导出"
    API_CARD = "api_card", "API 读取档卡"
    VIEW_INCIDENT = "view_incident", "查看强制报告"
    # Access beyond one's role (accounts.access_requests): a grant used, an emergency opening.
    VIEW_GRANTED = "view_granted", "依申请查看"
    EMERGENCY = "emergency", "紧急查看"
    # The auditor reads the trail: that reading is on the trail too.
    VIEW_LOG = "view_log", "查看访问日志"
    # `guanai anonymise`: the children of one run made anonymous (guanai/privacy/anonymise.py).
    ANONYMISE = "anonymise", "匿名化"


class AccessLogQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Each row extends the hash chain, so rows are written one by one."""
        objs = list(objs)
        with transaction.atomic(using=self.db):
            for obj in objs:
                obj.save(using=self.db)
        return objs


class AccessLog(models.Model):
    """Who saw or exported whose personal data, and when. Append-only (等保 audit): database
    triggers refuse UPDATE and DELETE, and each row carries the hash of the one before it, so
    `guanai audit verify` finds a row changed, inserted or removed (see accounts/audit.py).
    The foreign keys are PROTECT: a user, child or school with access-log rows stays (deactivate
    a user, anonymise a child); SET_NULL would be an UPDATE of the log, which the trigger refuses."""

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        User, models.PROTECT, null=True, related_name="access_logs", verbose_name="用户"
    )
    username = models.CharField("登录名", max_length=150)
    action = models.CharField("操作", max_length=20, choices=AccessAction.choices)
    child = models.ForeignKey(
        "children.Child",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
        verbose_name="儿童",
    )
    school = models.ForeignKey(
        "org.School",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
        verbose_name="学校",
    )
    detail = models.CharField("内容", max_length=200, blank=True)
    ip = models.GenericIPAddressField("地址", null=True, blank=True)
    prev_hash = models.CharField("前一条哈希", max_length=64, editable=False)
    row_hash = models.CharField("本条哈希", max_length=64, editable=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = "访问日志"
        verbose_name_plural = "访问日志"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    def save(self, *args, **kwargs) -> None:
        # Audit records are protected from editing: only inserts are allowed.
        if self.pk is not None:
            raise PermissionError("访问日志不可修改")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            audit.chain_lock(using)
            audit.seal(self, using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("访问日志不可删除")


# The SQL function the SQLite delete trigger of the access log asks (accounts/audit.py).
connection_created.connect(audit.register_sqlite_functions, dispatch_uid="guanai_audit_sqlite")


class TOTPDevice(models.Model):
    """A user's TOTP authenticator (second factor). Once confirmed, login and token requests
    need a current code. The secret is encrypted at rest."""

    user = models.OneToOneField(User, models.CASCADE, related_name="totp", verbose_name="用户")
    secret_enc = models.TextField("密钥（加密）")
    confirmed_at = models.DateTimeField("启用时间", null=True, blank=True)
    last_counter = models.BigIntegerField("最近使用的时间片", default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "动态口令"
        verbose_name_plural = "动态口令"

    def __str__(self) -> str:
        return f"{self.user} 的动态口令"

    @property
    def secret(self) -> str:
        from guanai.lib import crypto

        return crypto.decrypt(self.secret_enc)

    def verify(self, code: str) -> bool:
        """Check a 6-digit code (±30 s), refusing a code already used (replay)."""
        import time

        import pyotp

        code = (code or "").strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return False
        totp = pyotp.TOTP(self.secret)
        now = int(time.time()) // 30
        for counter in (now - 1, now, now + 1):
            if counter > self.last_counter and totp.at(counter * 30) == code:
                TOTPDevice.objects.filter(pk=self.pk).update(last_counter=counter)
                self.last_counter = counter
                return True
        return False


class TOTPFailure(models.Model):
    """One wrong TOTP code for a user from an address. Five within the lockout period lock the
    second factor for that user and address, as django-axes does for passwords."""

    user = models.ForeignKey(
        User, models.CASCADE, related_name="totp_failures", verbose_name="用户"
    )
    ip = models.GenericIPAddressField("地址", null=True, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "动态口令错误"
        verbose_name_plural = "动态口令错误"
        indexes = [models.Index(fields=["user", "ip", "at"], name="accounts_totpfail_user_ip_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.ip or ''}"


# --- access beyond one's role -------------------------------------------------------------------


class AccessKind(models.TextChoices):
    ID_NUMBER = "id_number", "完整身份证号"
    HEALTH = "health", "健康状况"
    PSYCH = "psych", "心理状况"
    # Break-the-glass opens all three at once (an inspector or town administrator, §36).
    ALL = "all", "完整身份证号、健康和心理状况"


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "未批准"
    WITHDRAWN = "withdrawn", "已撤回"


class AccessRequestQuerySet(models.QuerySet):
    def live(self, *, now: dt.datetime | None = None) -> "AccessRequestQuerySet":
        """Approved grants not yet expired: the only ones that open anything."""
        return self.filter(
            status=AccessRequestStatus.APPROVED, expires_at__gt=now or timezone.now()
        )

    def pending(self) -> "AccessRequestQuerySet":
        return self.filter(status=AccessRequestStatus.PENDING)

    def emergencies(self) -> "AccessRequestQuerySet":
        return self.filter(emergency=True)


class AccessRequest(models.Model):
    """A request to read, for one child, more than one's role gives — the full ID number, the
    health or the psychology section — with a reason; a leader of the child's school approves
    it for a time (default 24 h, at most 7 days) or refuses it, with a note. An emergency one
    (break-the-glass) is opened at once by an inspector or town administrator with a stated
    reason, for 2 hours, and reviewed afterwards by the school's leaders and the auditor.

    The row is the reference every use of the grant writes into the access log."""

    user = models.ForeignKey(
        User, models.PROTECT, related_name="access_requests", verbose_name="申请人"
    )
    child = models.ForeignKey(
        "children.Child",
        models.PROTECT,
        related_name="access_requests",
        verbose_name="儿童",
    )
    # The child's school when asked: whose leaders decide (and review an emergency opening).
    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="access_requests", verbose_name="学校"
    )
    kind = models.CharField("查看内容", max_length=20, choices=AccessKind.choices)
    reason = models.CharField("理由", max_length=500)
    hours = models.PositiveSmallIntegerField("时长（小时）", default=24)
    emergency = models.BooleanField("紧急查看", default=False)
    status = models.CharField(
        "状态",
        max_length=20,
        choices=AccessRequestStatus.choices,
        default=AccessRequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        User,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="access_decisions",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    note = models.CharField("审批意见", max_length=200, blank=True)
    expires_at = models.DateTimeField("有效至", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="access_reviews",
        verbose_name="复核人",
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    created_at = models.DateTimeField("申请时间", default=timezone.now)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "访问申请"
        verbose_name_plural = "访问申请"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "child", "status"], name="accounts_accreq_user_child"),
            models.Index(fields=["school", "status"], name="accounts_accreq_school"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(expires_at__isnull=False),
                name="accounts_accreq_approved_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.user} {self.get_kind_display()}"

    @property
    def reference(self) -> str:
        """How the access log and the pages name this request."""
        return f"{'紧急查看' if self.emergency else '访问申请'}第 {self.pk} 号"

    @property
    def is_live(self) -> bool:
        return (
            self.status == AccessRequestStatus.APPROVED
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    def opens(self, kind: str) -> bool:
        return self.kind in (kind, AccessKind.ALL)
