"""依托载体: activities (结对活动, 代理家长活动, 暑期意志营 …) with participants and attendance;
the 爱心捐献 ledger (donations and their allocations to children); children's homes
(留守儿童之家) with their door sign-ins.

Every record belongs to a school: readers are the school's readers (`scope.schools(user,
"view")`), writers its managers; attendance and door sign-ins follow the child (`contact`)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum


def plain(value: Decimal) -> str:
    """500.00 → "500", 12.50 → "12.5": a sum as people write it."""
    return format(value.normalize(), "f") if value is not None else ""


class ActivityKind(models.TextChoices):
    PAIRING = "pairing", "结对活动"
    DONATION = "donation", "爱心捐献"
    PROXY_PARENT = "proxy_parent", "代理家长活动"
    SUMMER_CAMP = "summer_camp", "暑期意志营"
    ONLINE_CAMP = "online_camp", "网络夏令营"
    FAMILY_CALL = "family_call", "亲情电话"
    SAFETY = "safety", "安全教育"
    COUNSELLING = "counselling", "心理辅导"
    MORAL_BASE = "moral_base", "德育基地"
    OTHER = "other", "其他"


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ActivityQuerySet":
        """Activities of the schools the user reads, and — for someone named to children, a
        proxy parent — the activities those children take part in."""
        from guanai.accounts import scope
        from guanai.children.models import Child

        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        kids = Child.objects.visible_to(user).values("pk")
        return self.filter(
            Q(school__in=scope.schools(user, "view"))
            | Q(pk__in=Participant.objects.filter(child__in=kids).values("activity_id"))
        )


class Activity(models.Model):
    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="activities", verbose_name="学校"
    )
    kind = models.CharField("活动类型", max_length=16, choices=ActivityKind.choices)
    title = models.CharField("活动名称", max_length=100)
    goal = models.TextField("活动目标", blank=True)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    place = models.CharField("地点", max_length=100, blank=True)
    organiser = models.CharField("组织者", max_length=100, blank=True)
    partners = models.CharField("合作单位", max_length=200, blank=True)
    budget = models.DecimalField(
        "预算（元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    summary = models.TextField("活动总结", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = "关爱活动"
        verbose_name_plural = "关爱活动"
        ordering = ["id"]
        indexes = [models.Index(fields=["school", "starts_on"], name="activity_school_start")]

    def __str__(self) -> str:
        return self.title


class Participant(models.Model):
    """A child on an activity's list; `present` None until attendance is taken."""

    activity = models.ForeignKey(
        Activity, models.CASCADE, related_name="participants", verbose_name="活动"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="activity_places", verbose_name="儿童"
    )
    present = models.BooleanField("到场", null=True, blank=True)
    late_added = models.BooleanField("现场补录", default=False)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="点名人",
    )
    marked_at = models.DateTimeField("点名时间", null=True, blank=True)

    class Meta:
        verbose_name = "活动参加儿童"
        verbose_name_plural = "活动参加儿童"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "child"], name="participant_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.child_id}"


class DonorKind(models.TextChoices):
    PERSON = "person", "个人"
    ORGANISATION = "organisation", "单位"


class GiftKind(models.TextChoices):
    MONEY = "money", "现金"
    ITEMS = "items", "物品"


class DonationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "DonationQuerySet":
        from guanai.accounts import scope

        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(school__in=scope.schools(user, "view"))

    def with_allocated(self) -> "DonationQuerySet":
        return self.annotate(
            allocated_total=models.functions.Coalesce(
                Sum("allocations__amount"),
                Decimal(0),
                output_field=models.DecimalField(max_digits=14, decimal_places=2),
            )
        )


class Donation(models.Model):
    """One gift received: money in yuan (`amount`) or `amount` pieces of `item`."""

    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="donations", verbose_name="学校"
    )
    donor = models.CharField("捐赠方", max_length=100)
    donor_kind = models.CharField("捐赠方类型", max_length=12, choices=DonorKind.choices)
    donor_contact = models.CharField("联系方式", max_length=100, blank=True)
    kind = models.CharField("捐赠形式", max_length=8, choices=GiftKind.choices)
    item = models.CharField("物品", max_length=100, blank=True)
    amount = models.DecimalField("数量", max_digits=12, decimal_places=2)
    received_on = models.DateField("接收日期")
    notes = models.TextField("备注", blank=True)
    # For the donor's certificate: what the gift did, written by staff without any child's
    # name, class or photo (services.clean_stories checks the names of the children it went to).
    stories = models.TextField("匿名故事", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = DonationQuerySet.as_manager()

    class Meta:
        verbose_name = "爱心捐献"
        verbose_name_plural = "爱心捐献"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.donor} {self.what}"

    @property
    def unit(self) -> str:
        return "元" if self.kind == GiftKind.MONEY else "件"

    @property
    def what(self) -> str:
        return (
            f"{plain(self.amount)} 元"
            if self.kind == GiftKind.MONEY
            else f"{self.item} {plain(self.amount)} 件"
        )

    def allocated(self) -> Decimal:
        found = getattr(self, "allocated_total", None)
        if found is None:
            found = self.allocations.aggregate(s=Sum("amount"))["s"] or Decimal(0)
        return Decimal(found).quantize(Decimal("0.01"))

    def balance(self) -> Decimal:
        return self.amount - self.allocated()


