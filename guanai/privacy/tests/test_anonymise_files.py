"""`guanai anonymise` and the files under the data dir (issue #19): a letter PDF that also names
children still on record is made again without the anonymised child; roster uploads and
rejected-rows files naming her go; her lines leave the message outbox file; her 委托监护确认书
scan goes; backups, which cannot be edited, are counted with the day their retention ends, and
`guanai prune-backups` deletes those past it."""

import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from guanai.accounts.models import AccessLog
from guanai.contacts.gateways import FileGateway
from guanai.contacts.models import Letter, LetterBatch, LetterChild, Message, Recipient
from guanai.lib import backup, crypto
from guanai.privacy.anonymise import anonymise
from guanai.privacy.tests.test_anonymise import NAME, left_child  # noqa: F401
from guanai.villages.models import Entrustment


def _xlsx(path: Path, rows: list[list[str]]) -> bytes:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return path.read_bytes()


def _pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join(p.extract_text() for p in reader.pages).replace(" ", "").replace("\n", "")


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.GUANAI_BACKUP_DIR = str(tmp_path / "backups")
    settings.GUANAI_MESSAGE_FILE = str(tmp_path / "outbox.jsonl")
    return tmp_path


def test_a_family_letter_naming_a_sibling_is_made_again_without_the_child(
    left_child,  # noqa: F811
    kids,
    cast,
    users,
    data_dir,
    django_capture_on_commit_callbacks,
):
    from guanai.contacts.letters_pdf import letters_dir

    gone, sibling = left_child["child"], kids["c31a"]
    batch = LetterBatch.objects.create(
        school=cast["schools"]["zx"],
        title="寒假致家长的一封信",
        body="家长您好：寒假注意安全。",
        receipt_text="已收到",
        pdf="letters-mixed.pdf",
        created_by=users["zx_leader"],
    )
    family = Letter.objects.create(batch=batch, child=gone, guardian_name="欧阳老奶奶")
    alone = Letter.objects.create(batch=batch, child=kids["c31b"], guardian_name="李奶奶")
    for letter, child in [(family, gone), (family, sibling), (alone, kids["c31b"])]:
        LetterChild.objects.create(letter=letter, child=child, batch=batch)
    pdf = letters_dir() / "letters-mixed.pdf"
    pdf.write_bytes(b"%PDF " + NAME.encode())

    with django_capture_on_commit_callbacks(execute=True):
        report = anonymise()
    assert report.reprinted == 1
    text = _pdf_text(pdf)
    assert NAME not in text and "已匿名" not in text
    assert sibling.name in text and kids["c31b"].name in text
    assert family.code in text and alone.code in text  # the receipt codes stay
    batch.refresh_from_db()
    assert batch.pdf == "letters-mixed.pdf"


def test_roster_uploads_and_rejected_rows_naming_the_child_go(
    left_child,  # noqa: F811
    settings,
    tmp_path,
    data_dir,
    django_capture_on_commit_callbacks,
):
    imports = Path(settings.MEDIA_ROOT) / "imports"
    (imports / "zx").mkdir(parents=True)
    (imports / "rejected").mkdir()
    naming = imports / "zx" / "20220301-aaaa.xlsx"
    _xlsx(naming, [["姓名", "身份证号"], [NAME, left_child["number"]]])
    other = imports / "zx" / "20261120-bbbb.xlsx"
    _xlsx(other, [["姓名", "身份证号"], ["张三", "430102201503021233"]])
    csv = imports / "zx" / "20220302-cccc.csv"
    csv.write_bytes(f"姓名,身份证号\n某某,{left_child['number']}\n".encode("gb18030"))
    rejected = imports / "rejected" / "7.bin"
    rejected.write_bytes(
        crypto.encrypt_bytes(_xlsx(tmp_path / "r.xlsx", [["姓名", "原因"], [NAME, "年级不对"]]))
    )

    with django_capture_on_commit_callbacks(execute=True):
        dry = anonymise(dry_run=True)
    assert dry.imports == 3 and naming.exists() and rejected.exists()

    with django_capture_on_commit_callbacks(execute=True):
        report = anonymise()
    assert report.imports == 3
    assert not naming.exists() and not csv.exists() and not rejected.exists()
    assert other.exists()


