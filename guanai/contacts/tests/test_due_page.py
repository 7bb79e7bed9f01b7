"""The due page: one row per child with the rules it is due under, school names not codes;
the API keeps one item per child and rule (SPEC §6.3)."""

import re

from django.urls import reverse


def _text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def test_a_child_due_under_several_rules_is_one_row(client, cast):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.get(reverse("contacts:due"))
    zhang = cast["children"]["c31a"].pk
    rows = [r for r in response.context["page"] if r.child == zhang]
    assert len(rows) == 1
    assert len(rows[0].items) >= 2  # 张三 is due for a visit and a call
    html = response.content.decode()
    assert html.count(f'data-child-row="{zhang}"') == 1
    assert html.count(f'data-child="{zhang}" data-rule=') == len(rows[0].items)
    assert response.context["children_count"] == len(response.context["page"])
    api = client.get("/api/v1/contacts/due").json()
    assert len([i for i in api["items"] if i["child"] == zhang]) == len(rows[0].items)


def test_due_page_names_schools_not_codes(client, cast):
    client.force_login(cast["users"]["town"])
    text = _text(client.get(reverse("contacts:due")))
    assert "虎山镇中心小学" in text and "板桥小学" in text
    assert not re.search(r"HS-[A-Z]{2}", text)
