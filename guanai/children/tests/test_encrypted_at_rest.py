"""Phones and health of the card encrypted at rest (issue #19): the columns and the history
hold ciphertext; the card, the API and the import still deal in plain text."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from guanai.children.models import Child, Guardian, Parent
from guanai.children.tests.test_roster_import import ident, run, sheet
from guanai.lib import crypto
from guanai.lib.fields import encrypt_columns
from guanai.testing import make_child

GUARDIAN_PHONE = "13955501234"
FATHER_PHONE = "13855506789"
HEALTH = "哮喘需随身带药"
GUARDIAN_HEALTH = "腿脚不便"


def stored(table: str, column: str, where: str = "", params=()) -> list[str]:
    """A column as the database holds it (read with a cursor, past the ORM)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} {('WHERE ' + where) if where else ''}", list(params)
        )
        return [row[0] for row in cursor.fetchall()]


def assert_sealed(values: list[str], plain: str) -> None:
    assert values, "no row found"
    for value in values:
        assert plain not in value
        assert value.startswith(crypto.PREFIX)


@pytest.fixture
def child(cast):
    kid = make_child(
        cast["classes"]["c31"],
        name="林小雨",
        health=HEALTH,
        **{"father.phone": FATHER_PHONE, "guardian.phone": GUARDIAN_PHONE},
    )
    guardian = kid.guardian
    guardian.health = GUARDIAN_HEALTH
    guardian.save()
    return kid


def test_columns_and_history_hold_ciphertext_and_the_orm_reads_plain_text(child):
    where, params = "child_id = %s", [child.pk]
    assert_sealed(
        stored("children_parent", "phone", where + " AND relation='father'", params), FATHER_PHONE
    )
    assert_sealed(stored("children_guardian", "phone", where, params), GUARDIAN_PHONE)
    assert_sealed(stored("children_guardian", "health", where, params), GUARDIAN_HEALTH)
    assert_sealed(stored("children_child", "health", "id = %s", params), HEALTH)
    history_phones = stored("children_historicalguardian", "phone", where, params)
    assert len(history_phones) >= 2  # created, then the health added
    assert_sealed(history_phones, GUARDIAN_PHONE)
    assert_sealed(
        stored("children_historicalguardian", "health", where + " AND health <> ''", params),
        GUARDIAN_HEALTH,
    )
    assert_sealed(stored("children_historicalchild", "health", "id = %s", params), HEALTH)
    assert_sealed(
        stored("children_historicalparent", "phone", where + " AND phone <> ''", params),
        FATHER_PHONE,
    )

    fresh = Child.objects.get(pk=child.pk)
    assert fresh.health == HEALTH
    assert fresh.guardian.phone == GUARDIAN_PHONE
    assert fresh.parent("father").phone == FATHER_PHONE
    assert Guardian.objects.filter(child=child).values_list("phone", "health").get() == (
        GUARDIAN_PHONE,
        GUARDIAN_HEALTH,
    )
    assert child.guardian.history.first().phone == GUARDIAN_PHONE
    assert {h.health for h in child.history.all()} == {HEALTH}


def test_blank_stays_blank_so_missing_counts_still_work(child, cast):
    bare = make_child(cast["classes"]["c31"], name="无电话", **{"guardian.phone": ""})
    assert stored("children_guardian", "phone", "child_id = %s", [bare.pk]) == [""]
    without = Guardian.objects.filter(child__in=[child, bare], phone="")
    assert list(without.values_list("child_id", flat=True)) == [bare.pk]
    assert Guardian.objects.filter(child__in=[child, bare]).exclude(phone="").count() == 1


def test_a_search_on_an_encrypted_column_fails_loudly_instead_of_finding_nothing(child):
    with pytest.raises(FieldError, match="encrypted at rest"):
        list(Guardian.objects.filter(phone=GUARDIAN_PHONE))
    with pytest.raises(FieldError):
        list(Parent.objects.filter(phone__contains="1385"))


