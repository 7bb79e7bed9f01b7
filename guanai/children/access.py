"""How much of a card a user may read: full, masked or reduced (proxy parents)."""

from guanai.accounts.models import FULL_ID_ROLES, Role

FULL, MASKED, REDUCED = "full", "masked", "reduced"


def card_access(user) -> str:
    """`full`: the full ID number (logged); `masked`: read-only roles; `reduced`: proxy parents
    see no ID number, health or psychology at all."""
    if user.is_superuser:
        return FULL
    codes = user.role_codes()
    if codes & FULL_ID_ROLES:
        return FULL
    if Role.INSPECTOR in codes:
        return MASKED
    return REDUCED


SENSITIVE_FIELDS = {"health", "disability", "psych_summary", "psych_test_consent"}
