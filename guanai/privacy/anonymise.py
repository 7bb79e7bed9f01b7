"""`guanai anonymise`: the personal data of children who left long ago, removed.

A child who left (transferred out of the town, graduated, left school) more than N years ago
keeps what statistics over past terms need — category and its reasons, gender, birth year and
month, village, school and class with the dated transitions, the number and dates of contacts,
visits, letters, pairs, cases and screenings — and loses everything that names or reaches her or
her family: names, ID numbers, 学籍号, phones, addresses, notes, the texts of contacts, letters,
messages, cases and counselling, and photos. History tables (simple_history) are cleaned the
same way, so no earlier version of the card keeps what the card no longer holds. Enrolled
children are never touched. A row in `Anonymisation` marks each child done.
"""

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from guanai.accounts.models import AccessAction
from guanai.children.models import Child, Enrolment

from .models import Anonymisation

ANON = "已匿名"


@dataclass(frozen=True)
class Clean:
    model: str
    child: str  # the lookup from this model to the child's id, e.g. "incident__child_id"
    values: dict[str, Any]
    also: str | None = None  # a second path (a pair's buddy)
    history: bool = True  # clean its simple_history table too, where it has one


def _blank(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names, "")


CLEAN: tuple[Clean, ...] = (
    Clean(
        "children.Child",
        "id",
        {
            "name": ANON,
            **_blank(
                "id_number_enc",
                "id_number_masked",
                "id_last4",
                "student_no_enc",
                "student_no_masked",
                "school_no",
                "group",
                "address",
                "health",
                "disability",
                "study",
                "psych_summary",
                "safety_notes",
                "income_sources",
                "assistance",
                "notes",
                "name_pinyin",
            ),
            "id_number_hash": None,
            "student_no_hash": None,
            "latitude": None,
            "longitude": None,
            "birth_date": TruncMonth("birth_date"),
        },
    ),
    Clean(
        "children.Parent",
        "child_id",
        _blank(
            "name",
            "phone",
            "id_number_enc",
            "id_number_hash",
            "id_number_masked",
            "work_place",
            "status_reason",
        ),
    ),
    Clean(
        "children.Guardian",
        "child_id",
        _blank("name", "phone", "id_number_enc", "id_number_hash", "id_number_masked", "health"),
    ),
    Clean("pairing.Pair", "child_id", _blank("explanation", "end_reason"), also="buddy_id"),
    Clean(
        "contacts.Contact",
        "child_id",
        _blank(
            "with_whom",
            "notes",
            "study_text",
            "life_text",
            "psych_text",
            "safety_text",
            "follow_up_note",
        ),
    ),
    Clean("contacts.Letter", "child_id", _blank("guardian_name", "family_key")),
    Clean("contacts.Recipient", "child_id", _blank("guardian_name", "phone", "text")),
    Clean("screening.ScreeningRecord", "child_id", _blank("note")),
    Clean("screening.CardVerification", "child_id", _blank("note")),
    Clean(
        "screening.VacationPlan",
        "child_id",
        _blank("place", "with_whom", "contact_phone", "activities"),
    ),
    Clean("screening.Transition", "child_id", {"reason": ANON}),
    Clean("care.Observation", "child_id", {"what": ANON}),
    Clean("care.Session", "child_id", {"notes": ANON}),
    Clean("care.ScreeningResult", "child_id", {"answers": {}}),
    Clean("activities.Allocation", "child_id", _blank("handed_by", "reason")),
    Clean("inspections.Finding", "child_id", _blank("met_whom", "notes")),
    Clean("protection.Incident", "child_id", {"what": ANON, **_blank("receipt_no", "outcome")}),
    Clean("protection.IncidentFollowUp", "incident__child_id", {"note": ANON}),
    Clean("protection.DropoutCase", "child_id", _blank("reason_asked", "closing_note")),
    Clean("protection.DropoutAttempt", "case__child_id", {"with_whom": "", "result": ANON}),
    Clean("protection.AlertResolution", "child_id", _blank("reason", "action")),
    Clean(
        "privacy.GuardianRequest",
        "child_id",
        {"requester": ANON, "asked": ANON, "reply": ""},
    ),
)

# Photos and scans: the rows and their files go (model, lookup to the child, file field).
PHOTOS: tuple[tuple[str, str, str], ...] = (
    ("contacts.ContactPhoto", "contact__child_id", "file"),
    ("activities.ActivityPhoto", "child_id", "file"),
    ("villages.Entrustment", "child_id", "scan"),  # 委托监护确认书: the guardian's signature
)


