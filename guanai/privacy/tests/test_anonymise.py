"""`guanai anonymise`: children who left long ago lose what names them, statistics stay."""

import datetime as dt
import io
import os

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from guanai.accounts.models import AccessLog
from guanai.care.models import Observation
from guanai.children.models import Child, Guardian, Parent
from guanai.contacts.models import Contact, ContactPhoto, Message, Recipient
from guanai.pairing.models import Pair
from guanai.privacy.anonymise import anonymise
from guanai.privacy.models import Anonymisation, GuardianRequest
from guanai.protection.models import Incident
from guanai.screening.transitions import school_counts_on, transfer_child
from guanai.testing import make_child, new_id_number

NAME = "欧阳未央"
GUARDIAN = "欧阳老奶奶"
FATHER = "欧阳大山"
PHONE_FATHER = "13700001111"
PHONE_GUARDIAN = "13700002222"
ADDRESS = "未央路八号院"
NOTE = "奶奶说孩子想念爸爸"


@pytest.fixture
def left_child(cast, users, clock, tmp_path):
    """A child of 虎山镇中心小学 who was there in spring 2022 and transferred out of the town
    on 30 June 2022, with a trace in every kind of record."""
    clock.move_to(dt.datetime(2022, 3, 1, 10, 0, tzinfo=timezone.get_current_timezone()))
    zx = cast["schools"]["zx"]
    number = new_id_number(dt.date(2015, 7, 19), "female")
    child = make_child(
        cast["classes"]["c31"],
        name=NAME,
        gender="female",
        birth=dt.date(2015, 7, 19),
        id_number=number,
        student_no="G" + number,
        address=ADDRESS,
        notes=NOTE,
        **{
            "father.name": FATHER,
            "father.phone": PHONE_FATHER,
            "guardian.name": GUARDIAN,
            "guardian.phone": PHONE_GUARDIAN,
        },
    )
    teacher = users["zx_teacher31"]
    contact = Contact.objects.create(
        child=child, by=teacher, kind="visit", at=timezone.now(), notes=NOTE, with_whom=GUARDIAN
    )
    photo = ContactPhoto(contact=contact)
    photo.file.save("visit.jpg", ContentFile(b"\xff\xd8 jpeg of " + NAME.encode()), save=True)
    message = Message.objects.create(
        text="家长您好", gateway="file", school=zx, created_by=users["zx_leader"]
    )
    Recipient.objects.create(
        message=message,
        child=child,
        guardian_name=GUARDIAN,
        phone=PHONE_GUARDIAN,
        text=f"{GUARDIAN}您好，{NAME}的家长会",
    )
    Observation.objects.create(
        child=child, by=users["zx_counselor"], level="watch", what=f"{NAME}常常哭"
    )
    Incident.objects.create(
        child=child,
        filed_by=teacher,
        observed_at=timezone.now(),
        source="seen",
        harm_kind="other",
        what=f"{NAME}手臂有淤青",
    )
    Pair.objects.create(
        child=child,
        buddy=cast["children"]["c31a"],
        school=zx,
        cost=0,
        age_gap_days=0,
        explanation=f"{NAME}与张三同村",
    )
    GuardianRequest.objects.create(
        child=child,
        kind="see",
        received_on=dt.date(2022, 3, 1),
        requester=GUARDIAN,
        relation="祖母",
        asked=f"查看{NAME}的档案",
        recorded_by=users["zx_leader"],
    )
    clock.move_to(dt.datetime(2022, 7, 1, 10, 0, tzinfo=timezone.get_current_timezone()))
    transfer_child(
        child=child,
        to_school=None,
        to_class=None,
        by=users["zx_leader"],
        reason="随父母去广东",
        on=dt.date(2022, 6, 30),
    )
    clock.move_to(dt.datetime(2026, 11, 29, 10, 0, tzinfo=timezone.get_current_timezone()))
    child.refresh_from_db()
    with connection.cursor() as cursor:  # phones are encrypted at rest: what the tables hold
        cursor.execute(
            "SELECT phone FROM children_parent WHERE child_id = %s AND phone <> '' UNION ALL "
            "SELECT phone FROM children_guardian WHERE child_id = %s AND phone <> ''",
            [child.pk, child.pk],
        )
        phones = [row[0] for row in cursor.fetchall()]
    assert len(phones) == 2 and all(p.startswith("gk1$") for p in phones)
    return {"child": child, "number": number, "photo": photo.file.path, "phones": phones}


def dump() -> str:
    """Every row of every table as text (SQLite's own dump; on PostgreSQL each table's rows)."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            out += [repr(row) for row in cursor.fetchall()]
    return "\n".join(out)


def secrets(left) -> list[str]:
    """What names the child: in clear, and the ID number's ciphertext, hash and masked form."""
    child = left["child"]
    return [
        NAME,
        GUARDIAN,
        FATHER,
        *left["phones"],
        ADDRESS,
        NOTE,
        child.id_number_enc,
        child.id_number_hash,
        child.id_number_masked,
        child.student_no_enc,
        child.student_no_hash,
    ]


def run(*args) -> str:
    out = io.StringIO()
    call_command("anonymise", *args, stdout=out)
    return out.getvalue()


