"""摸底排查 (screening) at term start, 核实 (verification) before vacations, vacation plans,
field-group freshness and the dated record of transitions (transfers, promotions, graduation).

Scope: a campaign or round belongs to a school; who sees it is decided by `schools_visible_to`
(the schools the user holds a staff role in), and the children listed in it always come from
`Child.objects.visible_to(user)`, so a class teacher sees her class and nothing else.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from guanai.accounts import scope
from guanai.lib.fields import EncryptedText
from guanai.org.models import School


def schools_visible_to(user) -> models.QuerySet:
    """Schools whose campaigns, rounds and imports the user may see (read)."""
    return scope.schools(user, "view")


def schools_managed_by(user) -> models.QuerySet:
    """Schools the user may run school-wide work for: import rosters, open and close campaigns
    and rounds, transfer children, roll the school year over. School leaders and town admins."""
    return scope.schools(user, "manage")


class BySchoolQuerySet(models.QuerySet):
    def visible_to(self, user) -> "BySchoolQuerySet":
        return self.filter(school__in=schools_visible_to(user))


# --- 摸底排查 -----------------------------------------------------------------------------------


class CampaignStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class ScreeningCampaign(models.Model):
    """The screening (摸底排查) of one school at the start of a term: every enrolled student is
    checked and marked screened ("不漏一个学生"). Closing with students unscreened needs a
    reason; the completion at closing is kept in `summary`."""

    school = models.ForeignKey(
        School, models.PROTECT, related_name="screening_campaigns", verbose_name="学校"
    )
    term = models.CharField("学期", max_length=12)
    status = models.CharField(
        "状态", max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发起人",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结束人",
    )
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    close_reason = models.CharField("未完成即结束的原因", max_length=200, blank=True)
    summary = models.JSONField("结束时的完成情况", null=True, blank=True)
    created_at = models.DateTimeField("开始时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BySchoolQuerySet.as_manager()

    class Meta:
        verbose_name = "摸底排查"
        verbose_name_plural = "摸底排查"
        ordering = ["-term", "school_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "term"], name="screening_campaign_once_per_term"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.term} 摸底排查"

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.OPEN


class ScreeningOutcome(models.TextChoices):
    MARKED = "marked", "已核对情况"
    NOT_LEFT_BEHIND = "not_left_behind", "确认非留守"


class ScreeningRecord(models.Model):
    """One child screened in a campaign: by whom, when, and the category it left the card in."""

    campaign = models.ForeignKey(
        ScreeningCampaign, models.CASCADE, related_name="records", verbose_name="摸底排查"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="screening_records", verbose_name="儿童"
    )
    outcome = models.CharField("结果", max_length=16, choices=ScreeningOutcome.choices)
    category = models.CharField("摸排后类别", max_length=8)
    note = models.CharField("备注", max_length=200, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="摸排人",
    )
    screened_at = models.DateTimeField("摸排时间", default=timezone.now)

    class Meta:
        verbose_name = "摸排记录"
        verbose_name_plural = "摸排记录"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "child"], name="screening_record_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.child}"


# --- 核实 ---------------------------------------------------------------------------------------


class Vacation(models.TextChoices):
    WINTER = "winter", "寒假"
    SUMMER = "summer", "暑假"


# 寒假 ends the autumn term (…-1), 暑假 the spring term (…-2).
VACATION_TERM = {Vacation.WINTER: "1", Vacation.SUMMER: "2"}


class RoundStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class AskedOf(models.TextChoices):
    """Whose vacation plans (or safety pledges) a round asks for."""

    LEFT_BEHIND = "left_behind", "留守儿童"
    ALL = "all", "全体学生"
    NONE = "none", "不要求"


class VerificationRound(models.Model):
    """The verification (核实) of one school's cards before a vacation, grade by grade: each card
    confirmed or corrected by its teacher, each grade signed off by its leader (领导包年级). The
    round closes when every grade is signed off. A round asks for vacation plans and returned
    safety pledges of the left-behind children (or of every student, or of none): a grade is
    not signed off while one it asks for is missing."""

    school = models.ForeignKey(
        School, models.PROTECT, related_name="verification_rounds", verbose_name="学校"
    )
    term = models.CharField("学期", max_length=12)
    vacation = models.CharField("假期", max_length=6, choices=Vacation.choices)
    deadline = models.DateField("截止日期")
    plans_of = models.CharField(
        "需登记假期去向", max_length=12, choices=AskedOf.choices, default=AskedOf.LEFT_BEHIND
    )
    pledges_of = models.CharField(
        "需交回安全责任书", max_length=12, choices=AskedOf.choices, default=AskedOf.LEFT_BEHIND
    )
    status = models.CharField(
        "状态", max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发起人",
    )
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    created_at = models.DateTimeField("开始时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BySchoolQuerySet.as_manager()

    class Meta:
        verbose_name = "假期前核实"
        verbose_name_plural = "假期前核实"
        ordering = ["-term", "school_id", "vacation"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "term", "vacation"], name="verification_round_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.term} {self.get_vacation_display()}前核实"

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN

    @property
    def overdue(self) -> bool:
        return self.is_open and self.deadline < timezone.localdate()


class VerificationResult(models.TextChoices):
    CONFIRMED = "confirmed", "核实无误"
    CORRECTED = "corrected", "已更正"


class CardVerification(models.Model):
    """One card verified in a round: confirmed as it was, or corrected."""

    round = models.ForeignKey(
        VerificationRound, models.CASCADE, related_name="verifications", verbose_name="核实"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="verifications", verbose_name="儿童"
    )
    result = models.CharField("结果", max_length=10, choices=VerificationResult.choices)
    groups = models.JSONField("核对的信息组", default=list)
    note = models.CharField("备注", max_length=200, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="核实人",
    )
    verified_at = models.DateTimeField("核实时间", default=timezone.now)

    class Meta:
        verbose_name = "档卡核实"
        verbose_name_plural = "档卡核实"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "child"], name="verification_card_once"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.child}"

    @property
    def group_labels(self) -> list[str]:
        """The checked groups in Chinese, for the page."""
        return [g.label for g in FieldGroup if g.value in self.groups]


class GradeSignOff(models.Model):
    """A grade leader's sign-off (签字确认) of one grade in a round."""

    round = models.ForeignKey(
        VerificationRound, models.CASCADE, related_name="signoffs", verbose_name="核实"
    )
    grade = models.PositiveSmallIntegerField("年级")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="签字人",
    )
    signed_at = models.DateTimeField("签字时间", default=timezone.now)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "年级签字"
        verbose_name_plural = "年级签字"
        ordering = ["grade"]
        constraints = [
            models.UniqueConstraint(fields=["round", "grade"], name="verification_grade_once"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.grade} 年级"


class Destination(models.TextChoices):
    HOME = "home", "在家"
    PARENTS = "parents", "去父母务工地"
    RELATIVES = "relatives", "亲戚家"
    CAMP = "camp", "参加夏令营 / 活动"
    OTHER = "other", "其他"


class PledgeItem(models.TextChoices):
    SWIMMING = "swimming", "防溺水"
    TRAFFIC = "traffic", "交通安全"
    FIRE = "fire", "防火"
    ELECTRICITY = "electricity", "用电安全"
    FOOD = "food", "食品安全"
    STRANGERS = "strangers", "防拐骗"
    INTERNET = "internet", "网络安全"


class VacationPlan(models.Model):
    """A child's vacation plan (假期去向、看护人、活动) and whether the guardian's safety pledge
    (安全责任书) came back signed, recorded in a verification round."""

    round = models.ForeignKey(
        VerificationRound, models.CASCADE, related_name="vacation_plans", verbose_name="核实"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="vacation_plans", verbose_name="儿童"
    )
    destination = models.CharField(
        "假期去向", max_length=10, choices=Destination.choices, blank=True
    )
    place = models.CharField("去向地点", max_length=100, blank=True)
    with_whom = models.CharField("看护人", max_length=50, blank=True)
    contact_phone = EncryptedText("看护人电话", max_length=20, blank=True, single_line=True)
    activities = models.CharField("活动安排", max_length=300, blank=True)
    pledge_returned = models.BooleanField("安全责任书已交回", default=False)
    pledge_returned_on = models.DateField("交回日期", null=True, blank=True)
    pledge_items = models.JSONField("责任书条目", default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="登记人",
    )
    updated_at = models.DateTimeField("登记时间", auto_now=True)

    class Meta:
        verbose_name = "假期去向与安全责任书"
        verbose_name_plural = "假期去向与安全责任书"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "child"], name="vacation_plan_once"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.child}"