@dataclass
class Report:
    children: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # "儿童档卡" → rows changed
    files: int = 0  # photos, scans and letter PDFs deleted
    reprinted: int = 0  # letter PDFs made again without the anonymised children
    imports: int = 0  # roster uploads and rejected-rows files naming them, deleted
    outbox: int = 0  # lines of the message outbox file to them, removed
    backups: int = 0  # backups made before the run (they still hold the children)
    backups_until: dt.date | None = None  # when the retention deletes the last of them
    dry_run: bool = False
    cutoff: dt.date | None = None
    tables: set[str] = field(default_factory=set)  # tables whose rows were blanked
    compacted: int = 0  # tables rewritten without the old values (VACUUM), 0: not done

    def lines(self) -> list[str]:
        """What the command prints about files, beyond the rows per table."""
        out = []
        if self.files:
            out.append(f"  照片、扫描件和家长信 PDF：删除 {self.files} 个")
        if self.reprinted:
            out.append(f"  家长信 PDF：{self.reprinted} 份去掉这些儿童后重新生成")
        if self.imports:
            out.append(f"  花名册上传文件和导入退回行文件：删除 {self.imports} 个")
        if self.outbox:
            out.append(f"  短信发件箱文件：删除 {self.outbox} 行")
        if self.compacted:
            out.append(
                f"  数据库已整理（VACUUM，{self.compacted} 张表）：旧值不再留在数据库文件的空闲页中"
            )
        if self.backups:
            until = f"{self.backups_until:%Y-%m-%d}" if self.backups_until else "（未设保留期）"
            out.append(
                f"  注意：{self.backups} 份此前的备份仍含这些儿童的数据（备份加密，不能修改），"
                f"按保留期将于 {until} 前删除（guanai prune-backups）"
            )
        return out


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def default_years() -> int:
    return int(getattr(settings, "GUANAI_ANONYMISE_AFTER_YEARS", 3))


def left_on(child: Child) -> dt.date:
    """When the child stopped being enrolled: the latest transition out of enrolment, else the
    card's history (the first version not enrolled after the last enrolled one)."""
    out = (
        child.transitions.exclude(to_enrolment=Enrolment.ENROLLED).aggregate(on=Max("on")).get("on")
    )
    if out:
        return out
    versions = list(child.history.order_by("history_date").values("enrolment", "history_date"))
    last_in = max(
        (i for i, v in enumerate(versions) if v["enrolment"] == Enrolment.ENROLLED), default=-1
    )
    after = versions[last_in + 1 :]
    when = after[0]["history_date"] if after else child.updated_at
    return timezone.localtime(when).date()


def candidates(*, years: int, today: dt.date | None = None) -> list[tuple[Child, dt.date]]:
    """Children not enrolled, not yet anonymised, who left more than `years` years ago."""
    cutoff = years_before(today or timezone.localdate(), years)
    left = (
        Child.objects.exclude(enrolment=Enrolment.ENROLLED)
        .filter(anonymisation__isnull=True)
        .order_by("pk")
    )
    found = []
    for child in left:
        on = left_on(child)
        if on < cutoff:
            found.append((child, on))
    return found


class _DryRun(Exception):
    pass