def test_left_child_is_anonymised_in_every_table(
    left_child, kids, cast, django_capture_on_commit_callbacks
):
    child = left_child["child"]
    zx = cast["schools"]["zx"]
    spring = dt.date(2022, 5, 1)
    before = school_counts_on(school=zx, on=spring)
    contacts_before = Contact.objects.filter(child=child).count()
    assert all(s in dump() for s in secrets(left_child))
    logs = AccessLog.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        out = run()
    assert "已匿名化离校早于 2023-11-29 的儿童 1 名" in out
    assert "儿童档卡：1 行" in out

    text = dump()
    for secret in secrets(left_child):
        assert secret not in text, secret
    assert left_child["number"] not in text
    assert PHONE_FATHER not in text and PHONE_GUARDIAN not in text
    assert not (ContactPhoto.objects.exists())
    assert not os.path.exists(left_child["photo"])

    child.refresh_from_db()
    assert child.name == "已匿名"
    assert child.id_number_hash is None and child.student_no_enc == ""
    assert child.birth_date == dt.date(2015, 7, 1)  # year and month kept
    assert child.gender == "female" and child.category == "double"
    assert Parent.objects.get(child=child, relation="father").phone == ""
    assert Guardian.objects.get(child=child).name == ""
    # statistics over past terms still add up
    assert Contact.objects.filter(child=child).count() == contacts_before
    after = school_counts_on(school=zx, on=spring)
    assert after == before
    assert Anonymisation.objects.get(child=child).left_on == dt.date(2022, 6, 30)
    log = AccessLog.objects.order_by("-pk").first()
    assert AccessLog.objects.count() == logs + 1
    assert log.action == "anonymise" and "1 名" in log.detail


def test_enrolled_children_are_untouched(left_child, kids):
    before = {k: (c.name, c.id_number, c.guardian.phone) for k, c in kids.items()}
    run("--inactive-years", "1")
    for key, child in kids.items():
        fresh = Child.objects.get(pk=child.pk)
        assert (fresh.name, fresh.id_number, fresh.guardian.phone) == before[key]
    assert Anonymisation.objects.count() == 1


def test_recently_left_child_is_kept(left_child):
    out = run("--inactive-years", "5")  # left 4½ years ago
    assert "0 名" in out and "没有需要匿名化的儿童" in out
    assert Child.objects.get(pk=left_child["child"].pk).name == NAME


def test_dry_run_changes_nothing(left_child, django_capture_on_commit_callbacks):
    text = dump()
    logs = AccessLog.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--dry-run")
    assert "将匿名化" in out and "1 名" in out and "试运行" in out
    assert dump() == text
    assert AccessLog.objects.count() == logs
    assert os.path.exists(left_child["photo"])


def test_idempotent(left_child):
    run()
    text = dump()
    second = run()
    assert "0 名" in second
    assert dump().count("已匿名") == text.count("已匿名")
    assert Anonymisation.objects.count() == 1


def test_a_child_left_without_a_transition_is_dated_by_its_history(cast, clock):
    clock.move_to(dt.datetime(2021, 3, 1, 10, 0, tzinfo=timezone.get_current_timezone()))
    child = make_child(cast["classes"]["c31"], name="慕容离校")
    clock.move_to(dt.datetime(2021, 7, 1, 10, 0, tzinfo=timezone.get_current_timezone()))
    child.enrolment = "left"
    child.save()
    clock.move_to(dt.datetime(2026, 11, 29, 10, 0, tzinfo=timezone.get_current_timezone()))
    report = anonymise(years=3)
    assert report.children == 1
    assert Anonymisation.objects.get(child=child).left_on == dt.date(2021, 7, 1)


@pytest.mark.parametrize("years", ["0", "-2"])
def test_bad_years(db, years):
    with pytest.raises(CommandError, match="不小于 1"):
        run("--inactive-years", years)


def test_years_not_a_number(db):
    with pytest.raises(CommandError):
        run("--inactive-years", "三")


def _batch(school, user, children, name):
    from guanai.contacts.letters_pdf import letters_dir
    from guanai.contacts.models import Letter, LetterBatch, LetterChild

    batch = LetterBatch.objects.create(
        school=school,
        title="寒假致家长的一封信",
        body="…",
        receipt_text="…",
        pdf=name,
        created_by=user,
    )
    for child in children:
        letter = Letter.objects.create(batch=batch, child=child, guardian_name=GUARDIAN)
        LetterChild.objects.create(letter=letter, child=child, batch=batch)
    path = letters_dir() / name
    path.write_bytes(b"%PDF " + NAME.encode())
    return batch, path


def test_a_printed_batch_naming_only_gone_children_loses_its_pdf(
    left_child, users, kids, cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    zx, leader = cast["schools"]["zx"], users["zx_leader"]
    alone, alone_pdf = _batch(zx, leader, [left_child["child"]], "alone.pdf")
    shared, shared_pdf = _batch(zx, leader, [left_child["child"], kids["c31a"]], "shared.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        out = run()
    assert "家长信 PDF：1 行" in out
    assert not alone_pdf.exists() and shared_pdf.exists()
    alone.refresh_from_db()
    shared.refresh_from_db()
    assert alone.pdf == "" and shared.pdf == "shared.pdf"