def test_the_card_shows_the_plain_phone_and_health(child, client, users):
    client.force_login(users["zx_teacher31"])
    page = client.get(f"/children/{child.pk}/").content.decode()
    assert GUARDIAN_PHONE in page
    assert HEALTH in page
    assert crypto.PREFIX not in page


def test_the_api_gives_the_plain_values(child, client, users):
    client.force_login(users["zx_teacher31"])
    body = client.get(f"/api/v1/children/{child.pk}").json()
    assert crypto.PREFIX not in str(body)
    assert HEALTH in str(body)


def test_roster_import_writes_ciphertext(cast, tmp_path):
    number = ident()
    head = ["姓名", "身份证号", "年级", "班级", "父亲电话", "监护人电话", "健康状况"]
    path = sheet(tmp_path, [["赵小", number, 3, 1, FATHER_PHONE, GUARDIAN_PHONE, HEALTH]], head)
    code, result, _ = run(path)
    assert code == 0, result
    kid = Child.objects.get(name="赵小")
    where, params = "child_id = %s", [kid.pk]
    assert_sealed(stored("children_guardian", "phone", where, params), GUARDIAN_PHONE)
    assert_sealed(stored("children_historicalguardian", "phone", where, params), GUARDIAN_PHONE)
    assert_sealed(
        stored("children_parent", "phone", where + " AND phone <> ''", params), FATHER_PHONE
    )
    assert_sealed(stored("children_child", "health", "id = %s", params), HEALTH)
    assert_sealed(stored("children_historicalchild", "health", "id = %s", params), HEALTH)
    assert (kid.health, kid.guardian.phone, kid.parent("father").phone) == (
        HEALTH,
        GUARDIAN_PHONE,
        FATHER_PHONE,
    )


def _migrate(operation, *, backwards: bool = False) -> None:
    """The migration's function, as the executor calls it (it needs only the connection)."""
    editor = SimpleNamespace(connection=connection)
    (operation.reverse_code if backwards else operation.code)(None, editor)


def test_the_migration_encrypts_existing_rows_and_history_once_and_reverses(child, kids):
    """Rows written in clear before the migration (as the old CharField stored them): every
    guardian of the cast with the same number, each row encrypted on its own."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE children_guardian SET phone = %s", [GUARDIAN_PHONE])
        cursor.execute("UPDATE children_historicalguardian SET phone = %s", [GUARDIAN_PHONE])
    # Read meanwhile (between the column's widening and its encryption): the plain text.
    assert Guardian.objects.get(child=child).phone == GUARDIAN_PHONE
    operation = encrypt_columns(
        {"children_guardian": ("phone",), "children_historicalguardian": ("phone",)},
        batch_size=2,
    )
    _migrate(operation)
    sealed = stored("children_guardian", "phone")
    assert len(sealed) == Guardian.objects.count() > 2
    assert len(set(sealed)) == len(sealed)  # one token per row
    assert_sealed(sealed, GUARDIAN_PHONE)
    history = stored("children_historicalguardian", "phone")
    assert_sealed(history, GUARDIAN_PHONE)
    assert len(set(history)) == len(history)
    assert {g.phone for g in Guardian.objects.all()} == {GUARDIAN_PHONE}

    _migrate(operation)  # run again (an interrupted migration): already encrypted, left alone
    assert stored("children_guardian", "phone") == sealed

    _migrate(operation, backwards=True)
    assert set(stored("children_guardian", "phone")) == {GUARDIAN_PHONE}
    assert set(stored("children_historicalguardian", "phone")) == {GUARDIAN_PHONE}


def test_editing_the_phone_writes_a_new_ciphertext_and_history(child):
    guardian = Guardian.objects.get(child=child)
    guardian.phone = "13700000000"
    guardian.effective_from = dt.date(2026, 11, 29)
    guardian.save()
    assert_sealed(stored("children_guardian", "phone", "child_id = %s", [child.pk]), "13700000000")
    assert [h.phone for h in guardian.history.order_by("history_date")][-2:] == [
        GUARDIAN_PHONE,
        "13700000000",
    ]
