"""`LastContact` (each child's latest contact per kind, what the due list reads) agrees with the
contacts after every way of writing them: the service behind the pages, the API, a correction
that moves the time or the kind, deletions, a card's deletion, bulk inserts (demo, imports),
raw SQL (the benchmarks), queryset updates, and the migration's fill."""

import datetime as dt

from django.db import connection
from django.db.models import Max

from guanai.contacts.corrections import correct_contact
from guanai.contacts.last_contact import install_triggers, trigger_names
from guanai.contacts.models import Contact, LastContact
from guanai.contacts.services import log_contact

from .helpers import add_contact, at

D = dt.date


def assert_agrees() -> dict:
    expected = {
        (r["child_id"], r["kind"]): r["last"]
        for r in Contact.objects.values("child_id", "kind").annotate(last=Max("at")).order_by()
    }
    stored = {(r.child_id, r.kind): r.at for r in LastContact.objects.all()}
    assert stored == expected
    return stored


def raw_insert(rows: list[dict]) -> None:
    """What bench/contacts.py does: one executemany below the ORM."""
    fields = [f for f in Contact._meta.local_concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    params = []
    for row in rows:
        row = row | {"created_at": row["at"], "updated_at": row["at"]}
        params.append(
            [
                f.get_db_prep_save(
                    row[f.attname]
                    if f.attname in row
                    else (f.get_default() if f.has_default() else ("" if not f.null else None)),
                    connection,
                )
                for f in fields
            ]
        )
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO contacts_contact ({columns}) VALUES ({marks})", params)


class Editor:
    """What a migration's schema editor offers `install_triggers` (SQLite's cannot be opened
    inside the test's transaction)."""

    connection = connection

    def execute(self, sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_triggers_are_installed(db):
    names = trigger_names(connection)
    if connection.vendor == "sqlite":
        assert names >= {"contact_last_insert", "contact_last_delete", "contact_last_update"}
    else:
        assert "contact_last" in names


def test_the_service_keeps_the_latest_of_each_kind(kids, users):
    child, by = kids["c31a"], users["zx_teacher31"]
    for when, kind in [
        (at(D(2026, 11, 2)), "phone"),
        (at(D(2026, 11, 20)), "phone"),
        (at(D(2026, 11, 10)), "phone"),  # an older one logged later changes nothing
        (at(D(2026, 11, 5)), "home_visit"),
    ]:
        log_contact(child=child, by=by, values={"kind": kind, "at": when, "with_whom": "祖母"})
    stored = assert_agrees()
    assert stored[(child.pk, "phone")] == at(D(2026, 11, 20))
    assert stored[(child.pk, "home_visit")] == at(D(2026, 11, 5))


def test_the_api_post(client, kids, users):
    client.force_login(users["zx_teacher31"])
    response = client.post(
        "/api/v1/contacts",
        {
            "child": kids["c31a"].pk,
            "kind": "video",
            "at": "2026-11-28T09:00:00+08:00",
            "with_whom": "祖母",
            "notes": "孩子情况良好",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert assert_agrees()[(kids["c31a"].pk, "video")] == at(D(2026, 11, 28), 9)


def test_a_correction_moving_the_time_and_the_kind(kids, users):
    child, by = kids["c31a"], users["zx_teacher31"]
    older = add_contact(child, by, "phone", at(D(2026, 11, 1)))
    latest = add_contact(child, by, "phone", at(D(2026, 11, 25)))
    correct_contact(
        contact=latest, by=by, values={"at": at(D(2026, 10, 1)), "kind": "meeting"}, reason="记错"
    )
    stored = assert_agrees()
    assert stored[(child.pk, "phone")] == older.at
    assert stored[(child.pk, "meeting")] == at(D(2026, 10, 1))


def test_deleting_the_latest_falls_back_to_the_one_before_then_to_none(kids, users):
    child, by = kids["c31a"], users["zx_teacher31"]
    first = add_contact(child, by, "home_visit", at(D(2026, 9, 3)))
    second = add_contact(child, by, "home_visit", at(D(2026, 10, 3)))
    second.delete()
    assert assert_agrees()[(child.pk, "home_visit")] == first.at
    Contact.objects.filter(pk=first.pk).delete()
    assert (child.pk, "home_visit") not in assert_agrees()


def test_deleting_a_card_removes_its_rows(kids, users):
    child = kids["gt"]
    add_contact(child, users["town"], "phone", at(D(2026, 11, 3)))
    add_contact(kids["c31a"], users["town"], "phone", at(D(2026, 11, 3)))
    child.delete()
    stored = assert_agrees()
    assert not [key for key in stored if key[0] == child.pk]
    assert (kids["c31a"].pk, "phone") in stored


def test_bulk_inserts_raw_sql_and_queryset_updates(kids, users):
    a, b, by = kids["c31a"], kids["c32a"], users["zx_teacher31"]
    Contact.objects.bulk_create(
        [Contact(child=a, by=by, kind="letter", at=at(D(2026, 6, d))) for d in (1, 9, 4)]
    )
    assert assert_agrees()[(a.pk, "letter")] == at(D(2026, 6, 9))
    raw_insert(
        [
            {"child_id": b.pk, "kind": "letter", "at": at(D(2026, 7, d)), "by_id": by.pk}
            for d in (1, 2)
        ]
    )
    assert assert_agrees()[(b.pk, "letter")] == at(D(2026, 7, 2))
    # move a's latest letter to b, then every letter to phone calls
    Contact.objects.filter(child=a, at=at(D(2026, 6, 9))).update(child=b)
    stored = assert_agrees()
    assert stored[(a.pk, "letter")] == at(D(2026, 6, 4))
    assert stored[(b.pk, "letter")] == at(D(2026, 7, 2))
    Contact.objects.filter(kind="letter").update(kind="phone")
    Contact.objects.update(notes="已匿名")  # other columns: nothing to do
    stored = assert_agrees()
    assert not [key for key in stored if key[1] == "letter"]


def test_installing_again_fills_the_table_from_the_contacts(kids, users):
    add_contact(kids["c31a"], users["zx_teacher31"], "phone", at(D(2026, 11, 3)))
    LastContact.objects.all().delete()
    install_triggers(Editor())
    assert assert_agrees()[(kids["c31a"].pk, "phone")] == at(D(2026, 11, 3))
