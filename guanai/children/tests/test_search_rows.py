"""Two children of one name are told apart in search results: class and birth date in the row
(the children list, and the contact page's list), also on a phone where the school is hidden."""

import datetime as dt
import re

from django.urls import reverse

from guanai.testing import make_child


def _rows(html: str) -> list[str]:
    rows = re.findall(r'<tr class="child-row">(.*?)</tr>', html, re.DOTALL)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]


def test_two_children_of_one_name_show_class_and_birth_date(client, users, cast):
    make_child(cast["classes"]["c31"], name="周小明", birth=dt.date(2017, 2, 3))
    make_child(cast["classes"]["c41"], name="周小明", birth=dt.date(2016, 7, 8))
    client.force_login(users["zx_leader"])
    rows = _rows(client.get(reverse("children:list"), {"q": "zxm"}).content.decode())
    assert len(rows) == 2
    assert "三年级(1)班" in rows[0] and "2017-02-03 出生" in rows[0]
    assert "四年级(1)班" in rows[1] and "2016-07-08 出生" in rows[1]
    page = client.get(reverse("contacts:index"), {"q": "zxm"}).content.decode()
    assert "三年级(1)班 · 2017-02-03 出生" in page and "四年级(1)班 · 2016-07-08 出生" in page
