"""Guardians' requests about their child's data (查阅、更正、删除) and the record of children
anonymised after they left (guanai anonymise)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

# PIPL gives no number of days; the brief's rule is 15 working days. Guanai has no calendar of
# working days (holidays and their make-up Saturdays change every year), so 15 calendar days:
# stricter, never later than the rule.
REPLY_DAYS = 15


class RequestKind(models.TextChoices):
    SEE = "see", "查阅复制"
    CORRECT = "correct", "更正补充"
    DELETE = "delete", "删除"


class RequestStatus(models.TextChoices):
    OPEN = "open", "办理中"
    DONE = "done", "已办结"
    REFUSED = "refused", "不予办理"


class GuardianRequestQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "read") -> "GuardianRequestQuerySet":
        """`read`: requests about the children of the user's units for `manage` (school
        leaders, the town) or `inspect` (the town's inspectors, read-only); `write`: `manage`
        only. Through the child's school and class, whatever its enrolment now: a family may
        ask after the child has left."""
        from guanai.accounts import scope

        if user is None or not user.is_authenticated:
            return self.none()
        actions = ("manage", "inspect") if action == "read" else ("manage",)
        cond = None
        for name in actions:
            q = scope.unit_children_q(user, name, prefix="child__")
            if q is None:
                return self
            cond = q if cond is None else cond | q
        return self.filter(cond)

    def overdue(self, today: dt.date) -> "GuardianRequestQuerySet":
        return self.filter(
            status=RequestStatus.OPEN, received_on__lt=today - dt.timedelta(days=REPLY_DAYS)
        )


class GuardianRequest(models.Model):
    """A guardian's request to see, correct or delete the child's data, and the reply."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="guardian_requests", verbose_name="儿童"
    )
    kind = models.CharField("请求类型", max_length=10, choices=RequestKind.choices)
    received_on = models.DateField("收到日期")
    requester = models.CharField("提出人", max_length=50)
    relation = models.CharField("与儿童关系", max_length=20)
    asked = models.TextField("请求内容", max_length=1000)
    status = models.CharField(
        "状态", max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    reply = models.TextField("答复与处理", max_length=1000, blank=True)
    replied_on = models.DateField("答复日期", null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="答复人",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = GuardianRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "监护人请求"
        verbose_name_plural = "监护人请求"
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.received_on} {self.get_kind_display()}"

    @property
    def due_on(self) -> dt.date:
        return self.received_on + dt.timedelta(days=REPLY_DAYS)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == RequestStatus.OPEN and today > self.due_on


class Anonymisation(models.Model):
    """A child whose personal data `guanai anonymise` removed: never touched again."""

    child = models.OneToOneField(
        "children.Child", models.PROTECT, related_name="anonymisation", verbose_name="儿童"
    )
    left_on = models.DateField("离校日期")
    at = models.DateTimeField("匿名化时间", default=timezone.now)

    class Meta:
        verbose_name = "已匿名儿童"
        verbose_name_plural = "已匿名儿童"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.left_on} 离校，{self.at:%Y-%m-%d} 匿名化"
