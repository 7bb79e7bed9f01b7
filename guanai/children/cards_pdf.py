"""Printable cards (一人一卡): one A4 page per child, a class or a whole school at a time, as PDF with
the CJK font embedded. The card shows what its printer may read: the full ID number only to those
who read it in full, by role or under a live grant for that child, health and psychology only to
their readers or under a grant (children.access), never to anyone else. Every print is logged,
and a grant's use with the grant's reference (依申请查看 / 紧急查看), as on the card page.

A class prints in the request. A whole school is a background job (`build_school_cards`):
WeasyPrint holds a whole document in memory (≈ 0.3 s and several MB a page), so the school is
rendered one class at a time into temporary files, joined with pypdf, and kept encrypted in the
data folder for CARDS_KEEP_HOURS for its owner to download (SPEC §5: never more than one
class's document in memory)."""

import datetime as dt
import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.lib import crypto
from guanai.lib.masking import mask_id_beside_birth_date

from .access import (
    FULL,
    HEALTH_FIELDS,
    PSYCH_FIELDS,
    SECTION_WORDS,
    card_access,
    hidden_sections,
    id_grant,
)
from .models import Child

SCHOOL_CARDS_KIND = "school_cards"
CARDS_KEEP_HOURS = 24  # a school's PDF holds every card: deleted a day after it was made
PRINT_WHERE = "打印档卡"


def _page(child: Child, user) -> dict:
    hidden = hidden_sections(user, child)
    if card_access(user, child) == FULL and child.id_number_enc:
        id_number = child.id_number
    else:
        id_number = mask_id_beside_birth_date(child.id_number_masked or "")
    return {
        "child": child,
        "id_number": id_number,
        "father": child.parent("father"),
        "mother": child.parent("mother"),
        "guardian": getattr(child, "guardian", None),
        "shows_health": not hidden & HEALTH_FIELDS,
        "shows_psych": not hidden & PSYCH_FIELDS,
    }


def printable(children: QuerySet) -> QuerySet:
    """Enrolled children of `children` with what a card prints, by name within a class."""
    return (
        children.filter(enrolment="enrolled")
        .select_related("school", "school_class", "guardian", "responsible_teacher")
        .prefetch_related("parents")
        .order_by("name", "pk")
    )


def school_classes(children: QuerySet, school) -> list[tuple[int | None, int]]:
    """The classes of a school that have enrolled children in `children` (already in the
    printer's scope), in order (grade, class number), with how many: one query, no cards."""
    rows = (
        children.filter(school=school, enrolment="enrolled")
        .order_by("school_class__grade", "school_class__class_no", "school_class_id")
        .values_list("school_class_id", flat=True)
    )
    counts: dict[int | None, int] = {}
    for class_id in rows:
        counts[class_id] = counts.get(class_id, 0) + 1
    return list(counts.items())


def cards_html(children: Iterable[Child], *, user, title: str, first_page: int = 1) -> str:
    """The cards of `children` as one HTML document (a page each), in their order; the footer
    numbers the pages from `first_page` (a class within a whole school's print)."""
    from guanai.lib.pdf import font_url

    return render_to_string(
        "children/cards_pdf.html",
        {
            "pages": [_page(c, user) for c in children],
            "title": title,
            "by": str(user),
            "now": timezone.localtime(),
            "font_url": font_url(),
            "first_page": first_page,
        },
    )


def cards_pdf(children: list[Child], *, user, title: str, first_page: int = 1) -> bytes:
    """The cards of `children` (one class, or one child) as one PDF, in their order. Raises
    RuntimeError (in Chinese) when no CJK font is installed."""
    from weasyprint import HTML

    html = cards_html(children, user=user, title=title, first_page=first_page)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def shows_full_ids(user, children: Iterable[Child]) -> bool:
    """Whether any of these printed cards carries a full ID number."""
    return any(card_access(user, c) == FULL and c.id_number_enc for c in children)


def log_grant_uses(user, children: Iterable[Child], *, request=None) -> int:
    """One access-log row per child and grant whose printed card shows something only that
    grant opens (a full ID number, a filled-in health or psychology section), naming the
    grant's reference as the card page does (access.log_id_read / log_sections_read).
    Returns how many rows were written."""
    from guanai.accounts import scope

    role_full = scope.acts_as(user, "full_id")
    written = 0
    for child in children:
        uses: dict[Any, list[str]] = {}
        if not role_full and child.id_number_enc:
            grant = id_grant(user, child)
            if grant is not None:
                uses.setdefault(grant, []).append("完整身份证号")
        by_role = hidden_sections(user, child, for_edit=True)
        if by_role:
            shown = by_role - hidden_sections(user, child)
            for field, word in SECTION_WORDS.items():
                if field in shown and getattr(child, field):
                    uses.setdefault(_section_grant(user, child, field), []).append(word)
        for grant, words in uses.items():
            if grant is None:
                continue
            log_access(
                request=request,
                user=user,
                action=AccessAction.EMERGENCY if grant.emergency else AccessAction.VIEW_GRANTED,
                child=child,
                detail=f"{PRINT_WHERE}查看{'、'.join(words)}（{grant.reference}）",
            )
            written += 1
    return written


