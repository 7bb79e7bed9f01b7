"""Activities, donations and homes over the shared cast (conftest.py `cast`)."""

import datetime as dt

import pytest
from django.test import Client

from guanai.activities import services
from guanai.activities.models import ActivityKind

ALL = {
    "town",
    "inspector",
    "zx_leader",
    "zx_grade3",
    "zx_teacher31",
    "zx_counselor",
    "bq_leader",
    "proxy_wang",
}
# Who reads the schools' records (scope.schools(user, "view")) and who runs them ("manage").
READ_ZX = {"town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}
READ_BQ = {"town", "inspector", "bq_leader"}
MANAGE_ZX = {"town", "zx_leader"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def plan(school, by, kind=ActivityKind.SUMMER_CAMP, **values):
    data = {
        "kind": kind,
        "title": "暑期意志营",
        "starts_on": dt.date(2026, 11, 20),
        "ends_on": dt.date(2026, 11, 22),
    } | values
    return services.create_activity(school=school, values=data, by=by)


@pytest.fixture
def acts(cast):
    """A summer camp at ZX with c31a, c32a and c41a on the list, a proxy-parent activity at ZX
    with c31a and c32a, and a camp at BQ with bq31a."""
    users, kids, schools = cast["users"], cast["children"], cast["schools"]
    camp = plan(schools["zx"], users["zx_leader"])
    services.add_participants(
        activity=camp,
        child_ids=[kids["c31a"].pk, kids["c32a"].pk, kids["c41a"].pk],
        by=users["zx_leader"],
    )
    proxy = plan(
        schools["zx"], users["zx_leader"], ActivityKind.PROXY_PARENT, title="代理家长见面会"
    )
    services.add_participants(
        activity=proxy, child_ids=[kids["c31a"].pk, kids["c32a"].pk], by=users["zx_leader"]
    )
    bq = plan(schools["bq"], users["bq_leader"], title="板桥意志营")
    services.add_participants(activity=bq, child_ids=[kids["bq31a"].pk], by=users["bq_leader"])
    return {"camp": camp, "proxy": proxy, "bq": bq}
