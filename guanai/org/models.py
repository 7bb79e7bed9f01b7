"""The organisation: a town, its schools and their classes."""

from django.db import models

from guanai.lib.grades import grade_name


class Town(models.Model):
    """A town (镇) whose schools Guanai serves; supervised by its central school."""

    name = models.CharField("名称", max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "镇"
        verbose_name_plural = "镇"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """A school of the town; `code` is the stable key used by the command line and the API."""

    town = models.ForeignKey(Town, models.PROTECT, related_name="schools", verbose_name="所属镇")
    code = models.CharField("学校代码", max_length=20, unique=True)
    name = models.CharField("学校名称", max_length=60)
    is_central = models.BooleanField("中心校", default=False)
    phone = models.CharField(
        "学校电话", max_length=20, blank=True, help_text="印在致家长的信上（{学校电话}）"
    )
    active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "学校"
        verbose_name_plural = "学校"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class SchoolClassQuerySet(models.QuerySet):
    def ordered(self) -> "SchoolClassQuerySet":
        return self.order_by("school_id", "grade", "class_no")


class SchoolClass(models.Model):
    """A class (班级) of a school: grade 0 (学前班) to 12, class number from 1."""

    school = models.ForeignKey(School, models.PROTECT, related_name="classes", verbose_name="学校")
    grade = models.PositiveSmallIntegerField("年级")
    class_no = models.PositiveSmallIntegerField("班级")
    active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SchoolClassQuerySet.as_manager()

    class Meta:
        verbose_name = "班级"
        verbose_name_plural = "班级"
        ordering = ["school_id", "grade", "class_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "grade", "class_no"], name="org_class_unique_per_school"
            ),
            models.CheckConstraint(condition=models.Q(grade__lte=12), name="org_class_grade_max"),
            models.CheckConstraint(condition=models.Q(class_no__gte=1), name="org_class_no_min"),
        ]

    def __str__(self) -> str:
        return f"{grade_name(self.grade)}({self.class_no})班"

    @property
    def label(self) -> str:
        return f"{self.school.name} {self}"