def test_the_childs_lines_leave_the_outbox_file(
    left_child,  # noqa: F811
    data_dir,
    django_capture_on_commit_callbacks,
):
    recipient = Recipient.objects.get(child=left_child["child"])
    gateway = FileGateway()
    gateway.send(phone="13700002222", text=f"{NAME}的家长您好", ref=recipient.ref)
    gateway.send(phone="13900001111", text="张三的家长您好", ref="guanai-9-99")
    outbox = gateway.path()
    with django_capture_on_commit_callbacks(execute=True):
        report = anonymise()
    assert report.outbox == 1
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [line["ref"] for line in lines] == ["guanai-9-99"]
    assert NAME not in outbox.read_text(encoding="utf-8")
    assert oct(outbox.stat().st_mode & 0o777) == "0o600"
    assert Message.objects.filter(recipients__child=left_child["child"]).exists()  # row kept


def test_the_entrustment_scan_goes(
    left_child,  # noqa: F811
    users,
    data_dir,
    django_capture_on_commit_callbacks,
):
    entrustment = Entrustment(
        child=left_child["child"],
        guardian_name="欧阳老奶奶",
        guardian_relation="祖母",
        signed_on=dt.date(2022, 3, 1),
        recorded_by=users["zx_leader"],
    )
    entrustment.scan.save("scan.jpg", ContentFile(b"\xff\xd8 signed by " + NAME.encode()))
    scan = Path(entrustment.scan.path)
    with django_capture_on_commit_callbacks(execute=True):
        report = anonymise()
    assert report.rows["委托监护确认书"] == 1
    assert not Entrustment.objects.filter(child=left_child["child"]).exists()
    assert not scan.exists()


def _backup_file(folder: Path, name: str, days_ago: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(backup.MAGIC + b"encrypted")
    when = (timezone.now() - dt.timedelta(days=days_ago)).timestamp()
    os.utime(path, (when, when))
    return path


def test_anonymise_says_how_many_backups_still_hold_the_children_and_until_when(
    left_child,  # noqa: F811
    data_dir,
    settings,
):
    folder = data_dir / "backups"
    _backup_file(folder, "old.backup", days_ago=40)
    _backup_file(folder, "new.backup", days_ago=10)
    (folder / "notes.txt").write_text("不是备份")
    settings.GUANAI_BACKUP_KEEP_DAYS = 90
    report = anonymise()
    assert report.backups == 2
    assert report.backups_until == timezone.localdate() + dt.timedelta(days=80)
    assert any("2 份此前的备份仍含这些儿童的数据" in line for line in report.lines())
    log = AccessLog.objects.filter(action="anonymise").get()
    assert "此前的备份 2 份仍含这些儿童" in log.detail


def test_prune_backups_deletes_only_backups_past_their_retention(db, data_dir):
    folder = data_dir / "backups"
    old = _backup_file(folder, "2026-06-01.backup", days_ago=120)
    recent = _backup_file(folder, "2026-11-01.backup", days_ago=28)
    other = folder / "readme.txt"
    other.write_text("操作说明")
    os.utime(other, (0, 0))
    out = io.StringIO()
    call_command("prune_backups", "--dry-run", stdout=out)
    assert "将删除超过 90 天的备份 1 份" in out.getvalue() and old.exists()
    out = io.StringIO()
    call_command("prune_backups", stdout=out)
    assert "已删除超过 90 天的备份 1 份" in out.getvalue()
    assert not old.exists() and recent.exists() and other.exists()
    call_command("prune_backups", "--keep-days", "7", stdout=io.StringIO())
    assert not recent.exists()


def test_compacting_leaves_no_free_pages_or_dead_rows_behind(transactional_db):
    """After a run the blanked values must not stay in the file's free pages (SQLite) or in
    dead rows (PostgreSQL): `compact` rewrites them (VACUUM); inside a transaction it cannot
    and does nothing."""
    from django.db import connection, transaction

    from guanai.privacy.anonymise import compact

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE anon_probe (v TEXT)")
        try:
            cursor.executemany("INSERT INTO anon_probe (v) VALUES (%s)", [[NAME * 200]] * 500)
            cursor.execute("DELETE FROM anon_probe")
            with transaction.atomic():
                assert compact({"anon_probe"}) == 0
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA freelist_count")
                assert cursor.fetchone()[0] > 0  # the deleted rows' pages, old bytes and all
                assert compact({"anon_probe"}) == 1
                cursor.execute("PRAGMA freelist_count")
                assert cursor.fetchone()[0] == 0
            else:
                cursor.execute("SELECT pg_relation_filenode('anon_probe')")
                before = cursor.fetchone()[0]
                assert compact({"anon_probe"}) == 1
                cursor.execute("SELECT pg_relation_filenode('anon_probe')")
                assert cursor.fetchone()[0] != before  # rewritten into a new file: no dead rows
        finally:
            cursor.execute("DROP TABLE anon_probe")
