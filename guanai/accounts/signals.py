"""API tokens die with the credentials they were issued under.

A signal, because passwords change in Django's own code paths that never call our services
(the admin's set-password form, `guanai changepassword`, any set_password() + save()): the auth
layer below must tell the token layer above.
"""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .models import RevokeReason, User
from .services import revoke_tokens


@receiver(pre_save, sender=User)
def note_credential_change(sender, instance: User, raw: bool = False, update_fields=None, **kw):
    instance._revoke_tokens_for = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login at every login: no query
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    # Django re-hashes a password at login when the hasher settings change: it saves
    # update_fields=["password"] without a raw password, and says that is no password change.
    rehash = getattr(instance, "_password", None) is None and update_fields is not None
    if old["password"] != instance.password and not rehash:
        instance._revoke_tokens_for = RevokeReason.PASSWORD
    elif old["is_active"] and not instance.is_active:
        instance._revoke_tokens_for = RevokeReason.DEACTIVATED


@receiver(post_save, sender=User)
def revoke_tokens_after_credential_change(sender, instance: User, **kw) -> None:
    reason = getattr(instance, "_revoke_tokens_for", None)
    if reason:
        instance._revoke_tokens_for = None
        revoke_tokens(user=instance, reason=reason)
