"""Derived classifications of a child: 学籍 category and the 民政 count. Pure, no ORM.

Both are derived from the parents' facts, the child's flags and a reference date, never typed.
Rules (SPEC §2):
- a parent counts as away when their status is 外出务工 and they have been away for at least
  `away_months` months at the reference date (no away-since date: counts as away);
- unknown (未摸排) while either parent's status is blank;
- double (双留守): no parent at home able to care and at least one away;
- single (单留守): one away, the other at home;
- migrant (随迁): flagged 随迁 and not left-behind; else none.
- 民政口径: under 16 at the reference date, rural 户口, both parents away, or one away and the
  other without guardianship capacity (重病、重残).
"""

import datetime as dt
from dataclasses import dataclass

from guanai.lib.dates import add_months, age_on

STATUS_LABELS = {
    "home": "在家",
    "away": "外出务工",
    "deceased": "已故",
    "missing": "失踪",
    "incapable": "无监护能力",
}
CATEGORY_LABELS = {
    "single": "单留守",
    "double": "双留守",
    "migrant": "随迁",
    "none": "非留守",
    "unknown": "未摸排",
}


@dataclass(frozen=True)
class ParentFacts:
    status: str  # '' | home | away | deceased | missing | incapable
    away_since: dt.date | None = None


@dataclass(frozen=True)
class Classification:
    category: str
    reason: str
    civil_affairs: bool
    civil_reason: str


def _away(p: ParentFacts, on: dt.date, away_months: int) -> bool:
    if p.status != "away":
        return False
    return p.away_since is None or add_months(p.away_since, away_months) <= on


def classify(
    *,
    father: ParentFacts,
    mother: ParentFacts,
    is_migrant: bool,
    hukou: str,
    birth_date: dt.date | None,
    on: dt.date,
    away_months: int = 3,
    civil_age: int = 16,
) -> Classification:
    """Classify a child at the reference date `on`."""
    if not father.status or not mother.status:
        missing = "、".join(n for n, p in (("父亲", father), ("母亲", mother)) if not p.status)
        return Classification("unknown", f"{missing}状况未填写", False, "尚未摸排")

    f_away, m_away = _away(father, on, away_months), _away(mother, on, away_months)
    f_label, m_label = STATUS_LABELS[father.status], STATUS_LABELS[mother.status]
    if father.status == "away" and not f_away:
        f_label = f"外出务工未满{away_months}个月"
    if mother.status == "away" and not m_away:
        m_label = f"外出务工未满{away_months}个月"

    if f_away and m_away:
        category, reason = "double", "父母均外出务工"
    elif f_away or m_away:
        other = mother if f_away else father
        away_name, other_name = ("父亲", "母亲") if f_away else ("母亲", "父亲")
        other_label = m_label if f_away else f_label
        if other.status == "home":
            category = "single"
        else:
            category = "double"
        reason = f"{away_name}外出务工，{other_name}{other_label}"
    else:
        category = "migrant" if is_migrant else "none"
        reason = f"父亲{f_label}，母亲{m_label}"
        if is_migrant:
            reason = "随迁子女；" + reason

    # 民政口径 (国发〔2016〕13号)
    if category not in ("single", "double"):
        civil, civil_reason = False, "非留守"
    elif birth_date is None:
        civil, civil_reason = False, "出生日期未知"
    elif age_on(birth_date, on) >= civil_age:
        civil, civil_reason = False, f"已满{civil_age}周岁"
    elif hukou != "rural":
        civil, civil_reason = False, "非农业户口" if hukou else "户口性质未填写"
    elif f_away and m_away:
        civil, civil_reason = True, "父母均外出务工"
    elif (f_away and mother.status == "incapable") or (m_away and father.status == "incapable"):
        civil, civil_reason = True, "一方外出务工，另一方无监护能力"
    else:
        civil, civil_reason = False, "仅一方外出务工"
    return Classification(category, reason, civil, civil_reason)


def birthday(birth: dt.date, years: int) -> dt.date:
    """The day a child turns `years` old, as `age_on` counts it: a 29 February birth has its
    birthday on 29 February in a leap year (2012 → 2028, every 16th year), else on 1 March."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def change_dates(
    *,
    facts_dates: list[dt.date],
    away_since: list[dt.date | None],
    birth_date: dt.date | None,
    away_months: int,
    civil_age: int,
) -> list[dt.date]:
    """Dates on which a classification may change without anyone editing the card."""
    dates = set(facts_dates)
    dates.update(add_months(d, away_months) for d in away_since if d)
    if birth_date:
        dates.add(birthday(birth_date, civil_age))
    return sorted(dates)
