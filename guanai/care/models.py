"""Psychological care (心理关爱): observations any teacher may file, the counselor's follow-up
sessions, and screening questionnaires defined as data. Read only by the school's counselor and
leaders (the scope table's `psych`); a teacher who filed an observation reads back that it was
submitted, and when."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from guanai.lib.fields import EncryptedText


class RiskLevel(models.TextChoices):
    NORMAL = "normal", "正常"
    WATCH = "watch", "关注"
    HIGH = "high", "重点关注"


RISK_ORDER = {RiskLevel.NORMAL: 0, RiskLevel.WATCH: 1, RiskLevel.HIGH: 2}


class Referral(models.TextChoices):
    NONE = "", "暂不转介"
    COUNSELOR = "counselor", "转介心理辅导老师"
    OUTSIDE = "outside", "转介校外专业机构"


class Observation(models.Model):
    """What a teacher saw (心理关注): filed by any staff member who may see the child."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="psych_observations", verbose_name="学生"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="记录人"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    level = models.CharField("关注程度", max_length=10, choices=RiskLevel.choices)
    what = EncryptedText("看到的情况", max_length=1000)
    referral = models.CharField(
        "转介", max_length=10, choices=Referral.choices, blank=True, default=""
    )
    next_review_on = models.DateField("下次回访日期", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = "心理观察"
        verbose_name_plural = "心理观察"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.child} · 心理观察 · {self.at:%Y-%m-%d}"


class Session(models.Model):
    """A follow-up by the counselor (辅导记录): what was done, the level after it, the next
    review."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="psych_sessions", verbose_name="学生"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="辅导老师"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    notes = EncryptedText("辅导记录", max_length=2000)
    level = models.CharField("辅导后关注程度", max_length=10, choices=RiskLevel.choices)
    referral = models.CharField(
        "转介", max_length=10, choices=Referral.choices, blank=True, default=""
    )
    next_review_on = models.DateField("下次回访日期", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = "辅导记录"
        verbose_name_plural = "辅导记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.child} · 辅导记录 · {self.at:%Y-%m-%d}"


class Instrument(models.Model):
    """A screening questionnaire as data the school may edit: items, each with scored options,
    and thresholds on the total that give a level (and a referral from 重点关注)."""

    name = models.CharField("名称", max_length=100, unique=True)
    description = models.TextField("说明", blank=True)
    # [{"text": "…", "options": [{"label": "从不", "score": 0}, …]}, …]
    items = models.JSONField("题目")
    # [{"min": 0, "level": "normal"}, {"min": 10, "level": "watch"}, …], ascending
    thresholds = models.JSONField("分数线")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "心理测评问卷"
        verbose_name_plural = "心理测评问卷"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScreeningResult(models.Model):
    """One child's answers to an instrument, with the total and the level it gives."""

    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="psych_screenings", verbose_name="学生"
    )
    instrument = models.ForeignKey(Instrument, models.PROTECT, verbose_name="问卷")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="测评人"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    answers = models.JSONField("作答")
    score = models.PositiveIntegerField("总分")
    level = models.CharField("结果", max_length=10, choices=RiskLevel.choices)

    class Meta:
        verbose_name = "心理测评结果"
        verbose_name_plural = "心理测评结果"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.child} · 心理测评 · {self.at:%Y-%m-%d}"
