"""Records for the tests that walk every route of the API: one of each kind a route names in
its path, in 虎山镇中心小学 (HS-ZX), so that a route reaches its body."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from guanai.contacts.models import Contact
from guanai.contacts.rounds import create_round
from guanai.pairing.models import Pair
from guanai.pairing.proxies import assign_child, register_proxy_parent
from guanai.screening import services as screening
from guanai.screening import verification as verifying


class Records(dict):
    """Path parameter (`mount:name` where routes differ, else `name`) → the id of a record that
    the town administrator and the inspector see and 板桥小学's leader does not."""

    def url(self, route: str, **values: int) -> str:
        """`route` ("/api/v1/verifications/{round_id}/cards") with its parameters filled in:
        `values` first, then the records' ids."""
        mount = route.removeprefix("/api/v1/").split("/", 1)[0]

        def value(m: re.Match) -> str:
            name = m[1]
            return str(values.get(name, self.get(f"{mount}:{name}", self.get(name, 1))))

        return re.sub(r"{(\w+)}", value, route)


@pytest.fixture
def records(cast, users, kids) -> Records:
    zx, today = cast["schools"]["zx"], timezone.localdate()
    contact = Contact.objects.create(
        child=kids["c31a"], by=users["zx_teacher31"], kind="phone", at=timezone.now()
    )
    visit_round = create_round(
        by=users["zx_leader"],
        school=zx,
        name="冬季普访",
        since=today,
        until=today + dt.timedelta(days=30),
    )
    campaign = screening.open_campaign(school=zx, term=None, by=users["zx_leader"])
    verification = verifying.open_round(
        school=zx,
        term=None,
        vacation="winter",
        deadline=today + dt.timedelta(days=30),
        by=users["zx_leader"],
    )
    pair = Pair.objects.create(
        child=kids["c31a"], buddy=kids["c41a"], school=zx, cost=0, age_gap_days=0
    )
    proxy = register_proxy_parent(
        school=zx,
        data={"name": "李阿姨", "phone": "13812345678", "kind": "volunteer"},
        declared=True,
        declared_on=today,
        username="proxy_li",
        password="guanai-demo",
        by=users["zx_leader"],
    )
    assignment = assign_child(
        proxy=proxy, child=kids["c31b"], valid_from=today, valid_to=None, by=None
    )
    from guanai.protection.models import Incident
    from guanai.protection.services import open_dropout_case

    incident = Incident.objects.create(
        child=kids["c31a"],
        filed_by=users["zx_teacher31"],
        observed_at=timezone.now(),
        source="seen",
        harm_kind="other",
        what="手臂有淤青",
    )
    case = open_dropout_case(
        child=kids["c31a"],
        by=users["zx_teacher31"],
        absent_since=today - dt.timedelta(days=5),
        absent_days=3,
        reason_asked="",
    )
    from guanai.children.models import Child
    from guanai.inspections import findings, rectifications
    from guanai.inspections import services as inspections

    inspection = inspections.create_inspection(
        school=zx, planned_on=today, sample_size=3, seed="r", by=users["town"]
    )
    inspections.advance(inspection=inspection, to="in_progress", by=users["town"])
    finding = findings.record_finding(
        inspection=inspection,
        child=Child.objects.get(pk=inspection.sample[0]),
        visited=True,
        checks=[{"field": "address", "correct": False, "found": "新村"}],
        by=users["town"],
    )
    item = rectifications.raise_item(
        inspection=inspection,
        school=zx,
        title="补齐家访记录",
        owner=users["zx_leader"],
        due_on=today,
        by=users["town"],
    )
    from guanai.activities import donations, homes
    from guanai.activities import services as activities

    activity = activities.create_activity(
        school=zx,
        values={"kind": "proxy_parent", "title": "代理家长活动", "starts_on": today},
        by=users["zx_leader"],
    )
    donation = donations.record_donation(
        school=zx,
        values={"donor": "县妇联", "kind": "money", "amount": "100", "received_on": today},
        by=users["zx_leader"],
    )
    home = homes.create_home(school=zx, values={"name": "留守儿童之家"}, by=users["zx_leader"])
    from guanai.privacy.services import record_request

    guardian_request = record_request(
        child=kids["c31a"],
        by=users["zx_leader"],
        kind="see",
        received_on=today,
        requester="张父",
        relation="父亲",
        asked="查看家访记录",
    )
    return Records(
        {
            "request_id": guardian_request.pk,
            "activity_id": activity.pk,
            "donation_id": donation.pk,
            "home_id": home.pk,
            "inspection_id": inspection.pk,
            "checklist_item_id": inspection.checklist.first().pk,
            "check_id": finding.checks.get().pk,
            "item_id": item.pk,
            "incident_id": incident.pk,
            "case_id": case.pk,
            "child_id": kids["c31a"].pk,
            "contact_id": contact.pk,
            "visit-rounds:round_id": visit_round.pk,
            "verifications:round_id": verification.pk,
            "campaign_id": campaign.pk,
            "pair_id": pair.pk,
            "proxy_id": proxy.pk,
            "assignment_id": assignment.pk,
            "grade": 3,
        }
    )
