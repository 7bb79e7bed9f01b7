"""Masked forms of ID numbers and phones, for lists (PIPL: show only what is needed)."""


def mask_id_number(number: str) -> str:
    """4301**********1233: first 4 and last 4 characters kept."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_id_beside_birth_date(number: str) -> str:
    """4311************33: where the birth date is shown beside it, the first 4 and last 4
    would leave only the two region digits unknown (about ten candidates): keep 2 at the end."""
    if not number or len(number) <= 8:
        return "*" * len(number or "")
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


def mask_phone(number: str) -> str:
    """138****5678 for mobiles; landlines keep area code and last 4."""
    if not number:
        return ""
    if "-" in number:
        area, rest = number.split("-", 1)
        return f"{area}-{'*' * max(len(rest) - 4, 0)}{rest[-4:]}"
    if len(number) == 11:
        return number[:3] + "****" + number[-4:]
    return "*" * max(len(number) - 4, 0) + number[-4:]
