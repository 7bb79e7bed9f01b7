"""Free-text contact notes and a visit's psychological finding (SPEC §4, issue #15): notes for
their author, the class teacher, the leaders, the counselor and the child's responsible
teacher; the psychological finding for the school's counselor and leaders only — its author
reads back only that it was recorded. Inspectors, subject teachers and proxy parents read the
date and kind of others' contacts."""

import pytest
from django.urls import reverse

from guanai.testing import SEES_NOTES, SEES_PSYCH, VISIBLE

from .helpers import add_contact

KIDS = ["c31a", "c32a", "bq31a"]
CASES = [(role, kid) for role in VISIBLE for kid in KIDS if kid in VISIBLE[role]]


@pytest.mark.parametrize(("role", "kid"), CASES)
def test_contact_api_answers_notes_and_psychology_by_the_table(client, cast, role, kid):
    child = cast["children"][kid]
    author = cast["users"]["town"]
    c = add_contact(
        child,
        author,
        "home_visit",
        notes="父母离异",
        psych_level="watch",
        psych_text="情绪低落",
        life_level="normal",
        life_text="奶奶照顾周到",
    )
    client.force_login(cast["users"][role])
    one = client.get(f"/api/v1/contacts/{c.pk}").json()
    listed = client.get(f"/api/v1/contacts?child={child.pk}").json()["items"]
    for out in (one, listed[0]):
        assert (out["notes"] == "父母离异") is (kid in SEES_NOTES[role])
        assert out["details_hidden"] is (kid not in SEES_NOTES[role])
        psych = out["findings"].get("psych")
        assert (psych is not None and psych["text"] == "情绪低落") is (kid in SEES_PSYCH[role])


def test_teacher_writes_a_psychological_finding_she_then_cannot_read(client, cast):
    child = cast["children"]["c31a"]
    client.force_login(cast["users"]["zx_teacher31"])
    body = {
        "child": child.pk,
        "kind": "home_visit",
        "at": "2026-11-28T15:00:00",
        "with_whom": "祖母",
        "notes": "孩子不爱说话",
        "findings": {"psych": {"level": "watch", "text": "常一个人发呆"}},
    }
    made = client.post("/api/v1/contacts", body, content_type="application/json")
    assert made.status_code == 201
    assert "psych" not in made.json()["findings"] and made.json()["notes"] == "孩子不爱说话"
    again = client.get(f"/api/v1/contacts/{made.json()['id']}").json()
    assert "psych" not in again["findings"]
    client.force_login(cast["users"]["zx_counselor"])
    seen = client.get(f"/api/v1/contacts/{made.json()['id']}").json()
    assert seen["findings"]["psych"] == {"level": "watch", "text": "常一个人发呆"}


def test_responsible_teacher_of_another_class_reads_the_notes(client, cast):
    from guanai.children.models import Child

    child = cast["children"]["c32a"]
    Child.objects.filter(pk=child.pk).update(responsible_teacher=cast["users"]["zx_teacher31"])
    c = add_contact(child, cast["users"]["zx_leader"], notes="需要补课")
    client.force_login(cast["users"]["zx_teacher31"])
    assert client.get(f"/api/v1/contacts/{c.pk}").json()["notes"] == "需要补课"


def test_reading_a_psychological_finding_is_logged(client, cast):
    from guanai.accounts.models import AccessAction, AccessLog

    child = cast["children"]["c31a"]
    c = add_contact(
        child,
        cast["users"]["zx_teacher31"],
        "home_visit",
        psych_level="watch",
        psych_text="情绪低落",
        notes="x",
        with_whom="祖母",
    )
    logged = AccessLog.objects.filter(
        action=AccessAction.VIEW_SENSITIVE, detail__contains="心理情况"
    )
    client.force_login(cast["users"]["zx_teacher31"])  # she cannot read it: nothing to log
    client.get(f"/api/v1/contacts/{c.pk}")
    client.get(reverse("contacts:timeline", args=[child.pk]), HTTP_HX_REQUEST="true")
    assert not logged.exists()
    client.force_login(cast["users"]["zx_counselor"])
    client.get(f"/api/v1/contacts/{c.pk}")
    client.get(f"/api/v1/contacts?child={child.pk}")
    client.get(reverse("contacts:timeline", args=[child.pk]), HTTP_HX_REQUEST="true")
    assert logged.filter(user=cast["users"]["zx_counselor"], child=child).count() == 3
