"""Closed vocabularies as people say them: parents' status, guardian relation, yes/no, 户口."""

from .text import clean, digits_of_number

PARENT_STATUS = {
    "在家": "home",
    "务农": "home",
    "在本地": "home",
    "本地": "home",
    "在家务农": "home",
    "外出务工": "away",
    "打工": "away",
    "外出打工": "away",
    "务工": "away",
    "外出": "away",
    "已故": "deceased",
    "去世": "deceased",
    "死亡": "deceased",
    "病故": "deceased",
    "失踪": "missing",
    "下落不明": "missing",
    "无监护能力": "incapable",
    "重病": "incapable",
    "重残": "incapable",
    "服刑": "incapable",
}
RELATION = {
    "爷爷": "祖父",
    "祖父": "祖父",
    "奶奶": "祖母",
    "祖母": "祖母",
    "外公": "外祖父",
    "姥爷": "外祖父",
    "外祖父": "外祖父",
    "外婆": "外祖母",
    "姥姥": "外祖母",
    "外祖母": "外祖母",
}
# Yes and no as sheets, forms and programs write them (compared in lower case).
YES = frozenset({"是", "有", "√", "✓", "✔", "1", "y", "yes", "true", "on"})
NO = frozenset({"否", "无", "不是", "×", "✗", "✘", "0", "n", "no", "false", "off"})
# The boarding column's own words: 寄宿 is yes, 走读 no — only there (寄宿 is no answer to
# 是否随迁子女).
BOARDING = {"寄宿": True, "住校": True, "寄宿生": True, "走读": False, "走读生": False}
HUKOU = {
    "农业": "rural",
    "农村": "rural",
    "农业户口": "rural",
    "农村户口": "rural",
    "非农业": "urban",
    "非农": "urban",
    "城镇": "urban",
    "居民": "urban",
    "非农业户口": "urban",
    "城镇户口": "urban",
    "居民户口": "urban",
}


class VocabError(ValueError):
    """A value outside a closed list; Chinese message."""


def parse_parent_status(value: object) -> str:
    """Everyday words → home/away/deceased/missing/incapable; '' for blank."""
    text = clean(value).replace(" ", "")
    if not text:
        return ""
    if text in PARENT_STATUS:
        return PARENT_STATUS[text]
    raise VocabError(f"状况“{text}”无法识别，应为 在家、外出务工、已故、失踪、无监护能力 之一")


def parse_relation(value: object) -> str:
    text = clean(value).replace(" ", "")
    return RELATION.get(text, text)


def parse_yes_no(value: object, *, boarding: bool = False) -> bool | None:
    """The one reading of a yes/no answer, for forms, roster rows and API bodies alike:
    是/有/√/✓/1/y/yes/true/on → True, 否/无/不是/×/✗/0/n/no/false/off → False, blank → None;
    with `boarding` also 寄宿/住校 → True and 走读 → False. A bool passes through; a number a
    sheet stored as 1.0 reads as 1. Raises VocabError for anything else."""
    if isinstance(value, bool):
        return value
    text = clean(digits_of_number(value)).replace(" ", "")
    if not text:
        return None
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    if boarding and text in BOARDING:
        return BOARDING[text]
    if boarding:
        raise VocabError(f"“{text}”应为 是（寄宿） 或 否（走读）")
    raise VocabError(f"“{text}”应为 是 或 否")


def parse_hukou(value: object) -> str:
    text = clean(value).replace(" ", "")
    if not text:
        return ""
    if text in ("rural", "urban"):
        return text
    if text in HUKOU:
        return HUKOU[text]
    raise VocabError(f"户口性质“{text}”应为 农业 或 非农业")