class Allocation(models.Model):
    """Part of a donation handed to a child: how much, when, by whom, with the receipt slip."""

    donation = models.ForeignKey(
        Donation, models.PROTECT, related_name="allocations", verbose_name="捐赠"
    )
    child = models.ForeignKey(
        "children.Child", models.PROTECT, related_name="allocations", verbose_name="儿童"
    )
    what = models.CharField("发放内容", max_length=100, blank=True)
    amount = models.DecimalField("数量", max_digits=12, decimal_places=2)
    handed_on = models.DateField("发放日期")
    handed_by = models.CharField("经手人", max_length=50)
    receipt_code = models.CharField("签收单号", max_length=50, blank=True)
    reason = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "捐赠发放"
        verbose_name_plural = "捐赠发放"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.what} {plain(self.amount)}"


class HomeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "HomeQuerySet":
        from guanai.accounts import scope

        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(school__in=scope.schools(user, "view"))


class Home(models.Model):
    """A children's home (留守儿童之家) run by a school, at the school or in a village."""

    school = models.ForeignKey(
        "org.School", models.PROTECT, related_name="children_homes", verbose_name="学校"
    )
    name = models.CharField("名称", max_length=100)
    opening_hours = models.CharField("开放时间", max_length=100, blank=True)
    equipment = models.CharField("设施", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = HomeQuerySet.as_manager()

    class Meta:
        verbose_name = "留守儿童之家"
        verbose_name_plural = "留守儿童之家"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class HomeVisit(models.Model):
    """A child's stay at a home: signed in at the door, signed out when leaving."""

    home = models.ForeignKey(Home, models.CASCADE, related_name="visits", verbose_name="儿童之家")
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="home_visits", verbose_name="儿童"
    )
    signed_in_at = models.DateTimeField("签到时间")
    signed_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    on_duty = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="值班人员",
    )

    class Meta:
        verbose_name = "儿童之家签到"
        verbose_name_plural = "儿童之家签到"
        ordering = ["id"]
        indexes = [models.Index(fields=["home", "signed_in_at"], name="homevisit_home_in")]

    def __str__(self) -> str:
        return f"{self.home_id}:{self.child_id}"


class HomeDuty(models.Model):
    """One slot of a home's rota (值班表): a member of the school's staff on duty on a day."""

    home = models.ForeignKey(Home, models.CASCADE, related_name="duties", verbose_name="儿童之家")
    on = models.DateField("值班日期")
    starts_at = models.TimeField("开始时间")
    ends_at = models.TimeField("结束时间")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="值班人员"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "儿童之家值班"
        verbose_name_plural = "儿童之家值班"
        ordering = ["on", "starts_at", "id"]
        indexes = [models.Index(fields=["home", "on"], name="homeduty_home_on")]
        constraints = [
            models.UniqueConstraint(
                fields=["home", "on", "starts_at", "staff"], name="homeduty_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.starts_at:%H:%M}-{self.ends_at:%H:%M} {self.staff}"

    @property
    def slot(self) -> str:
        return f"{self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class Channel(models.TextChoices):
    NEWS = "news", "新闻稿"
    WALL = "wall", "校园宣传栏"
    WECHAT = "wechat", "公众号"
    OTHER = "other", "其他"


class PublicityItem(models.Model):
    """A publicity summary (宣传) of an activity issued on a channel: the seed's 宣传 measure
    counts these (services.publicity_count)."""

    activity = models.ForeignKey(
        Activity, models.CASCADE, related_name="publicity_items", verbose_name="活动"
    )
    channel = models.CharField("发布渠道", max_length=8, choices=Channel.choices)
    issued_on = models.DateField("发布日期")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "活动宣传"
        verbose_name_plural = "活动宣传"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.channel}"


def photo_path(instance: "ActivityPhoto", filename: str) -> str:
    """A generated name; only the re-encoded file's extension (.jpg or .png) survives."""
    import uuid

    ext = "png" if filename.lower().endswith(".png") else "jpg"
    return f"activities/{instance.activity_id}/{uuid.uuid4().hex}.{ext}"


class ActivityPhoto(models.Model):
    """A photo of a child at an activity: stored only when her card records the guardian's
    photo consent (contacts.services.prepare_photos), served only to users who see her."""

    activity = models.ForeignKey(
        Activity, models.CASCADE, related_name="photos", verbose_name="活动"
    )
    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="activity_photos", verbose_name="儿童"
    )
    file = models.FileField("照片", upload_to=photo_path)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="上传人"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "活动照片"
        verbose_name_plural = "活动照片"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file.name
