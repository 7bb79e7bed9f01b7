"""Who reads a card's health and psychology (SPEC §4, issue #15): psychology — the school's
counselor and leaders; health and disability — the class teacher, the grade and school leaders
and the counselor. Nobody else reads them: not the town, the inspector, a teacher of another
class, a responsible teacher of another class or a proxy parent; on the page, in the API, in
the history and in the edit form alike. Each reading of a filled-in section is logged."""

import pytest
from django.urls import reverse

from guanai.accounts.models import AccessAction, AccessLog
from guanai.children.models import Child
from guanai.children.services import update_child
from guanai.testing import SEES_HEALTH, SEES_PSYCH, VISIBLE

HEALTH, DISABILITY, PSYCH = "哮喘需随身带药", "轻度听力障碍", "想念母亲夜里常哭"
KIDS = ["c31a", "c32a", "c41a", "bq31a"]
CASES = [(role, kid) for role in VISIBLE for kid in KIDS if kid in VISIBLE[role]]


@pytest.fixture
def cards(cast):
    leader = cast["users"]["zx_leader"]
    for kid in KIDS:
        child = cast["children"][kid]
        by = cast["users"]["bq_leader"] if kid == "bq31a" else leader
        update_child(
            child=child,
            data={"health": HEALTH, "disability": DISABILITY, "psych_summary": PSYCH},
            version=child.version,
            by=by,
        )
    return {kid: Child.objects.get(pk=cast["children"][kid].pk) for kid in KIDS}


@pytest.mark.parametrize(("role", "kid"), CASES)
def test_card_page_shows_each_section_only_to_its_readers(client, users, cards, role, kid):
    client.force_login(users[role])
    before = AccessLog.objects.filter(action=AccessAction.VIEW_SENSITIVE).count()
    html = client.get(reverse("children:detail", args=[cards[kid].pk])).content.decode()
    health = kid in SEES_HEALTH[role]
    psych = kid in SEES_PSYCH[role]
    assert (HEALTH in html, DISABILITY in html, "健康状况" in html) == (health,) * 3
    assert (PSYCH in html, "心理状况" in html) == (psych, psych)
    rows = AccessLog.objects.filter(action=AccessAction.VIEW_SENSITIVE, child=cards[kid])
    logged = list(rows.values_list("detail", flat=True))
    if health or psych:
        assert AccessLog.objects.filter(action=AccessAction.VIEW_SENSITIVE).count() > before
        words = [w for w, shown in (("健康状况", health), ("心理状况", psych)) if shown]
        assert any(all(w in d for w in words) for d in logged)
    else:
        assert not any("健康状况" in d or "心理状况" in d for d in logged)


@pytest.mark.parametrize(("role", "kid"), CASES)
def test_card_api_and_history_follow_the_same_table(client, users, cards, role, kid):
    client.force_login(users[role])
    card = client.get(f"/api/v1/children/{cards[kid].pk}").json()
    assert (card.get("health") == HEALTH) is (kid in SEES_HEALTH[role])
    assert (card.get("disability") == DISABILITY) is (kid in SEES_HEALTH[role])
    assert (card.get("psych_summary") == PSYCH) is (kid in SEES_PSYCH[role])
    history = client.get(f"/api/v1/children/{cards[kid].pk}/history").json()["items"]
    fields = {c["field"] for e in history for c in e["changes"]}
    assert ("health" in fields) is (kid in SEES_HEALTH[role])
    assert ("psych_summary" in fields) is (kid in SEES_PSYCH[role])
    page = client.get(reverse("children:detail", args=[cards[kid].pk])).content.decode()
    assert (PSYCH in page) is (kid in SEES_PSYCH[role])  # the page's history too


def test_class_teacher_may_not_write_psychology_through_the_api(client, users, cards):
    child = cards["c31a"]
    client.force_login(users["zx_teacher31"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "psych_summary": "情绪稳定"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "心理" in response.json()["detail"]
    child.refresh_from_db()
    assert child.psych_summary == PSYCH
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "health": "哮喘已好转"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["health"] == "哮喘已好转"


def test_counselor_writes_psychology(client, users, cards):
    child = cards["c31a"]
    client.force_login(users["zx_counselor"])
    response = client.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "psych_summary": "情绪稳定", "reason": "本周面谈"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["psych_summary"] == "情绪稳定"


def test_edit_form_leaves_out_what_the_teacher_may_not_read(client, users, cards):
    child = cards["c31a"]
    url = reverse("children:edit", args=[child.pk]) + "?section=health"
    client.force_login(users["zx_teacher31"])
    html = client.get(url).content.decode()
    assert HEALTH in html and PSYCH not in html and 'name="psych_summary"' not in html
    client.force_login(users["zx_counselor"])
    html = client.get(url).content.decode()
    assert HEALTH in html and PSYCH in html


def test_saving_the_section_keeps_the_unseen_psychology(client, users, cards):
    """A class teacher's save of the section never clears the psychology she cannot see."""
    child = cards["c31a"]
    client.force_login(users["zx_teacher31"])
    url = reverse("children:edit", args=[child.pk]) + "?section=health"
    response = client.post(
        url,
        {
            "version": child.version,
            "health": "哮喘",
            "disability": DISABILITY,
            "study": "",
            "safety_notes": "",
        },
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.health, child.psych_summary) == ("哮喘", PSYCH)
