"""The glossary's rules for 单留守 / 双留守 / 随迁 / 未摸排 and the 民政 count."""

import datetime as dt

import pytest

from guanai.children.classification import ParentFacts, classify

ON = dt.date(2026, 11, 29)


def c(father, mother, *, migrant=False, hukou="rural", birth=dt.date(2017, 3, 2), **kw):
    f = father if isinstance(father, ParentFacts) else ParentFacts(father)
    m = mother if isinstance(mother, ParentFacts) else ParentFacts(mother)
    return classify(
        father=f,
        mother=m,
        is_migrant=migrant,
        hukou=hukou,
        birth_date=birth,
        on=kw.pop("on", ON),
        **kw,
    )


@pytest.mark.parametrize(
    ("father", "mother", "category", "civil"),
    [
        ("away", "away", "double", True),
        ("away", "home", "single", False),
        ("home", "away", "single", False),
        ("away", "deceased", "double", False),
        ("away", "missing", "double", False),
        ("away", "incapable", "double", True),
        ("incapable", "away", "double", True),
        ("home", "home", "none", False),
        ("deceased", "home", "none", False),
        ("", "away", "unknown", False),
        ("away", "", "unknown", False),
    ],
)
def test_category_follows_parents_facts(father, mother, category, civil):
    result = c(father, mother)
    assert result.category == category
    assert result.civil_affairs is civil


def test_reason_names_the_facts():
    assert c("away", "away").reason == "父母均外出务工"
    assert c("away", "home").reason == "父亲外出务工，母亲在家"


def test_parent_away_less_than_three_months_does_not_count_yet():
    recent = ParentFacts("away", ON - dt.timedelta(days=40))
    assert c(recent, "home").category == "none"
    assert c(recent, "away").category == "double"  # the other one alone makes no parent home


def test_away_exactly_three_months_counts():
    since = dt.date(2026, 8, 29)
    assert c(ParentFacts("away", since), "home").category == "single"
    assert c(ParentFacts("away", since), "home", on=dt.date(2026, 11, 28)).category == "none"


def test_away_without_date_counts_as_away():
    assert c(ParentFacts("away", None), "home").category == "single"


def test_migrant_flag_only_when_not_left_behind():
    assert c("home", "home", migrant=True).category == "migrant"
    assert c("away", "away", migrant=True).category == "double"


def test_civil_affairs_excludes_sixteen_and_over_and_urban_hukou():
    assert c("away", "away", birth=dt.date(2010, 11, 29)).civil_affairs is False
    assert c("away", "away", birth=dt.date(2010, 11, 30)).civil_affairs is True
    assert c("away", "away", hukou="urban").civil_affairs is False
    assert c("away", "away", hukou="").civil_affairs is False


def test_threshold_is_a_setting():
    since = ParentFacts("away", ON - dt.timedelta(days=50))
    assert c(since, "home", away_months=1).category == "single"
