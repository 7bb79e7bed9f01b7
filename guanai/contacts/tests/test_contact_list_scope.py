"""GET /api/v1/contacts drops the scope filter only when no child at all is outside the scope
(bench/contacts.py): the answer must be the same as with the filter, page by page."""

import pytest

from guanai.accounts.models import Role
from guanai.contacts.models import Contact
from guanai.testing import make_child, make_class, make_school, make_town, make_user

from .helpers import add_contact

URL = "/api/v1/contacts"


@pytest.fixture
def two_towns(cast):
    """The cast's town, and another town with its own administrator, child and contacts."""
    other = make_town("白水镇")
    school = make_school("BS-ZX", "白水镇中心小学", town=other)
    admin = make_user("bs_town", Role.TOWN_ADMIN, town=other, display_name="白水镇管理员")
    child = make_child(make_class(school, 3, 1), name="钱八")
    users = cast["users"]
    for n, kid in enumerate(list(cast["children"].values()) * 3):
        add_contact(kid, users["town"], notes=f"记录 {n}")
        if n % 4 == 0:
            add_contact(child, admin, notes=f"白水镇记录 {n}")
    return admin


def listed(client, user, **params) -> tuple[list[int], int]:
    client.force_login(user)
    out = client.get(URL, params).json()
    return [i["id"] for i in out["items"]], out["count"]


@pytest.mark.parametrize("role", ["town", "inspector", "zx_leader", "zx_teacher31", "proxy_wang"])
def test_another_towns_contacts_stay_out_of_the_list(client, cast, two_towns, role):
    user = cast["users"][role]
    expected = list(Contact.objects.visible_to(user).order_by("id").values_list("pk", flat=True))
    assert listed(client, user, page_size=500) == (expected, len(expected))
    assert not Contact.objects.filter(pk__in=expected, child__school__code="BS-ZX").exists()


def test_the_shortcut_is_taken_only_when_no_child_is_outside_the_scope(cast):
    from guanai.children.models import Child
    from guanai.contacts.models import _holds_every_child

    def sees_every_child(user):
        return _holds_every_child(Child.objects.visible_to(user))

    users = cast["users"]
    assert sees_every_child(users["town"]) and sees_every_child(users["inspector"])
    assert not sees_every_child(users["zx_leader"])
    make_child(make_class(make_school("BS-ZX", "白水镇中心小学", town=make_town("白水镇"))))
    assert not sees_every_child(users["town"])
    # the listing then filters: the same rows as the plain scope
    listing = Contact.objects.visible_to(users["town"], listing=True)
    assert set(listing) == set(Contact.objects.visible_to(users["town"]))


def test_the_other_towns_administrator_sees_only_her_town(client, cast, two_towns):
    ids, count = listed(client, two_towns, page_size=500)
    assert count == len(ids) == Contact.objects.filter(child__school__code="BS-ZX").count()


def test_a_town_seeing_every_child_pages_as_the_filtered_list(client, cast):
    users, kids = cast["users"], cast["children"]
    for n in range(7):
        for kid in kids.values():
            add_contact(kid, users["zx_leader"], "phone" if n % 2 else "home_visit")
    everything = list(Contact.objects.order_by("id").values_list("pk", flat=True))
    pages = [listed(client, users["town"], page=p, page_size=10) for p in (1, 2, 5)]
    assert pages == [
        (everything[0:10], 42),
        (everything[10:20], 42),
        (everything[40:42], 42),
    ]
    visits = list(
        Contact.objects.filter(kind="home_visit").order_by("id").values_list("pk", flat=True)
    )
    assert listed(client, users["town"], kind="home_visit") == (visits, len(visits))


def test_superuser_sees_every_contact(client, cast, two_towns):
    from guanai.accounts.models import User

    root = User.objects.create_superuser("root", password="x")
    ids, count = listed(client, root, page_size=500)
    assert count == Contact.objects.count() == len(ids)
