"""A proxy parent's card (reduced): the child's name, class, home, guardian and guardian's
phone; not the guardianship assessment, the family's means, the map position or the parents'
phones — on the page, in its history and in the API (SPEC §4). A class teacher sees them all."""

import pytest
from django.urls import reverse

from guanai.children.models import Child
from guanai.children.services import update_child

SECRET = {
    "guardianship_assessment": "poor",
    "income_sources": "低保金",
    "assistance": "临时救助 2026-10",
    "latitude": "27.123456",
    "longitude": "112.654321",
    "father.phone": "13811112222",
    "mother.phone": "13833334444",
}
SHOWN = ["差", "低保金", "临时救助 2026-10", "27.123456", "13811112222", "13833334444"]


@pytest.fixture
def child(cast):
    kid = cast["children"]["c31a"]
    update_child(
        child=kid, data=dict(SECRET), version=kid.version, by=cast["users"]["zx_teacher31"]
    )
    return Child.objects.get(pk=kid.pk)


def test_proxy_parent_card_page_shows_the_guardian_and_nothing_more(client, users, child):
    client.force_login(users["proxy_wang"])
    html = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert "张三" in html and "三年级(1)班" in html
    assert "张奶奶" in html and "13912345678" in html  # the guardian and her phone
    for text in [*SHOWN, "监护情况评估", "坐标"]:
        assert text not in html, text


def test_class_teacher_card_page_shows_them(client, users, child):
    client.force_login(users["zx_teacher31"])
    html = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    for text in [*SHOWN, "监护情况评估", "坐标"]:
        assert text in html, text


def test_proxy_parent_card_api_leaves_them_out(client, users, child):
    client.force_login(users["proxy_wang"])
    out = client.get(f"/api/v1/children/{child.pk}").json()
    assert out["name"] == "张三" and out["guardian"]["phone"] == "13912345678"
    for field in ("guardianship_assessment", "income_sources", "assistance"):
        assert field not in out
    assert "latitude" not in out and "longitude" not in out
    assert "phone" not in out["father"] and "phone" not in out["mother"]
    history = client.get(f"/api/v1/children/{child.pk}/history").json()["items"]
    fields = {c["field"] for e in history for c in e["changes"]}
    assert not fields & set(SECRET)
    client.force_login(users["zx_teacher31"])
    out = client.get(f"/api/v1/children/{child.pk}").json()
    assert out["guardianship_assessment"] == "poor" and out["father"]["phone"] == "13811112222"
    history = client.get(f"/api/v1/children/{child.pk}/history").json()["items"]
    assert set(SECRET) <= {c["field"] for e in history for c in e["changes"]}
