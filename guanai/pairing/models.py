"""结对帮扶: a left-behind (or 随迁) child paired with a local classmate, and the teacher who
follows the pair's safety; 代理家长: the register of proxy parents."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from guanai.lib.fields import EncryptedText


class PairStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ACTIVE = "active", "进行中"
    ENDED = "ended", "已结束"


class PairQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PairQuerySet":
        """Pairs whose child the user may see: the one scope method, applied to the child."""
        from guanai.children.models import Child

        return self.filter(child__in=Child.objects.visible_to(user).values("pk"))

    def active(self) -> "PairQuerySet":
        return self.filter(status=PairStatus.ACTIVE)

    def drafts(self) -> "PairQuerySet":
        return self.filter(status=PairStatus.DRAFT)


class Pair(models.Model):
    """A buddy pair (结对): `child` (left-behind or 随迁) and `buddy` (a local classmate).

    Proposals are saved as drafts, which a new proposal replaces; a teacher accepts a draft (it
    becomes active) and later ends it with a reason. The cost and facts are those the matcher
    used (`pairing.matching`); `explanation` says them in a teacher's words. History keeps who
    was paired with whom, when, and who changed it.
    """

    child = models.ForeignKey(
        "children.Child",
        models.PROTECT,
        related_name="pairs_as_child",
        verbose_name="帮扶对象",
    )
    buddy = models.ForeignKey(
        "children.Child",
        models.PROTECT,
        related_name="pairs_as_buddy",
        verbose_name="结对伙伴",
    )
    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="pairs", verbose_name="学校"
    )
    status = models.CharField(
        "状态", max_length=8, choices=PairStatus.choices, default=PairStatus.DRAFT, db_index=True
    )
    follow_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_pairs",
        verbose_name="跟踪教师",
        help_text="跟踪这对孩子安全的教师，默认为帮扶对象的责任教师或班主任",
    )
    cost = models.DecimalField("匹配代价", max_digits=14, decimal_places=6)
    distance_m = models.FloatField("两家距离（米）", null=True, blank=True)
    age_gap_days = models.PositiveIntegerField("年龄差（天）")
    same_village = models.BooleanField("同村", default=False)
    same_group = models.BooleanField("同组", default=False)
    explanation = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="提出人",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="确认人",
    )
    accepted_at = models.DateTimeField("确认时间", null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结束人",
    )
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=200, blank=True)
    follow_assignments = models.ManyToManyField(
        "children.ChildAssignment",
        blank=True,
        related_name="follow_pairs",
        verbose_name="跟踪分配",
        help_text="确认结对后，跟踪教师对两个孩子的任课教师分配；结对结束时随之结束",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = PairQuerySet.as_manager()

    class Meta:
        verbose_name = "结对"
        verbose_name_plural = "结对"
        ordering = ["id"]
        indexes = [models.Index(fields=["school", "status"], name="pairing_school_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(status="active"),
                name="pairing_one_active_pair_per_child",
            ),
            models.UniqueConstraint(
                fields=["buddy"],
                condition=Q(status="active"),
                name="pairing_one_active_pair_per_buddy",
            ),
            models.CheckConstraint(
                condition=~Q(child=F("buddy")), name="pairing_child_is_not_own_buddy"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "ended"]),
                name="pairing_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} ↔ {self.buddy}（{self.get_status_display()}）"


# --- 代理家长 -------------------------------------------------------------------------------------


class ProxyKind(models.TextChoices):
    TEACHER = "teacher", "教师"
    CADRE = "cadre", "村（社区）干部"
    VOLUNTEER = "volunteer", "志愿者"


# 未成年人保护法 第二十二条 第二款 (一)–(三): who may not be entrusted with a child's care.
EXCLUSIONS = (
    "（一）曾实施性侵害、虐待、拐卖、暴力伤害等违法犯罪行为",
    "（二）有吸毒、酗酒、赌博等恶习",
    "（三）曾拒不履行或者长期怠于履行监护、照护职责",
)


class ProxyParentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ProxyParentQuerySet":
        """The register entries a user may read: school staff and town roles for their schools,
        and a proxy parent their own entry."""
        from guanai.accounts import scope

        if user is None or not user.is_authenticated:
            return self.none()
        units = scope.unit_q(user, "view", town="school__town_id", school="school_id", member=True)
        return self if units is None else self.filter(units | Q(user=user))

    def active(self) -> "ProxyParentQuerySet":
        return self.filter(active=True)


class ProxyParent(models.Model):
    """A proxy parent (代理家长): a teacher, village cadre or volunteer who looks after one or a
    few children of a school. Their login has the 代理家长 role, so they see only the children
    assigned to them (`children.ChildAssignment`, kind proxy_parent), on a reduced card.

    Entry in the register needs the recorded declaration that they are not excluded by
    未成年人保护法 §22 (一)–(三), with its date and who recorded it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="proxy_parent",
        verbose_name="登录账号",
    )
    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="proxy_parents", verbose_name="学校"
    )
    name = models.CharField("姓名", max_length=50)
    phone = EncryptedText("电话", max_length=20, single_line=True)
    kind = models.CharField("身份", max_length=10, choices=ProxyKind.choices)
    village = models.CharField("居住村", max_length=40, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    declared = models.BooleanField(
        "已声明无第二十二条（一）至（三）情形",
        default=False,
        help_text="未成年人保护法第二十二条第二款（一）至（三）项：不得作为被委托人的情形",
    )
    declared_on = models.DateField("声明日期")
    declaration_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="声明记录人",
    )
    active = models.BooleanField("在册", default=True, db_index=True)
    end_reason = models.CharField("退出原因", max_length=200, blank=True)
    notes = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登记人",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ProxyParentQuerySet.as_manager()

    class Meta:
        verbose_name = "代理家长"
        verbose_name_plural = "代理家长"
        ordering = ["id"]
        indexes = [models.Index(fields=["school", "village"], name="pairing_proxy_school_village")]
        constraints = [
            models.CheckConstraint(condition=Q(declared=True), name="pairing_proxy_declared"),
            models.CheckConstraint(
                condition=Q(kind__in=["teacher", "cadre", "volunteer"]),
                name="pairing_proxy_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
