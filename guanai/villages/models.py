"""The village side of the card: the 委托监护确认书 a children's director helps a guardian sign."""

import uuid

from django.conf import settings
from django.db import models

from guanai.accounts import scope


def scan_path(instance: "Entrustment", filename: str) -> str:
    """A generated name under the school's folder; only .pdf, .jpg or .png (checked and, for
    photos, re-encoded on upload: services.prepare_scan), which the scan view serves the
    content type from."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    ext = ext if ext in ("pdf", "png") else "jpg"
    return f"entrustments/{instance.child.school_id}/{uuid.uuid4().hex}.{ext}"


class EntrustmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EntrustmentQuerySet":
        """Confirmations of the children the user sees (`Child.objects.visible_to`)."""
        from guanai.children.models import Child

        return self.filter(child__in=Child.objects.visible_to(user).values("pk"))

    def recordable_by(self, user) -> "EntrustmentQuerySet":
        """Confirmations of the children in the user's `entrust` units."""
        cond = scope.unit_children_q(user, "entrust", prefix="child__")
        if user is None or not user.is_authenticated:
            return self.none()
        return self if cond is None else self.filter(cond)


class Entrustment(models.Model):
    """A signed 委托监护确认书 (the entrusted guardian confirms she takes on the care of the
    child while the parents are away): who signed, as what, on which day, and its scan. Kept as
    signed: a new guardian signs a new one."""

    child = models.ForeignKey(
        "children.Child", models.CASCADE, related_name="entrustments", verbose_name="儿童"
    )
    guardian_name = models.CharField("受委托监护人", max_length=50)
    guardian_relation = models.CharField("与儿童关系", max_length=20)
    signed_on = models.DateField("签署日期")
    scan = models.FileField("确认书扫描件", upload_to=scan_path)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = EntrustmentQuerySet.as_manager()

    class Meta:
        verbose_name = "委托监护确认书"
        verbose_name_plural = "委托监护确认书"
        ordering = ["-signed_on", "-id"]
        indexes = [models.Index(fields=["child", "signed_on"], name="entrustment_child_signed")]

    def __str__(self) -> str:
        return f"{self.child} · {self.guardian_name} · {self.signed_on:%Y-%m-%d}"

    @property
    def scan_kind(self) -> str:
        return "PDF 文件" if self.scan.name.lower().endswith(".pdf") else "照片"
