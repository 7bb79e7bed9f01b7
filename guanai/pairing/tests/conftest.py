"""A school to pair on top of the shared cast.

HS-ZX after this fixture: children to pair 张三 (c31, 2017-03-02), 单小明 (c31, female,
2017-05-09), 李四 (c32, 2017-01-20); buddies 王五 (c41, 2016-04-01, from the cast), 刘一 (c31,
2017-03-10, 虎山村 一组) and 陈二 (c31, female, 2017-05-01). 板桥小学 holds a buddy who would be
perfect for 李四 but is in another school. The optimum: 张三–刘一 (8 days), 单小明–陈二 (8 days),
李四–王五 (294 days), total 310/365.
"""

import datetime as dt

import pytest

from guanai.testing import make_child

HOME = {"father.status": "home", "mother.status": "home"}


@pytest.fixture
def school(cast, kids):
    classes = cast["classes"]
    buddies = {
        "liu": make_child(
            classes["c31"], name="刘一", birth=dt.date(2017, 3, 10), group="一组", **HOME
        ),
        "chen": make_child(
            classes["c31"], name="陈二", gender="female", birth=dt.date(2017, 5, 1), **HOME
        ),
        "bq_perfect": make_child(
            classes["bq31"], name="板桥伙伴", birth=dt.date(2017, 1, 20), **HOME
        ),
    }
    return {
        "school": cast["schools"]["zx"],
        "kids": kids,
        "buddies": buddies,
        "expected": {
            (kids["c31a"].pk, buddies["liu"].pk),
            (kids["c31b"].pk, buddies["chen"].pk),
            (kids["c32a"].pk, kids["c41a"].pk),
        },
    }
