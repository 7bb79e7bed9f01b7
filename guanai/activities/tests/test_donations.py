"""/api/v1/donations: the ledger, its invariant (never more handed out than received), the
fairness list, every route for every demo role."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanai.activities import donations
from guanai.activities.models import Allocation, Donation
from guanai.lib.errors import Invalid

from .conftest import ALL, MANAGE_ZX, READ_BQ, READ_ZX, client_for

URL = "/api/v1/donations"
BODY = {
    "school": "HS-ZX",
    "donor": "县妇联",
    "donor_kind": "organisation",
    "donor_contact": "0746-1234567",
    "kind": "money",
    "amount": "2000",
    "received_on": "2026-11-20",
}


def give(school, by, **values):
    data = {
        "donor": "爱心人士",
        "kind": "items",
        "item": "书包",
        "amount": "10",
        "received_on": dt.date(2026, 11, 1),
    } | values
    return donations.record_donation(school=school, values=data, by=by)


def hand(donation, child, by, amount="1", **values):
    data = {"amount": amount, "handed_on": dt.date(2026, 11, 25), "handed_by": "刘校长"} | values
    return donations.allocate(donation=donation, child=child, values=data, by=by)


def fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {d["field"]: d["msg"] for d in response.json()["detail"]}


@pytest.fixture
def gifts(cast):
    users, schools = cast["users"], cast["schools"]
    return {
        "zx": give(schools["zx"], users["zx_leader"]),
        "bq": give(schools["bq"], users["bq_leader"], kind="money", item="", amount="500"),
    }


@pytest.mark.parametrize("who", sorted(ALL))
def test_recording_a_donation_is_for_the_schools_managers(who, users, cast):
    r = client_for(users[who]).post(URL, BODY, content_type="application/json")
    if who in MANAGE_ZX:
        assert r.status_code == 201, r.content
        assert r.json()["balance"] == "2000.00" and r.json()["item"] == ""
    else:
        assert r.status_code == (404 if who == "bq_leader" else 403)


@pytest.mark.parametrize("who", sorted(ALL))
def test_reading_donations_follows_the_school(who, users, gifts):
    c = client_for(users[who])
    assert c.get(f"{URL}/{gifts['zx'].pk}").status_code == (200 if who in READ_ZX else 404)
    assert c.get(f"{URL}/{gifts['bq'].pk}").status_code == (200 if who in READ_BQ else 404)
    listed = {d["id"] for d in c.get(URL).json()["items"]}
    assert listed == {gifts[k].pk for k, seen in (("zx", READ_ZX), ("bq", READ_BQ)) if who in seen}
    assert c.get(f"{URL}/{gifts['zx'].pk}/allocations").status_code == (
        200 if who in READ_ZX else 404
    )


def test_donation_bad_input_names_the_fields(users, cast):
    c = client_for(users["zx_leader"])
    found = fields(
        c.post(
            URL,
            BODY | {"donor": "", "kind": "items", "amount": "0"},
            content_type="application/json",
        )
    )
    assert found["donor"] == "捐赠方：请填写捐赠方"
    assert found["item"].startswith("物品")
    assert found["amount"].startswith("数量")
    found = fields(
        c.post(URL, BODY | {"received_on": "2027-05-01"}, content_type="application/json")
    )
    assert found["received_on"].startswith("接收日期")
    found = fields(c.post(URL, BODY | {"kind": "gold"}, content_type="application/json"))
    assert found["kind"].startswith("类型")


@pytest.mark.parametrize("who", sorted(ALL))
def test_allocating_is_for_the_schools_managers(who, users, kids, gifts):
    body = {
        "child": kids["c31a"].pk,
        "amount": "2",
        "handed_on": "2026-11-25",
        "handed_by": "刘校长",
    }
    r = client_for(users[who]).post(
        f"{URL}/{gifts['zx'].pk}/allocations", body, content_type="application/json"
    )
    if who in MANAGE_ZX:
        assert r.status_code == 201, r.content
        assert r.json()["what"] == "书包" and r.json()["amount"] == "2.00"
    else:
        assert r.status_code == (404 if who in ("bq_leader", "proxy_wang") else 403)


def test_nothing_is_allocated_beyond_the_balance(users, kids, gifts):
    c = client_for(users["zx_leader"])
    url = f"{URL}/{gifts['zx'].pk}/allocations"
    body = {"child": kids["c31a"].pk, "handed_on": "2026-11-25", "handed_by": "刘校长"}
    assert c.post(url, body | {"amount": "7"}, content_type="application/json").status_code == 201
    found = fields(c.post(url, body | {"amount": "4"}, content_type="application/json"))
    assert found["amount"] == "数量：超过余额：这笔捐赠还剩 3 件"
    found = fields(c.post(url, body | {"amount": "1.5"}, content_type="application/json"))
    assert found["amount"].startswith("数量")
    found = fields(
        c.post(
            url,
            body | {"amount": "1", "handed_on": "2026-10-01", "handed_by": ""},
            content_type="application/json",
        )
    )
    assert found["handed_on"].startswith("发放日期") and found["handed_by"].startswith("经手人")
    assert c.get(f"{URL}/{gifts['zx'].pk}").json()["balance"] == "3.00"


def test_a_child_of_another_school_gets_nothing_from_this_school(users, kids, gifts):
    with pytest.raises(Invalid) as exc:
        hand(gifts["zx"], kids["bq31a"], users["town"])
    assert "child" in exc.value.errors


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    received=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10000), places=2),
    asks=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2), max_size=8
    ),
)
def test_property_allocations_never_exceed_what_was_received(cast, received, asks):
    leader, child = cast["users"]["zx_leader"], cast["children"]["c31a"]
    donation = give(cast["schools"]["zx"], leader, kind="money", item="", amount=received)
    for ask in asks:
        before = donation.balance()
        try:
            hand(donation, child, leader, amount=ask)
        except Invalid:
            assert ask > before  # refused only when it did not fit
        else:
            assert ask <= before
        total = sum(a.amount for a in Allocation.objects.filter(donation=donation))
        fresh = Donation.objects.with_allocated().get(pk=donation.pk)
        assert total <= received
        assert fresh.balance() == received - total == donation.balance()


def test_fairness_lists_who_received_nothing_and_who_received_several_times(users, kids, gifts):
    leader = users["zx_leader"]
    hand(gifts["zx"], kids["c31a"], leader)
    hand(gifts["zx"], kids["c31a"], leader, reason="家中失火，特别照顾")
    hand(gifts["zx"], kids["c31b"], leader)
    data = client_for(leader).get(f"{URL}/fairness").json()
    assert [c["name"] for c in data["nothing"]] == ["李四"]
    assert [(c["name"], c["times"], c["reasons"]) for c in data["several"]] == [
        ("张三", 2, ["家中失火，特别照顾"])
    ]
    # a teacher sees her class only; bq_leader none of ZX's children
    data = client_for(users["zx_teacher31"]).get(f"{URL}/fairness").json()
    assert data["nothing"] == [] and [c["name"] for c in data["several"]] == ["张三"]
    data = client_for(users["bq_leader"]).get(f"{URL}/fairness").json()
    assert [c["name"] for c in data["nothing"]] == ["赵六"]


def test_a_teacher_reads_only_allocations_to_children_she_sees(users, kids, gifts):
    hand(gifts["zx"], kids["c31a"], users["zx_leader"])
    hand(gifts["zx"], kids["c32a"], users["zx_leader"])
    rows = client_for(users["zx_teacher31"]).get(f"{URL}/{gifts['zx'].pk}/allocations").json()
    assert [r["name"] for r in rows] == ["张三"]
    d = client_for(users["zx_teacher31"]).get(f"{URL}/{gifts['zx'].pk}").json()
    assert d["allocated"] == "2.00" and d["balance"] == "8.00"
