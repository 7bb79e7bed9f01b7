"""结对帮扶: a left-behind (or 随迁) child paired with a local classmate, and the teacher who
follows the pair's safety."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords


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