# --- field-group freshness ------------------------------------------------------------------


class FieldGroup(models.TextChoices):
    BASIC = "basic", "基本信息"
    ADDRESS = "address", "家庭住址"
    PARENTS = "parents", "父母"
    GUARDIAN = "guardian", "监护人"
    CARE = "care", "监护评估与家庭"
    HEALTH = "health", "健康、学习与安全"


class CheckSource(models.TextChoices):
    SCREENING = "screening", "摸底排查"
    VERIFICATION = "verification", "假期前核实"


class CardCheck(models.Model):
    """When one group of a card's fields was last verified and by whom (one row per child and
    group, overwritten by each later check)."""

    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="checks", verbose_name="儿童"
    )
    group = models.CharField("信息组", max_length=10, choices=FieldGroup.choices)
    term = models.CharField("学期", max_length=12)
    source = models.CharField("来源", max_length=12, choices=CheckSource.choices)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="核对人",
    )
    checked_at = models.DateTimeField("核对时间", default=timezone.now)

    class Meta:
        verbose_name = "档卡信息核对"
        verbose_name_plural = "档卡信息核对"
        ordering = ["child_id", "group"]
        constraints = [
            models.UniqueConstraint(fields=["child", "group"], name="card_check_once"),
        ]

    def __str__(self) -> str:
        return f"{self.child} · {self.get_group_display()}"


