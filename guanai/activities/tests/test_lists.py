"""Choosing an activity's participants from lists — the overdue (the contacts' due list) and
the never-reached (no contact this term) — through the user's scope; child ids outside the
scope answer 404, ids seen but not of the school 422."""

import datetime as dt

import pytest
from django.utils import timezone

from guanai.activities import services
from guanai.activities.models import Participant
from guanai.children.models import Child
from guanai.contacts.access import due_rule_codes
from guanai.contacts.rules import due_items
from guanai.contacts.services import clean_contact, log_contact
from guanai.lib.errors import Invalid

from .conftest import client_for

URL = "/api/v1/activities"


def visit(child, by, at=None):
    values = clean_contact(
        kind="home_visit",
        at=at or timezone.now() - dt.timedelta(days=1),
        with_whom="母亲",
        notes="家访",
        by=by,
    )
    return log_contact(child=child, by=by, values=values)[0]


@pytest.mark.parametrize("who", ["zx_leader", "town"])
def test_the_overdue_are_the_contacts_due_list(who, users, acts):
    user = users[who]
    school_kids = Child.objects.visible_to(user).filter(school=acts["camp"].school)
    due = due_items(school_kids, as_of=timezone.localdate(), rule_codes=due_rule_codes(user))
    expected = {i.child for i in due}
    assert expected  # the cast has children due a contact
    found = services.candidates(user, acts["camp"], listed="overdue")
    assert set(found.values_list("pk", flat=True)) == expected


def test_the_never_reached_are_left_behind_children_with_no_contact_this_term(users, kids, acts):
    leader = users["zx_leader"]
    before = set(services.candidates(leader, acts["camp"], listed="never_reached"))
    assert before == {kids["c31a"], kids["c31b"], kids["c32a"]}  # ZX's left-behind children
    visit(kids["c31a"], leader)
    visit(kids["c32a"], leader, at=timezone.make_aware(dt.datetime(2026, 6, 1, 10)))  # last term
    after = set(services.candidates(leader, acts["camp"], listed="never_reached"))
    assert after == {kids["c31b"], kids["c32a"]}
    # a list narrows with a class or a category
    klass = kids["c31b"].school_class_id
    assert set(services.candidates(leader, acts["camp"], klass=klass, listed="never_reached")) == {
        kids["c31b"]
    }


def test_a_list_stays_inside_the_scope(users, kids, acts):
    teacher = users["zx_teacher31"]  # sees class 3-1 only
    found = set(services.never_reached(teacher))
    assert found == {kids["c31a"], kids["c31b"]}
    assert kids["bq31a"] not in services.never_reached(users["zx_leader"])


def test_an_unknown_list_is_refused(users, acts):
    with pytest.raises(Invalid) as exc:
        services.candidates(users["zx_leader"], acts["camp"], listed="everyone")
    assert "list" in exc.value.errors


def test_choosing_from_a_list_on_the_page(users, kids, acts):
    c = client_for(users["zx_leader"])
    page = c.get(f"/activities/{acts['bq'].pk}/")
    assert page.status_code == 404
    Participant.objects.filter(activity=acts["camp"]).delete()
    page = c.get(f"/activities/{acts['camp'].pk}/?list=never_reached").content.decode()
    assert "本学期从未联系的留守儿童" in page
    assert page.count('name="children"') == 3 and "王五" not in page.split("pick-form")[1]
    visit(kids["c31a"], users["zx_leader"])
    visit(kids["c31b"], users["zx_leader"])
    visit(kids["c32a"], users["zx_leader"])
    page = c.get(f"/activities/{acts['camp'].pk}/?list=never_reached").content.decode()
    assert "名单上没有符合条件的儿童" in page
    page = c.get(f"/activities/{acts['camp'].pk}/?list=nonsense").content.decode()
    assert 'name="children"' not in page  # an unknown list is ignored on the page


def test_out_of_scope_child_ids_are_not_found(users, kids, acts):
    camp = acts["camp"]
    c = client_for(users["zx_leader"])  # does not see 赵六 (板桥小学)
    for ids in ([kids["bq31a"].pk], [kids["c31b"].pk, kids["bq31a"].pk], [10**9]):
        r = c.post(
            f"{URL}/{camp.pk}/participants", {"children": ids}, content_type="application/json"
        )
        assert r.status_code == 404, ids
    assert not Participant.objects.filter(activity=camp, child=kids["c31b"]).exists()
    r = c.post(f"/activities/{camp.pk}/", {"children": [kids["bq31a"].pk]})
    assert r.status_code == 404
    # seen, but not a child of the activity's school: 422 naming the children
    r = client_for(users["town"]).post(
        f"{URL}/{camp.pk}/participants",
        {"children": [kids["bq31a"].pk]},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "children"


def test_out_of_scope_child_ids_for_allocations_are_not_found(users, kids, cast):
    from .test_donations import give

    d = give(cast["schools"]["zx"], users["zx_leader"])
    body = {"amount": "1", "handed_on": "2026-11-25", "handed_by": "刘校长"}
    c = client_for(users["zx_leader"])
    for child in (kids["bq31a"].pk, 10**9):
        r = c.post(
            f"/api/v1/donations/{d.pk}/allocations",
            body | {"child": child},
            content_type="application/json",
        )
        assert r.status_code == 404
    r = client_for(users["town"]).post(
        f"/api/v1/donations/{d.pk}/allocations",
        body | {"child": kids["bq31a"].pk},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "child"
