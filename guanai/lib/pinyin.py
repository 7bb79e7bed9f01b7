"""Pinyin search keys for names: initials and full spellings, every reading of a character.

pypinyin's default reading gets surnames wrong (单 → dān, not shàn), so every reading of every
character is indexed: the key holds all combinations of initials and of full spellings, capped
so that a name with many heteronyms cannot explode.
"""

from itertools import islice, product

from pypinyin import Style, pinyin

MAX_COMBINATIONS = 32
MAX_LENGTH = 500  # the width of Child.name_pinyin


def ordered_readings(readings: list[str]) -> list[str]:
    """One character's readings, lower-case, pypinyin's first (most common) reading first, so
    that the usual spelling of a name is always among the keys kept."""
    lowered = [r.lower() for r in readings]
    first = lowered[0] if lowered else ""
    return [first, *sorted(set(lowered) - {first})]


def join_keys(initials: list[list[str]], full: list[list[str]]) -> str:
    """The key from each character's ordered readings: initials first, then full spellings, at
    most MAX_COMBINATIONS of each, never more than MAX_LENGTH characters (whole keys are
    dropped from the end: rare readings of long names)."""
    keys: list[str] = []
    length = -1
    for options in (initials, full):
        for combo in islice(product(*options), MAX_COMBINATIONS):
            key = "".join(combo).replace(" ", "")
            if key in keys:
                continue
            if length + 1 + len(key) > MAX_LENGTH:
                break
            keys.append(key)
            length += 1 + len(key)
    return " ".join(keys)


def search_key(name: str) -> str:
    """Space-separated lower-case keys: 'zs zhangsan ...' for 张三."""
    if not name:
        return ""
    return join_keys(
        *(
            [ordered_readings(rs) for rs in pinyin(name, style=style, heteronym=True)]
            for style in (Style.FIRST_LETTER, Style.NORMAL)
        )
    )