# --- 动态管理: transitions ----------------------------------------------------------------------


class TransitionKind(models.TextChoices):
    TRANSFER = "transfer", "镇内转学"
    TRANSFER_OUT = "transfer_out", "转出本镇"
    PROMOTE = "promote", "升级"
    GRADUATE = "graduate", "毕业"


class Transition(models.Model):
    """A dated change of a child's school, class or enrolment (动态管理). `on` is when it took
    effect, which may be earlier than when it was recorded; counts for a past date are rebuilt
    from these rows (see guanai.screening.transitions.school_counts_on)."""

    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="transitions", verbose_name="儿童"
    )
    kind = models.CharField("类型", max_length=12, choices=TransitionKind.choices)
    on = models.DateField("生效日期")
    from_school = models.ForeignKey(School, models.PROTECT, related_name="+", verbose_name="原学校")
    to_school = models.ForeignKey(School, models.PROTECT, related_name="+", verbose_name="新学校")
    from_class = models.ForeignKey(
        "org.SchoolClass", models.PROTECT, related_name="+", verbose_name="原班级"
    )
    to_class = models.ForeignKey(
        "org.SchoolClass", models.PROTECT, related_name="+", verbose_name="新班级"
    )
    from_enrolment = models.CharField("原在读状态", max_length=12)
    to_enrolment = models.CharField("新在读状态", max_length=12)
    reason = models.CharField("原因", max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "学籍变动"
        verbose_name_plural = "学籍变动"
        ordering = ["on", "id"]
        indexes = [
            models.Index(fields=["from_school", "on"], name="transition_from_school_on"),
            models.Index(fields=["to_school", "on"], name="transition_to_school_on"),
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.child} {self.get_kind_display()}"


class Rollover(models.Model):
    """A school's roll-over into a new school year (学年升级): every class promoted, the top
    grade graduated. At most one per school and school year."""

    school = models.ForeignKey(
        School, models.PROTECT, related_name="rollovers", verbose_name="学校"
    )
    school_year = models.CharField("进入学年", max_length=9)
    on = models.DateField("生效日期")
    top_grade = models.PositiveSmallIntegerField("毕业年级")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    summary = models.JSONField("结果", default=dict)
    created_at = models.DateTimeField("执行时间", auto_now_add=True)

    objects = BySchoolQuerySet.as_manager()

    class Meta:
        verbose_name = "学年升级"
        verbose_name_plural = "学年升级"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year"], name="rollover_once_a_year"),
        ]

    def __str__(self) -> str:
        return f"{self.school} 升级到 {self.school_year} 学年"
