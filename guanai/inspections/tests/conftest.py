"""Inspections over the shared cast, and /api/v1/rectifications mounted for these tests until
guanai/api.py mounts it (the same prefix, so the tests stay as they are afterwards)."""

import datetime as dt

import pytest
from django.test import Client

from guanai.api import api
from guanai.inspections.api_rectifications import rectifications_router
from guanai.testing import make_child, make_class

if all(prefix != "/rectifications" for prefix, _router in api._routers):
    api.add_router("/rectifications", rectifications_router)

HOME = {"father.status": "home", "mother.status": "home"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bq(cast):
    """板桥小学 with twelve left-behind children over grades 1, 3 and 5 and two who are not."""
    school = cast["schools"]["bq"]
    kids = {"bq31a": cast["children"]["bq31a"]}
    for grade, count in ((1, 3), (3, 5), (5, 3)):
        klass = make_class(school, grade, 1)
        for i in range(count):
            kids[f"g{grade}_{i}"] = make_child(
                klass, name=f"板桥{grade}年级{i}", birth=dt.date(2019 - grade, 3, 1 + i)
            )
    kids["home"] = make_child(make_class(school, 3, 1), name="在家孩子", **HOME)
    kids["single"] = make_child(
        make_class(school, 3, 1), name="单留守", **{"father.status": "home"}
    )
    return {"school": school, "kids": kids, "users": cast["users"]}
