"""`ContactSummary` (one row per child: the latest contact of each kind, kept by triggers) agrees
with the contacts after every way of writing them, and the due list read from it agrees with the
plain rule evaluation (`due_reference.py`) on random data: today's list, days looked back on
(contacts dated after the day) and days ahead, after contacts are added, corrected (time, kind,
child) and deleted (issue #19)."""

import datetime as dt
import random

import pytest
from django.db import connection

from guanai.children.models import Child
from guanai.contacts.contact_summary import KINDS, install_triggers, trigger_names
from guanai.contacts.corrections import correct_contact
from guanai.contacts.due import EPOCH, DueList
from guanai.contacts.models import Contact, ContactKind, ContactSummary
from guanai.contacts.rules import local_date
from guanai.contacts.services import log_contact

from .due_reference import reference_due_items
from .helpers import add_contact, at
from .test_due_sql import as_tuples, town  # noqa: F401 (the random town fixture)

D = dt.date


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


def assert_summary_agrees() -> dict:
    """The summary table equals the contacts' latest per child and kind, and its days are the
    local days of those moments."""
    expected: dict[int, dict[str, dt.datetime]] = {}
    for child_id, kind, when in Contact.objects.values_list("child_id", "kind", "at"):
        mine = expected.setdefault(child_id, {})
        if kind not in mine or when > mine[kind]:
            mine[kind] = when
    stored = {}
    for row in ContactSummary.objects.all():
        stored[row.child_id] = {
            k: getattr(row, f"{k}_at") for k in KINDS if getattr(row, f"{k}_at")
        }
        for k in KINDS:
            moment, day = getattr(row, f"{k}_at"), getattr(row, f"{k}_day")
            assert day == (None if moment is None else (local_date(moment) - EPOCH).days)
    assert stored == expected
    return stored


def test_every_kind_has_its_columns():
    fields = {f.name for f in ContactSummary._meta.get_fields()}
    for kind in ContactKind.values:
        assert {f"{kind}_at", f"{kind}_day"} <= fields


def test_the_triggers_are_installed(db):
    names = trigger_names(connection)
    if connection.vendor == "sqlite":
        assert names >= {
            "contact_summary_insert",
            "contact_summary_delete",
            "contact_summary_update",
        }
    else:
        assert "contact_summary" in names
    # LastContact's (migration 0007) are gone with its table (0010): nothing read it
    assert not {n for n in names if n.startswith("contact_last")}
    with connection.cursor() as cursor:
        assert "contacts_lastcontact" not in connection.introspection.table_names(cursor)


def test_every_write_path_keeps_the_summary(kids, users):
    a, b, by = kids["c31a"], kids["c32a"], users["zx_teacher31"]
    log_contact(
        child=a, by=by, values={"kind": "phone", "at": at(D(2026, 11, 2)), "with_whom": "祖母"}
    )
    log_contact(
        child=a, by=by, values={"kind": "phone", "at": at(D(2026, 11, 1)), "with_whom": "祖母"}
    )
    # 23:30 local is the next day in UTC's eyes: the day column is the local day
    late = add_contact(a, by, "home_visit", at(D(2026, 11, 5), 23, 30))
    stored = assert_summary_agrees()
    assert stored[a.pk] == {"phone": at(D(2026, 11, 2)), "home_visit": late.at}
    Contact.objects.bulk_create(
        [Contact(child=b, by=by, kind="letter", at=at(D(2026, 6, d))) for d in (1, 9, 4)]
    )
    raw_insert([{"child_id": b.pk, "kind": "video", "at": at(D(2026, 7, 2)), "by_id": by.pk}])
    assert_summary_agrees()
    correct_contact(
        contact=late, by=by, values={"at": at(D(2026, 10, 1)), "kind": "meeting"}, reason="记错"
    )
    assert assert_summary_agrees()[a.pk] == {
        "phone": at(D(2026, 11, 2)),
        "meeting": at(D(2026, 10, 1)),
    }
    Contact.objects.filter(child=b, kind="letter").update(child=a)  # moved to another card
    Contact.objects.filter(kind="phone").update(kind="video")
    Contact.objects.update(notes="已匿名")  # other columns: nothing to do
    assert_summary_agrees()
    Contact.objects.filter(child=a, kind="letter").order_by("-at").first().delete()
    assert assert_summary_agrees()[a.pk]["letter"] == at(D(2026, 6, 4))
    Contact.objects.filter(child=b).delete()
    assert b.pk not in assert_summary_agrees()
    a.delete()  # the card's contacts go with it, and its row
    assert a.pk not in assert_summary_agrees()
    add_contact(kids["gt"], users["town"], "family_call", at(D(2026, 11, 3)))
    ContactSummary.objects.all().delete()
    install_triggers(Editor())  # installing again fills the table
    assert kids["gt"].pk in assert_summary_agrees()


