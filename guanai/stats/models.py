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


class CountedDay(models.Model):
    """A finished day whose counts per class are stored (`DayCount`): the mark that the day
    was filled, with when and how long it took. A day is filled once — its history no longer
    changes (history rows are append-only, written when the card changes) — by the first
    request for it, by the worker each night for yesterday, or by `guanai fill-day-counts`.
    Today is never stored here: today's counts are always live (SPEC §6.3), kept per class in
    `LiveCount` below."""

    day = models.DateField("日期", unique=True)
    layout = models.PositiveSmallIntegerField("计数格式", default=0)  # daycounts.LAYOUT
    classes = models.PositiveIntegerField("班级数", default=0)
    children = models.PositiveIntegerField("在读人数", default=0)
    seconds = models.FloatField("用时（秒）", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "已统计的日期"
        verbose_name_plural = "已统计的日期"

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d}"


class DayCount(models.Model):
    """The counts of one class's enrolled children at the end of a finished day (Asia/
    Shanghai), as the cards' history stood: `counts` holds what the summary and the dashboard
    need (stats/daycounts.py `KEYS`: in total, by category, 民政, gender, age band on that day,
    boarding, left-behind children's guardian type, blank card fields). Every child of a class
    that day is in its row; a past date's numbers are sums of rows (plus, for a user who also
    follows single children, those children counted from history)."""

    day = models.DateField("日期")
    school_class = models.ForeignKey(
        "org.SchoolClass", models.CASCADE, related_name="day_counts", verbose_name="班级"
    )
    school = models.ForeignKey(
        "org.School", models.CASCADE, related_name="day_counts", verbose_name="学校"
    )
    counts = models.JSONField("计数")

    class Meta:
        verbose_name = "班级每日统计"
        verbose_name_plural = "班级每日统计"
        constraints = [
            models.UniqueConstraint(fields=["day", "school_class"], name="day_count_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.school_class_id}"


class LiveCount(models.Model):
    """Today's counts of one class's enrolled children (stats/live.py): the same numbers as
    counting the cards now, kept so that a county's summary is a sum of a few thousand rows.

    Database triggers on the cards, parents and guardians tables (stats/live.py `TRIGGERS`)
    bump `gen` and clear `counts` of the class a written row belongs to — before and after the
    write — whatever code wrote it (a form, the API, an import's bulk path, raw SQL). A reader
    counts the classes whose `counts` are clear or were counted on another day (age bands
    move at midnight) and stores them only if `gen` has not moved meanwhile."""

    school_class = models.OneToOneField(
        "org.SchoolClass",
        models.CASCADE,
        primary_key=True,
        related_name="live_count",
        verbose_name="班级",
    )
    gen = models.BigIntegerField("写入次数", default=0)
    day = models.DateField("统计日期", null=True)
    layout = models.PositiveSmallIntegerField("计数格式", default=0)  # daycounts.LAYOUT
    counts = models.JSONField("计数", null=True)

    class Meta:
        verbose_name = "班级当日统计"
        verbose_name_plural = "班级当日统计"

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.day}"


class TermPoint(models.Model):
    """One stored point of the trends per term (stats/termstore.py): what
    `trends.term_point` counted for a user's scope and filters (`key`) in `term` as of a
    past `day`. Triggers on the tables the point reads delete the points a write could
    change (termstore.TRIGGERS); `data` is NULL while the first reader counts it."""

    key = models.CharField("范围", max_length=64)
    term = models.CharField("学期", max_length=12)
    day = models.DateField("截至日期")
    data = models.JSONField("统计", null=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "学期趋势统计"
        verbose_name_plural = "学期趋势统计"
        constraints = [
            models.UniqueConstraint(fields=["key", "term", "day"], name="term_point_once"),
        ]
        indexes = [
            models.Index(fields=["day"], name="term_point_day"),
            models.Index(fields=["term"], name="term_point_term"),
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.day:%Y-%m-%d}"


class CoverageChange(models.Model):
    """A write that may change today's coverage panels of a class (stats/covstore.py): a row
    added by database triggers in the writer's transaction — the class of a child whose
    contact, screening record, verification, pair, assignment or card was written; a school
    (`school_id`, no class) whose campaign, round or contact rules were; neither for a town's
    rules or a school or class moved. Rows are only ever added (the worker removes those of
    past days), so a stored line is valid while the count and the largest id of its rows are
    as they were when it was counted."""

    id = models.BigAutoField(primary_key=True)
    school_class_id = models.BigIntegerField("班级", null=True)
    school_id = models.BigIntegerField("学校", null=True)

    class Meta:
        verbose_name = "覆盖统计变更"
        verbose_name_plural = "覆盖统计变更"

    def __str__(self) -> str:
        return f"{self.pk} {self.school_class_id or ''} {self.school_id or ''}"


class CoverageLine(models.Model):
    """Today's coverage panels of one class (stats/covstore.py): {panel: [done, total]} as
    `coverage.panels` counts them for the class's enrolled children, counted on `day` under
    the due rules `rules`, valid while the class's changes (`stamp`) are those it saw."""

    school_class = models.OneToOneField(
        "org.SchoolClass",
        models.CASCADE,
        primary_key=True,
        related_name="coverage_line",
        verbose_name="班级",
    )
    day = models.DateField("统计日期")
    rules = models.CharField("联系规则", max_length=255)
    stamp = models.CharField("变更标记", max_length=100)
    data = models.JSONField("覆盖统计")
    # the class's first children due in the due page's order (at most covstore.FIRST_CHILDREN),
    # their places in the list as 64-bit integers (covstore.places, covstore.pack): read only
    # for the classes a page of the town's due list needs
    first = models.BinaryField("最该联系的儿童", null=True, blank=True, default=None)
    # and those children's items due (child and rule) in the API's order (covstore.places)
    items = models.BinaryField("最该联系的事项", null=True, blank=True, default=None)

    class Meta:
        verbose_name = "班级当日覆盖统计"
        verbose_name_plural = "班级当日覆盖统计"

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.day}"
