"""Incident narratives, psychology notes, contact psychology text and the other phones are
encrypted at rest (issue #19): each column, and its history table, holds no plain text; the
models read the plain text back."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from guanai.care.models import Observation, Session
from guanai.contacts.models import Contact, Message, Recipient
from guanai.lib import crypto
from guanai.pairing.models import ProxyParent
from guanai.protection.models import (
    AlertResolution,
    DropoutAttempt,
    DropoutCase,
    Incident,
    IncidentFollowUp,
)
from guanai.screening.models import VacationPlan, VerificationRound

SECRET = "孩子说继父打他"  # the same text in every column: none may hold it in clear


def raw_values(model, column: str, *, history: bool = False) -> list[str]:
    table = (model.history.model if history else model)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def records(kids, users, cast):
    child = kids["c31a"]
    teacher = users["zx_teacher31"]
    now = timezone.now()
    incident = Incident.objects.create(
        child=child,
        filed_by=teacher,
        observed_at=now,
        source="seen",
        harm_kind="other",
        what=SECRET,
        outcome=SECRET,
    )
    IncidentFollowUp.objects.create(incident=incident, on=now.date(), note=SECRET, by=teacher)
    case = DropoutCase.objects.create(
        child=child,
        absent_since=now.date(),
        absent_days=5,
        reason_asked=SECRET,
        closing_note=SECRET,
        opened_by=teacher,
    )
    DropoutAttempt.objects.create(
        case=case, on=now.date(), by="王老师", with_whom="奶奶", result=SECRET, recorded_by=teacher
    )
    AlertResolution.objects.create(child=child, reason="alone", action=SECRET, resolved_by=teacher)
    Observation.objects.create(child=child, by=teacher, level="watch", what=SECRET)
    Session.objects.create(child=child, by=teacher, notes=SECRET, level="watch")
    Contact.objects.create(child=child, by=teacher, kind="visit", at=now, psych_text=SECRET)
    message = Message.objects.create(
        text="家长您好", gateway="file", school=cast["schools"]["zx"], created_by=teacher
    )
    Recipient.objects.create(message=message, child=child, phone=SECRET, text="家长您好")
    ProxyParent.objects.create(
        user=users["zx_counselor"],
        school=cast["schools"]["zx"],
        name="李阿姨",
        phone=SECRET,
        kind="teacher",
        declared=True,
        declared_on=dt.date(2026, 11, 1),
    )
    round_ = VerificationRound.objects.create(
        school=cast["schools"]["zx"],
        term="2026-2027-1",
        vacation="winter",
        deadline=dt.date(2027, 1, 10),
    )
    VacationPlan.objects.create(round=round_, child=child, contact_phone=SECRET)


COLUMNS = [
    (Incident, "what", True),
    (Incident, "outcome", True),
    (IncidentFollowUp, "note", False),
    (DropoutCase, "reason_asked", True),
    (DropoutCase, "closing_note", True),
    (DropoutAttempt, "result", False),
    (AlertResolution, "action", False),
    (Observation, "what", False),
    (Session, "notes", False),
    (Contact, "psych_text", True),
    (Recipient, "phone", False),
    (ProxyParent, "phone", True),
    (VacationPlan, "contact_phone", False),
]


@pytest.mark.parametrize(("model", "column", "history"), COLUMNS)
def test_the_column_and_its_history_hold_ciphertext(records, model, column, history):
    tables = [False, True] if history else [False]
    for in_history in tables:
        values = [v for v in raw_values(model, column, history=in_history) if v]
        assert values, (model, column, in_history)
        for value in values:
            assert SECRET not in value
            assert value.startswith(crypto.PREFIX)
    assert set(model.objects.values_list(column, flat=True)) == {SECRET}
    if history:
        assert {getattr(h, column) for h in model.history.all()} == {SECRET}


def test_open_incidents_are_still_those_without_an_outcome(records, kids, users):
    Incident.objects.create(
        child=kids["c31a"],
        filed_by=users["zx_teacher31"],
        observed_at=timezone.now(),
        source="seen",
        harm_kind="other",
        what="手臂有淤青",
    )
    assert [i.what for i in Incident.objects.open()] == ["手臂有淤青"]
    assert Incident.objects.exclude(outcome="").get().outcome == SECRET
