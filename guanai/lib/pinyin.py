"""Pinyin search keys for names: initials and full spellings, every reading of a character.

pypinyin's default reading gets surnames wrong (单 → dān, not shàn), so every reading of every
character is indexed: the key holds all combinations of initials and of full spellings, capped
so that a name with many heteronyms cannot explode.
"""

from itertools import islice, product

from pypinyin import Style, pinyin

MAX_COMBINATIONS = 32


def search_key(name: str) -> str:
    """Space-separated lower-case keys: 'zs zhangsan ...' for 张三."""
    if not name:
        return ""
    initials = pinyin(name, style=Style.FIRST_LETTER, heteronym=True, errors="default")
    full = pinyin(name, style=Style.NORMAL, heteronym=True, errors="default")
    keys: list[str] = []
    for readings in (initials, full):
        options = [sorted({r.lower() for r in rs}) for rs in readings]
        for combo in islice(product(*options), MAX_COMBINATIONS):
            key = "".join(combo).replace(" ", "")
            if key not in keys:
                keys.append(key)
    return " ".join(keys)
