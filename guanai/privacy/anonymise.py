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
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
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

# Photos: the rows and their files go.
PHOTOS: tuple[tuple[str, str], ...] = (
    ("contacts.ContactPhoto", "contact__child_id"),
    ("activities.ActivityPhoto", "child_id"),
)


@dataclass
class Report:
    children: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # "儿童档卡" → rows changed
    files: int = 0
    dry_run: bool = False
    cutoff: dt.date | None = None


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
    return report


def _letter_pdfs(ids: list[int]) -> list:
    """The printed PDFs of letter batches naming only children who are gone from the record
    (this run's or anonymised before): they go, and the batch is marked not printed. A batch
    that still names someone else keeps its PDF (docs/privacy.md)."""
    from pathlib import Path

    from guanai.contacts.letters_pdf import letters_dir
    from guanai.contacts.models import LetterBatch, LetterChild

    gone = set(ids) | set(Anonymisation.objects.values_list("child_id", flat=True))
    batches = LetterBatch.objects.filter(
        pk__in=LetterChild.objects.filter(child_id__in=ids).values("batch_id")
    ).exclude(pdf="")
    found = []
    for batch in batches:
        named = set(LetterChild.objects.filter(batch=batch).values_list("child_id", flat=True))
        if named <= gone:
            found.append(letters_dir() / Path(batch.pdf).name)
            LetterBatch.objects.filter(pk=batch.pk).update(pdf="")
    return found


def _run(years: int, report: Report) -> None:
    from guanai.accounts.services import log_access

    found = candidates(years=years)
    report.children = len(found)
    ids = [child.pk for child, _ in found]
    if not ids:
        return
    for spec in CLEAN:
        model = apps.get_model(spec.model)
        label = str(model._meta.verbose_name)
        cond = Q(**{f"{spec.child}__in": ids})
        if spec.also:
            cond |= Q(**{f"{spec.also}__in": ids})
        report.rows[label] = model._base_manager.filter(cond).update(**spec.values)
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
    paths: list = []
    for label_model, path in PHOTOS:
        model = apps.get_model(label_model)
        rows = list(model._base_manager.filter(**{f"{path}__in": ids}))
        paths += [row.file for row in rows if row.file]
        report.rows[str(model._meta.verbose_name)] = len(rows)
        model._base_manager.filter(pk__in=[r.pk for r in rows]).delete()
    letters = _letter_pdfs(ids)
    report.rows["家长信 PDF"] = len(letters)
    report.files = len(paths) + len(letters)

    def remove_files() -> None:
        for stored in paths:
            stored.storage.delete(stored.name)
        for pdf in letters:
            pdf.unlink(missing_ok=True)

    transaction.on_commit(remove_files)
    Anonymisation.objects.bulk_create(
        Anonymisation(child_id=child.pk, left_on=on) for child, on in found
    )
    log_access(
        request=None,
        user=None,
        action=AccessAction.ANONYMISE,
        detail=f"匿名化离校满 {years} 年的儿童 {len(found)} 名，"
        f"删除照片 {len(paths)} 张（guanai anonymise）",
    )