def anonymise(*, years: int | None = None, dry_run: bool = False) -> Report:
    """Anonymise the children who left more than `years` (default: the setting) years ago;
    with `dry_run` count what would change and change nothing."""
    from guanai.lib.errors import Invalid

    years = default_years() if years is None else years
    if years < 1:
        raise Invalid({"inactive_years": "年数须是不小于 1 的整数"})
    report = Report(dry_run=dry_run, cutoff=years_before(timezone.localdate(), years))
    try:
        with transaction.atomic():
            _run(years, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    if not dry_run and report.children:
        report.compacted = compact(report.tables)
    return report


def compact(tables: set[str]) -> int:
    """Rewrite the database so the blanked values do not stay in free pages (SQLite: the
    whole file, `VACUUM`) or dead rows (PostgreSQL: each table, `VACUUM FULL`, which locks the
    table while it runs — seconds for a county's cards). Outside a transaction only (VACUUM
    cannot run in one): inside one, nothing is done and 0 is returned. Returns how many
    tables were rewritten."""
    if connection.in_atomic_block or not tables:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("VACUUM")
        else:
            for table in sorted(tables):
                cursor.execute(f"VACUUM (FULL, ANALYZE) {connection.ops.quote_name(table)}")
    return len(tables)


def _letter_pdfs(ids: list[int]) -> tuple[list[Path], list[int]]:
    """The printed PDFs of the letter batches naming this run's children: a batch naming only
    children gone from the record (this run's or anonymised before) loses its PDF and shows as
    not printed; a batch that also names children still on record (a sibling's family letter,
    the rest of the class) is made again without the gone children (`_reprint`, after the
    commit). Returns (PDFs to delete, batches to make again)."""
    from guanai.contacts.letters_pdf import letters_dir
    from guanai.contacts.models import LetterBatch, LetterChild

    gone = set(ids) | set(Anonymisation.objects.values_list("child_id", flat=True))
    batches = LetterBatch.objects.filter(
        pk__in=LetterChild.objects.filter(child_id__in=ids).values("batch_id")
    ).exclude(pdf="")
    dropped, again = [], []
    for batch in batches:
        named = set(LetterChild.objects.filter(batch=batch).values_list("child_id", flat=True))
        if named <= gone:
            dropped.append(letters_dir() / Path(batch.pdf).name)
            LetterBatch.objects.filter(pk=batch.pk).update(pdf="")
        else:
            again.append(batch.pk)
    return dropped, again


def _reprint(batch_ids: list[int]) -> None:
    """Make again the PDFs of these batches, leaving out every anonymised child: a family
    letter names the siblings still on record, a letter naming only gone children has no page.
    The receipt codes stay. A PDF that cannot be made (no Chinese font) is deleted instead and
    its batch shows as not printed: the anonymised child's name must not stay in it."""
    from django.db.models import Prefetch

    from guanai.contacts.letters_pdf import letters_dir, render_letters_pdf
    from guanai.contacts.models import LetterBatch, LetterChild

    gone = Anonymisation.objects.values("child_id")
    named = (
        LetterChild.objects.exclude(child_id__in=gone)
        .select_related("child__school", "child__school_class")
        .order_by("id")
    )
    for batch in LetterBatch.objects.filter(pk__in=batch_ids).exclude(pdf=""):
        path = letters_dir() / Path(batch.pdf).name
        letters = [
            letter
            for letter in batch.letters.prefetch_related(
                Prefetch("letter_children", queryset=named)
            ).order_by("child__school_class__grade", "child__school_class__class_no", "pk")
            if letter.letter_children.all()
        ]
        try:
            data = render_letters_pdf(batch, letters)
            part = path.with_suffix(".part")
            part.write_bytes(data)
            os.replace(part, path)
        except (RuntimeError, OSError):
            path.unlink(missing_ok=True)
            LetterBatch.objects.filter(pk=batch.pk).update(pdf="")


def _identities(ids: list[int]) -> list[str]:
    """What names the children in a file: their names and whole ID numbers and 学籍号 (read
    before the run blanks them). Names shorter than two characters are left out (too common)."""
    found: set[str] = set()
    for child in Child.objects.filter(pk__in=ids):
        for value in (child.name, child.id_number, child.student_no):
            if value and len(value) >= 2:
                found.add(value)
    return sorted(found)


def _file_text(data: bytes) -> str:
    """A roster file's text for a search: an .xlsx's XML parts (strings and sheets), else the
    bytes read as UTF-8, GB18030 and UTF-16 (a CSV, an old .xls's strings) together."""
    import io
    import zipfile

    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                return "\n".join(
                    book.read(name).decode("utf-8", "replace")
                    for name in book.namelist()
                    if name.endswith(".xml")
                )
        except (zipfile.BadZipFile, OSError):
            pass
    return "\n".join(data.decode(enc, "ignore") for enc in ("utf-8", "gb18030", "utf-16-le"))


def _import_files(needles: list[str]) -> list[Path]:
    """The roster uploads and the rejected-rows files kept under the uploads that name one of
    the children (`needles`: `_identities`), besides those an import still queued or running
    reads. (Past their retention — an upload a day, rejected rows 30 days — the worker removes
    them anyway: screening/imports.py `clean_stale_uploads`.)"""
    from guanai.jobs.models import Job, JobStatus
    from guanai.lib import crypto
    from guanai.screening.imports import IMPORT_KIND

    root = Path(settings.MEDIA_ROOT) / "imports"
    if not root.is_dir() or not needles:
        return []
    busy = set(
        Job.objects.filter(
            kind=IMPORT_KIND, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).values_list("params__path", flat=True)
    )
    media = Path(settings.MEDIA_ROOT)
    found = []
    for path in sorted(root.glob("*/*")):
        if not path.is_file() or str(path.relative_to(media)) in busy:
            continue
        try:
            data = path.read_bytes()
            if path.parent.name == "rejected":
                data = crypto.decrypt_bytes(data)
        except (OSError, crypto.FieldKeyError):
            continue
        text = _file_text(data)
        if any(needle in text for needle in needles):
            found.append(path)
    return found


def _outbox_refs(ids: list[int]) -> set[str]:
    """The references the message outbox file (the file gateway) carries for these children's
    recipients: one line each, `{"to", "text", "ref"}`."""
    from guanai.contacts.models import Recipient

    return {r.ref for r in Recipient.objects.filter(child_id__in=ids).only("pk", "message_id")}


def _outbox_path() -> Path:
    from guanai.contacts.gateways import FileGateway

    return FileGateway().path()


def _outbox_lines(refs: set[str]) -> int:
    """How many lines of the outbox file are to these references."""
    import json

    path = _outbox_path()
    if not refs or not path.is_file():
        return 0
    count = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            count += json.loads(line).get("ref") in refs
        except (ValueError, AttributeError):
            continue
    return count


def _rewrite_outbox(refs: set[str]) -> None:
    """The outbox file without the lines to these references, replaced in one step (0600)."""
    import json

    path = _outbox_path()
    if not refs or not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("ref") in refs:
                continue
        except (ValueError, AttributeError):
            pass
        kept.append(line + "\n")
    part = path.with_name(f".{path.name}.anonymise")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(kept)
    os.replace(part, path)


def _backups(report: Report) -> None:
    """Backups written before this run still hold the children: they are encrypted archives
    that cannot be edited, so they go whole when their retention ends (guanai prune-backups).
    The report says how many and until when."""
    from guanai.lib import backup

    written = backup.backups_before(timezone.now())
    report.backups = len(written)
    if written:
        last = written[-1] + dt.timedelta(days=backup.keep_days())
        report.backups_until = timezone.localtime(last).date()


def _run(years: int, report: Report) -> None:
    from guanai.accounts.services import log_access

    found = candidates(years=years)
    report.children = len(found)
    ids = [child.pk for child, _ in found]
    if not ids:
        return
    needles = _identities(ids)  # before the names and numbers are blanked
    for spec in CLEAN:
        model = apps.get_model(spec.model)
        label = str(model._meta.verbose_name)
        cond = Q(**{f"{spec.child}__in": ids})
        if spec.also:
            cond |= Q(**{f"{spec.also}__in": ids})
        report.rows[label] = model._base_manager.filter(cond).update(**spec.values)
        report.tables.add(model._meta.db_table)
        history = getattr(model, "history", None) if spec.history else None
        if history is not None:
            hmodel = history.model
            names = {f.name for f in hmodel._meta.fields}
            values = {k: v for k, v in spec.values.items() if k in names}
            if "__" in spec.child:  # a history row has no relation to follow: by the row's id
                pks = list(model._base_manager.filter(cond).values_list("pk", flat=True))
                hcond = Q(id__in=pks)
            else:
                hcond = Q(**{f"{spec.child}__in": ids})
                if spec.also:
                    hcond |= Q(**{f"{spec.also}__in": ids})
            if values:
                report.rows[f"{label}（历史）"] = hmodel._base_manager.filter(hcond).update(
                    **values
                )
                report.tables.add(hmodel._meta.db_table)
    paths: list = []
    for label_model, path, file_field in PHOTOS:
        model = apps.get_model(label_model)
        rows = list(model._base_manager.filter(**{f"{path}__in": ids}))
        paths += [getattr(row, file_field) for row in rows if getattr(row, file_field)]
        report.rows[str(model._meta.verbose_name)] = len(rows)
        model._base_manager.filter(pk__in=[r.pk for r in rows]).delete()
    letters, again = _letter_pdfs(ids)
    report.rows["家长信 PDF"] = len(letters)
    report.files = len(paths) + len(letters)
    report.reprinted = len(again)
    imports = _import_files(needles)
    report.imports = len(imports)
    refs = _outbox_refs(ids)
    report.outbox = _outbox_lines(refs)
    _backups(report)

    def remove_files() -> None:
        for stored in paths:
            stored.storage.delete(stored.name)
        for pdf in letters:
            pdf.unlink(missing_ok=True)
        for upload in imports:
            upload.unlink(missing_ok=True)
        _rewrite_outbox(refs)
        _reprint(again)

    transaction.on_commit(remove_files)
    Anonymisation.objects.bulk_create(
        Anonymisation(child_id=child.pk, left_on=on) for child, on in found
    )
    log_access(
        request=None,
        user=None,
        action=AccessAction.ANONYMISE,
        detail=f"匿名化离校满 {years} 年的儿童 {len(found)} 名，"
        f"删除照片 {len(paths)} 张（guanai anonymise）；"
        f"家长信 PDF 删除 {len(letters)} 份、重新生成 {len(again)} 份，"
        f"花名册和退回行文件删除 {len(imports)} 个，发件箱删除 {report.outbox} 行；"
        f"此前的备份 {report.backups} 份仍含这些儿童，保留期满后删除",
    )
