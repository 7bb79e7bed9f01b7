"""The contact rules as the pages and API apply them today, with the suite's clock set to the
edges: term boundaries at Shanghai midnight (16:00 UTC), 29 February, a school-year roll-over."""

import datetime as dt

import pytest

from guanai.contacts import letters as L
from guanai.contacts import letters_pdf as P
from guanai.screening.transitions import roll_over_school

from .helpers import add_contact, at, created_on

D = dt.date
UTC = dt.UTC


def _due(client, child, rule):
    """The due-list item of one child and rule, as the API answers it today (no `on`)."""
    items = client.get("/api/v1/contacts/due", {"page_size": 500}).json()["items"]
    return next((i for i in items if i["child"] == child.pk and i["rule"] == rule), None)


@pytest.fixture
def kid(cast):
    child = cast["children"]["c31a"]
    created_on(child, D(2025, 1, 10))
    return child


@pytest.mark.parametrize(
    ("midnight", "visit", "term_start"),
    [
        pytest.param(  # summer → autumn
            dt.datetime(2026, 8, 31, 16, 0, tzinfo=UTC),
            D(2026, 7, 20),
            "2026-09-01",
            marks=pytest.mark.clock("2026-08-31T15:59:00+00:00"),
        ),
        pytest.param(  # winter → spring
            dt.datetime(2027, 1, 31, 16, 0, tzinfo=UTC),
            D(2026, 12, 20),
            "2027-02-01",
            marks=pytest.mark.clock("2027-01-31T15:59:00+00:00"),
        ),
    ],
)
def test_a_new_term_makes_the_home_visit_due_at_shanghai_midnight(
    client, clock, cast, users, kid, midnight, visit, term_start
):
    add_contact(kid, users["zx_teacher31"], "home_visit", at(visit))
    client.force_login(users["zx_teacher31"])
    assert _due(client, kid, "home_visit") is None  # 23:59 in Shanghai: last term still
    clock.move_to(midnight)
    item = _due(client, kid, "home_visit")
    assert item["days_overdue"] == 0 and item["last_at"].startswith(visit.isoformat())
    page = client.get("/contacts/coverage/?round=custom").content.decode()
    assert f'name="since" value="{term_start}"' in page


@pytest.mark.clock("2028-02-29T15:59:00+00:00")
def test_a_monthly_contact_of_31_january_covers_through_29_february(client, clock, users, kid):
    add_contact(kid, users["zx_teacher31"], "phone", at(D(2028, 1, 31), 9))
    client.force_login(users["zx_teacher31"])
    assert _due(client, kid, "guardian_contact") is None  # day 30 of 30 in a leap February
    clock.move_to(dt.datetime(2028, 2, 29, 16, 0, tzinfo=UTC))  # 1 March in Shanghai
    assert _due(client, kid, "guardian_contact")["days_overdue"] == 0


@pytest.mark.clock("2027-01-31T15:59:00+00:00")
def test_a_letter_names_the_term_and_date_of_the_day_it_was_printed(clock, cast):
    template = L.templates_for(cast["users"]["zx_leader"]).first()
    batch = L.create_batch(
        by=cast["users"]["zx_leader"],
        template=template,
        school=cast["schools"]["zx"],
        grade=3,
        values={"假期开始": "2027-02-01", "返校日期": "2027-02-24"},
    )
    clock.move_to(dt.datetime(2027, 1, 31, 16, 5, tzinfo=UTC))  # rendered after midnight
    values = P.batch_values(batch)
    assert values["日期"] == "2027年1月31日"
    assert values["学期"] == "2026—2027学年第一学期"
    assert values["假期开始"] == "2027年2月1日" and values["返校日期"] == "2027年2月24日"
    assert values["假期结束"] == "____年__月__日"
    later = L.create_batch(
        by=cast["users"]["zx_leader"], template=template, school=cast["schools"]["zx"], grade=3
    )
    assert P.batch_values(later)["学期"] == "2026—2027学年第二学期"


@pytest.mark.clock("2027-08-20T10:00:00+08:00")
def test_after_the_summer_roll_over_the_class_teacher_owes_a_visit_from_1_september(
    client, clock, cast, users, kid
):
    add_contact(kid, users["zx_teacher31"], "home_visit", at(D(2027, 7, 5)))
    roll_over_school(school=cast["schools"]["zx"], by=users["zx_leader"])
    client.force_login(users["zx_teacher31"])
    assert _due(client, kid, "home_visit") is None  # summer: the spring term's visit holds
    clock.move_to(dt.datetime(2027, 9, 1, 0, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    client.force_login(users["zx_teacher31"])  # twelve days on, the session has long expired
    item = _due(client, kid, "home_visit")
    assert item is not None and item["days_overdue"] == 0
    card = client.get(f"/api/v1/children/{kid.pk}").json()
    assert card["grade"] == 4
