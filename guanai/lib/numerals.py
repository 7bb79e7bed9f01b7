"""Numbers as people write them in class and group names: 3, ３, 三, 十二, 二十三, 两, 一百零五."""

from .text import clean

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _chinese(text: str, *, digit_by_digit: bool) -> int | None:
    if not text or any(ch not in CN_DIGITS and ch not in "十百" for ch in text):
        return None
    if "百" in text:
        head, _, tail = text.partition("百")
        hundreds = CN_DIGITS.get(head) if head else 1
        tail = tail.lstrip("零〇")
        rest = _chinese(tail, digit_by_digit=False) if tail else 0
        if hundreds is None or rest is None:
            return None
        return hundreds * 100 + rest
    if "十" in text:
        head, _, tail = text.partition("十")
        tens = CN_DIGITS.get(head) if head else 1
        ones = CN_DIGITS.get(tail) if tail else 0
        if tens is None or ones is None:
            return None
        return tens * 10 + ones
    if len(text) == 1:
        return CN_DIGITS[text]
    if digit_by_digit:  # 一二 for 12: rare in a group's name, but unambiguous there
        return int("".join(str(CN_DIGITS[ch]) for ch in text))
    return None


def parse_numeral(value: object, *, digit_by_digit: bool = False) -> int | None:
    """'3', '03', '３', '三', '十二', '二十三', '两', '一百零五' → int; None when the text is not a
    number. `digit_by_digit` also reads 一二 as 12 (组 names); grades and classes do not, so
    一二年级 is refused rather than read as 高三."""
    text = clean(value).replace(" ", "")
    if text.isdecimal():
        return int(text)
    return _chinese(text, digit_by_digit=digit_by_digit)
