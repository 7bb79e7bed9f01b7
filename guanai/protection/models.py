"""Child protection duties (SPEC §3.12): 强制报告 incidents, 控辍保学 dropout cases, and the
resolutions of 独居 / 脱离监护 alerts (the alerts themselves are computed from the card: see
alerts.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from guanai.accounts import scope
from guanai.lib.fields import EncryptedText


class HarmKind(models.TextChoices):
    PHYSICAL = "physical", "身体伤害"
    SEXUAL = "sexual", "性侵害"
    NEGLECT = "neglect", "疏于照料 / 遗弃"
    BULLYING = "bullying", "欺凌"
    ABUSE = "abuse", "家庭暴力 / 虐待"
    OTHER = "other", "其他"


class Source(models.TextChoices):
    SEEN = "seen", "亲眼看到"
    TOLD_BY_CHILD = "child", "孩子自己说的"
    HEARD = "heard", "听别人说的"


class Agency(models.TextChoices):
    POLICE = "police", "公安"
    CIVIL = "civil", "民政"
    EDUCATION = "education", "教育"


AGENCY_LABELS = dict(Agency.choices)


def child_unit_q(user, action: str, *, whole_school: bool, prefix: str = "child__") -> Q | None:
    """The filter of records whose child lies in the user's units for an action (no named
    children: a proxy parent or a following teacher holds no unit)."""
    return scope.unit_q(
        user,
        action,
        town=f"{prefix}school__town_id",
        school=f"{prefix}school_id",
        grade=None if whole_school else f"{prefix}school_class__grade",
        klass=None if whole_school else f"{prefix}school_class_id",
    )


class IncidentQuerySet(models.QuerySet):
    def readable_by(self, user) -> "IncidentQuerySet":
        """Incidents the user may read and follow up (`incidents`: school leaders for their
        school, the town for its schools). Everyone else reads none — not even her own."""
        if user is None or not user.is_authenticated:
            return self.none()
        cond = child_unit_q(user, "incidents", whole_school=True)
        return self if cond is None else self.filter(cond)

    def filed_by(self, user) -> "IncidentQuerySet":
        return self.filter(filed_by=user)

    def open(self) -> "IncidentQuerySet":
        return self.filter(outcome="")


class Incident(models.Model):
    """A mandatory report of suspected harm (强制报告, 未成年人保护法 §11)."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="incidents", verbose_name="儿童"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="incidents_filed",
        verbose_name="报告人",
    )
    filed_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    observed_at = models.DateTimeField("发现时间")
    source = models.CharField("怎么知道的", max_length=8, choices=Source.choices)
    harm_kind = models.CharField("疑似侵害类型", max_length=10, choices=HarmKind.choices)
    what = EncryptedText("看到或听到的情况")
    told = models.JSONField("已报告部门", default=list, blank=True)
    told_at = models.DateTimeField("报告部门时间", null=True, blank=True)
    receipt_no = models.CharField("回执编号", max_length=60, blank=True)
    outcome = EncryptedText("处理结果", blank=True)
    outcome_at = models.DateTimeField("结果记录时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = "强制报告"
        verbose_name_plural = "强制报告"
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.child} · {self.get_harm_kind_display()}"

    @property
    def is_open(self) -> bool:
        return not self.outcome

    @property
    def told_labels(self) -> list[str]:
        return [AGENCY_LABELS.get(a, a) for a in self.told]


class IncidentFollowUp(models.Model):
    incident = models.ForeignKey(
        Incident, models.CASCADE, related_name="follow_ups", verbose_name="强制报告"
    )
    on = models.DateField("日期")
    note = EncryptedText("跟进情况")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="记录人"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "强制报告跟进"
        verbose_name_plural = "强制报告跟进"
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.on} {self.note[:20]}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "劝返中"
    RETURNED = "returned", "已返校"
    REPORTED = "reported", "劝返无效，已书面报告"


class DropoutQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view") -> "DropoutQuerySet":
        """Cases of the children in the user's school, grade or class units (`view` reads,
        `change` writes); a class teacher sees her class's cases."""
        if user is None or not user.is_authenticated:
            return self.none()
        cond = child_unit_q(user, action, whole_school=False)
        return self if cond is None else self.filter(cond)

    def open(self) -> "DropoutQuerySet":
        return self.filter(status=CaseStatus.OPEN)


class DropoutCase(models.Model):
    """控辍保学: a child's unexplained absences, followed through 劝返 to return or report."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="dropout_cases", verbose_name="儿童"
    )
    absent_since = models.DateField("开始缺课日期")
    absent_days = models.PositiveSmallIntegerField("缺课天数")
    reason_asked = EncryptedText("了解到的原因", blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="建档人"
    )
    opened_at = models.DateTimeField("建档时间", default=timezone.now)
    status = models.CharField(
        "状态", max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True
    )
    closed_on = models.DateField("结案日期", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结案人",
    )
    closing_note = EncryptedText("结案说明", blank=True)
    history = HistoricalRecords()

    objects = DropoutQuerySet.as_manager()

    class Meta:
        verbose_name = "控辍保学"
        verbose_name_plural = "控辍保学"
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(status="open"), name="protection_one_open_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.child} · {self.get_status_display()}"


class DropoutAttempt(models.Model):
    """One 劝返 attempt: who went, when, whom they met, what came of it."""

    case = models.ForeignKey(
        DropoutCase, models.CASCADE, related_name="attempts", verbose_name="控辍保学"
    )
    on = models.DateField("日期")
    by = models.CharField("劝返人员", max_length=100)
    with_whom = models.CharField("见到谁", max_length=100)
    result = EncryptedText("结果")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="记录人"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "劝返记录"
        verbose_name_plural = "劝返记录"
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.on} {self.by}"


class AlertResolution(models.Model):
    """What was done about a child living without an adult guardian (独居 / 脱离监护). It
    closes the alert for this reason until the parents' or guardian's facts change."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="alert_resolutions", verbose_name="儿童"
    )
    reason = models.CharField("原因", max_length=20)
    action = EncryptedText("采取的措施")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="处理人"
    )
    resolved_at = models.DateTimeField("处理时间", default=timezone.now)

    class Meta:
        verbose_name = "监护缺失提醒处理"
        verbose_name_plural = "监护缺失提醒处理"
        ordering = ["-resolved_at", "-id"]

    def __str__(self) -> str:
        return f"{self.child} · {self.resolved_at:%Y-%m-%d}"