def _section_grant(user, child, field: str):
    from guanai.accounts.access_requests import grant_for
    from guanai.accounts.models import AccessKind

    return grant_for(user, child, AccessKind.PSYCH if field in PSYCH_FIELDS else AccessKind.HEALTH)


def print_detail(count: int, title: str, *, full: bool) -> str:
    return f"打印档卡 {count} 张{'（含完整身份证号）' if full else ''}：{title}"


# --- a whole school in the background --------------------------------------------------------


def cards_dir() -> Path:
    path = Path(settings.DATA_DIR) / "cards"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def cards_path(job_id: int) -> Path:
    """A school's cards, encrypted (crypto.encrypt_bytes): they may hold full ID numbers."""
    return cards_dir() / f"cards-{job_id}.bin"


def school_title(school) -> str:
    return f"{school.name} 全校档案卡"


class NothingToPrint(Exception):
    """The school has no enrolled child the printer may see."""


def build_school_cards(
    *, school, user, job_id: int, progress: Callable[[int, int, str], None]
) -> dict[str, Any]:
    """Render a school's cards class by class — one class's HTML and PDF in memory at a time,
    each written to a temporary file — join them with pypdf and keep the PDF encrypted under
    the data folder. Grants used are logged as the classes are printed; the download is logged
    when it happens. Returns the job's result."""
    from pypdf import PdfReader, PdfWriter

    from guanai.accounts import scope

    if not scope.holds(user, "print", town_id=school.town_id, school_id=school.pk):
        raise PermissionError("你已不能打印这所学校的档卡（角色已变更）")
    visible = Child.objects.visible_to(user, action="view")
    classes = school_classes(visible, school)
    if not classes:
        raise NothingToPrint(f"{school.name} 没有在读学生，没有可打印的档卡")
    title = school_title(school)
    total, cards = len(classes), sum(n for _class, n in classes)
    pages, sheets, full, grants = 0, 0, False, 0
    with tempfile.TemporaryDirectory(dir=cards_dir()) as tmp:
        parts = []
        for i, (class_id, _count) in enumerate(classes):
            children = list(printable(visible.filter(school=school, school_class_id=class_id)))
            if not children:  # left the school since the count: nothing to print for it
                continue
            label = str(children[0].school_class or "未分班")
            # The bar moves by cards (classes differ in size); the words name the class.
            progress(
                min(pages, cards), cards, f"正在生成第 {i + 1}/{total} 个班：{label}；已生成档卡"
            )
            part = Path(tmp) / f"{i:04d}.pdf"
            # the school's pages numbered on from the classes before (a card may take two)
            data = cards_pdf(children, user=user, title=title, first_page=sheets + 1)
            sheets += len(PdfReader(io.BytesIO(data)).pages)
            part.write_bytes(data)
            parts.append(part)
            pages += len(children)
            full = full or shows_full_ids(user, children)
            grants += log_grant_uses(user, children)
            del children
        progress(
            pages, max(cards, pages), f"全部 {total} 个班已生成，正在合并为一个 PDF；已生成档卡"
        )
        joined = Path(tmp) / "school.pdf"
        writer = PdfWriter()
        for part in parts:
            writer.append(str(part))
        with open(joined, "wb") as fh:
            writer.write(fh)
        writer.close()
        out = cards_path(job_id)
        tmp_out = out.with_suffix(".part")
        tmp_out.write_bytes(crypto.encrypt_bytes(joined.read_bytes()))
        os.chmod(tmp_out, 0o600)
        os.replace(tmp_out, out)
    progress(pages, pages, f"已生成 {pages} 张档卡（{total} 个班）")
    return {
        "school": school.pk,
        "title": title,
        "pages": pages,
        "classes": total,
        "full_ids": full,
        "grants": grants,
        "link": f"/children/cards/jobs/{job_id}/cards.pdf",
        "link_label": f"下载全校档卡（{pages} 张，PDF）",
    }


def kept_until(finished_at: dt.datetime | None) -> dt.datetime | None:
    return finished_at + dt.timedelta(hours=CARDS_KEEP_HOURS) if finished_at else None


def remove_old_cards() -> int:
    """Delete the school PDFs older than CARDS_KEEP_HOURS (and those of jobs gone or failed).
    Run hourly by the worker. Returns how many files were removed."""
    from guanai.jobs.models import Job, JobStatus

    folder = Path(settings.DATA_DIR) / "cards"
    if not folder.is_dir():
        return 0
    since = timezone.now() - dt.timedelta(hours=CARDS_KEEP_HOURS)
    kept = Job.objects.filter(kind=SCHOOL_CARDS_KIND).filter(
        Q(status=JobStatus.SUCCEEDED, finished_at__gte=since)
        | Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    )
    keep = set(kept.values_list("pk", flat=True))
    removed = 0
    for tmp in folder.glob("tmp*"):  # a worker killed while rendering leaves its parts
        if tmp.is_dir() and time.time() - tmp.stat().st_mtime > CARDS_KEEP_HOURS * 3600:
            shutil.rmtree(tmp, ignore_errors=True)
    for path in folder.glob("cards-*.bin"):
        job_id = path.stem.removeprefix("cards-")
        if not (job_id.isdigit() and int(job_id) in keep):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