def _shuffle(rng: random.Random, children: list, people: list) -> None:
    """Add, correct (time, kind, card) and delete random contacts, through the service, the
    correction workflow and queryset writes."""
    contacts = list(Contact.objects.order_by("pk"))
    for contact in rng.sample(contacts, 12):
        contact.refresh_from_db()
        values = {"at": contact.at + dt.timedelta(days=rng.randrange(-90, 90))}
        if rng.random() < 0.5:
            values["kind"] = rng.choice(ContactKind.values)
        correct_contact(contact=contact, by=people[0], values=values, reason="更正")
    for contact in rng.sample(contacts, 6):
        Contact.objects.filter(pk=contact.pk).update(child=rng.choice(children))
    for contact in rng.sample(contacts, 20):
        Contact.objects.filter(pk=contact.pk).delete()
    for _ in range(15):
        when = dt.datetime(2025, 6, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(600 * 86400)
        )
        add_contact(rng.choice(children), rng.choice(people), rng.choice(ContactKind.values), when)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_due_list_agrees_with_the_rules_on_random_changes(town, users, seed):  # noqa: F811
    rng = random.Random(seed)
    people = [users["zx_teacher31"], users["zx_leader"], users["proxy_wang"]]
    everyone, zx = Child.objects.all(), Child.objects.visible_to(users["zx_leader"])
    last = Contact.objects.order_by("-at").values_list("at", flat=True).first()
    after_all = local_date(last) + dt.timedelta(days=rng.randrange(1, 40))
    for _round in range(3):
        _shuffle(rng, town, people)
        assert_summary_agrees()
        last = local_date(Contact.objects.order_by("-at").values_list("at", flat=True).first())
        days = [
            D(2026, 9, 1) + dt.timedelta(days=rng.randrange(0, 150)),  # looking back
            max(after_all, last + dt.timedelta(days=1)),  # nothing after: the summary answers
        ]
        for as_of in days:
            for children in (everyone, zx):
                due = DueList(children, as_of=as_of)
                assert due.from_summary == (as_of > last)
                expected = reference_due_items(children, as_of=as_of)
                assert as_tuples(due.items()) == as_tuples(expected)
                assert due.count() == len(expected)
                assert as_tuples(due.page(5, 10)) == as_tuples(expected[5:15])
                order = list(dict.fromkeys(i.child for i in expected))
                assert due.child_page(0, 8) == order[:8]
                codes = ["guardian_contact", "family_call"]
                assert as_tuples(DueList(children, as_of=as_of, rule_codes=codes).items()) == (
                    as_tuples(reference_due_items(children, as_of=as_of, rule_codes=codes))
                )


@pytest.mark.parametrize("as_of", [D(2026, 9, 20), D(2027, 3, 1)])
def test_the_one_pass_for_the_page_agrees_with_sql_counts(town, users, as_of):  # noqa: F811
    """The page's counts, pages and ids from one pass (`prepare_page`) equal the grouped
    statements used when the rules are too many for a bitmask."""
    for children in (Child.objects.all(), Child.objects.visible_to(users["zx_leader"])):
        plain = DueList(children, as_of=as_of)
        plain.MASK_RULES = 0
        plain.prepare_page(0, 1000, ids_up_to=1000)
        assert plain._groups is None
        for offset, limit, up_to in ((0, 1000, 1000), (5, 7, 0), (3, 4, 1)):
            fast = DueList(children, as_of=as_of)
            fast.prepare_page(offset, limit, ids_up_to=up_to)
            assert sorted(fast.summary()) == sorted(plain.summary())
            assert fast.child_page(offset, limit) == plain.child_page(offset, limit)
            assert fast.children_count() == plain.children_count()
            assert fast.child_ids() == plain.child_ids()
            assert (fast._ids is not None) == (plain.children_count() <= up_to)
            for unit in ("school_id", "school_class_id"):
                assert fast.children_per(unit) == plain.children_per(unit)
