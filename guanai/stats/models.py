"""The term report's edited prose (工作总结的文字): what a leader wrote for a section."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReportText(models.Model):
    """A leader's text of one section of a school's or a town's term report, with the
    report's numbers as marks (【已排查】, stats/prose.py) that are filled in from the data
    whenever the report is drafted. Deleting the row resets the section to the generated
    text."""

    school = models.ForeignKey(
        "org.School",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="report_texts",
        verbose_name="学校",
    )
    town = models.ForeignKey(
        "org.Town",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="report_texts",
        verbose_name="镇",
    )
    term = models.CharField("学期", max_length=12)
    section = models.PositiveSmallIntegerField("部分")  # 1–8, prose.HEADINGS
    text = models.TextField("文字")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="修改人",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "工作总结文字"
        verbose_name_plural = "工作总结文字"
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=True) ^ Q(town__isnull=True),
                name="report_text_school_or_town",
            ),
            models.UniqueConstraint(
                fields=["school", "term", "section"],
                condition=Q(school__isnull=False),
                name="report_text_once_per_school",
            ),
            models.UniqueConstraint(
                fields=["town", "term", "section"],
                condition=Q(town__isnull=False),
                name="report_text_once_per_town",
            ),
            models.CheckConstraint(
                condition=Q(section__gte=1, section__lte=8), name="report_text_section_1_8"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school or self.town} {self.term} 第{self.section}部分"
