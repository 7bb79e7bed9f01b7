"""What the server keeps for the offline app: each user's outbox key, and the receipts that make
a photo sent from the phone's outbox idempotent. See docs/offline.md."""

from django.conf import settings
from django.db import models


class OutboxKey(models.Model):
    """The key a user's phone encrypts its outbox (visits not yet sent) with.

    Unlike the packet's key, which lives in the login session and goes with logout, this one
    stays for good: unsent visits must outlive a closed tab, a logout and an expired session,
    and be readable again after the next login. The phone holds it in sessionStorage only; at
    rest here it is encrypted with the field key (lib.crypto)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="offline_outbox_key",
        verbose_name="用户",
    )
    key_encrypted = models.CharField("密钥（加密保存）", max_length=200)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "离线待同步区密钥"
        verbose_name_plural = "离线待同步区密钥"

    def __str__(self) -> str:
        return f"{self.user} 的离线密钥"


class PhotoReceipt(models.Model):
    """One photo sent from the phone with an Idempotency-Key: a resend of the same key (a reply
    lost on the way back) answers this photo instead of storing a second one. `digest` is the
    SHA-256 of the contact id and the uploaded bytes, to tell a replay from another photo."""

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="offline_photo_receipts",
        verbose_name="上传人",
    )
    key = models.CharField("幂等键", max_length=100)
    digest = models.CharField("请求摘要", max_length=64)
    photo = models.OneToOneField(
        "contacts.ContactPhoto",
        models.CASCADE,
        related_name="offline_receipt",
        verbose_name="照片",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "离线照片上传记录"
        verbose_name_plural = "离线照片上传记录"
        constraints = [
            models.UniqueConstraint(fields=["by", "key"], name="offline_photo_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.by} · {self.key}"
