"""The term work report (工作总结) of a school or a town, drafted from the data.

`term_numbers` counts; `write_docx` writes them in the seed's own structure (宣传、摸底排查、
规范管理、结对帮扶、家校联系、活动、督导、下一步), the prose around each number generated
(stats/prose.py) or, where a leader rewrote a section for this school or town and term, hers
(`save_texts`), every number taken from `term_numbers` — the command line
(`guanai term-report`), the report page and its .docx share all of it.

The dates: the term's first day (lib.dates.term_bounds) to its last, or to today while the term
runs (the report's "截至" date). Category and card counts are those of `stats.services.summary`
as of that date, so the report and the dashboard agree on the same day.
"""

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from guanai.activities.services import publicity_count
from guanai.children.models import AssignmentKind, Child, ChildAssignment, Enrolment
from guanai.contacts.models import (
    Contact,
    ContactKind,
    LetterBatch,
    LetterChild,
    Recipient,
    RecipientStatus,
)
from guanai.contacts.rules import coverage, local_midnight
from guanai.lib.dates import DateError, parse_term, term_bounds, term_label
from guanai.org.models import School
from guanai.pairing.models import Pair, PairStatus, ProxyParent
from guanai.screening.models import ScreeningCampaign, ScreeningRecord, VerificationRound
from guanai.screening.services import campaign_progress
from guanai.screening.verification import round_progress

from . import prose, services
from .models import ReportText

PAIRED_CATEGORIES = ("single", "double", "migrant")  # SPEC §6.1 `guanai pair`


class ReportError(Exception):
    """A report that cannot be drafted (unknown term, a term not begun); Chinese message."""


@dataclass
class ReportScope:
    """What a report covers: its name (a school's or a town's) and its schools."""

    name: str
    schools: list[School]
    town: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def report_dates(term: str, today: dt.date | None = None) -> tuple[str, dt.date, dt.date]:
    """(term, first day, the report's 截至 date). Raises ReportError for a malformed term or
    one that has not begun."""
    today = today or timezone.localdate()
    try:
        term = parse_term(term)
        start, end = term_bounds(term)
    except DateError as exc:
        raise ReportError(str(exc)) from None
    if start > today:
        raise ReportError(
            f"{term_label(term)}尚未开始（{start:%Y年%m月%d日}开学），没有可总结的数据"
        )
    return term, start, min(end, today)


def term_numbers(scope: ReportScope, term: str, *, user=None) -> dict[str, Any]:
    """Every number of the report. `user`: count only the children the user may see (the
    page); None counts every child of the schools (the command line)."""
    term, start, until = report_dates(term)
    school_ids = [s.pk for s in scope.schools]
    since_at, until_at = local_midnight(start), local_midnight(until + dt.timedelta(days=1))
    out: dict[str, Any] = {
        "name": scope.name,
        "term": term,
        "term_label": term_label(term),
        "since": start,
        "until": until,
        "schools": [s.name for s in scope.schools],
    }

    summary = services.summary(user, as_of=until, school_ids=school_ids)
    rows = services.rows(user, as_of=until, school_ids=school_ids)
    bare = services.rows(user, as_of=until, school_ids=school_ids, bare=True)
    cats = summary["by_category"]
    out["children"] = summary["children"]
    out["by_category"] = cats
    out["left_behind"] = cats["single"] + cats["double"]
    out["civil_affairs"] = summary["civil_affairs"]
    out["missing"] = summary["missing"]
    out["incomplete"] = services.incomplete_count(rows)
    out["complete"] = out["children"] - out["incomplete"]

    # today's cards, for the services that count screening, verification and visits
    live = (Child.objects.all() if user is None else Child.objects.visible_to(user)).filter(
        school_id__in=school_ids, enrolment=Enrolment.ENROLLED
    )

    # 宣传: letters to families printed this term, and their receipt slips returned.
    batches = LetterBatch.objects.filter(
        school_id__in=school_ids, created_at__gte=since_at, created_at__lt=until_at
    )
    letters = batches.aggregate(
        n=Count("letters", distinct=True),
        returned=Count("letters", filter=Q(letters__returned_at__isnull=False), distinct=True),
    )
    # 宣传 items of the term's activities published (news, school wall, 公众号)
    out["publicity"] = publicity_count(user, term=term, school_ids=school_ids)
    out["letters"] = {
        "batches": batches.count(),
        "sent": letters["n"] or 0,
        "returned": letters["returned"] or 0,
        "children": LetterChild.objects.filter(batch__in=batches).count(),
    }

    # 摸底排查: the term's screening of each school.
    campaigns = list(ScreeningCampaign.objects.filter(school_id__in=school_ids, term=term))
    screened = total = 0
    for c in campaigns:
        progress = campaign_progress(c, live)
        screened += progress["done"]
        total += progress["total"]
    found = dict(
        ScreeningRecord.objects.filter(campaign__in=campaigns)
        .values_list("category")
        .annotate(n=Count("id"))
        .order_by()
    )
    out["screening"] = {
        "campaigns": len(campaigns),
        "schools_without": [
            s.name for s in scope.schools if s.pk not in {c.school_id for c in campaigns}
        ],
        "students": total,
        "screened": screened,
        "found": {cat: found.get(cat, 0) for cat in services.CATEGORIES},
    }

    # 核实: the term's verification rounds before vacations.
    rounds = list(VerificationRound.objects.filter(school_id__in=school_ids, term=term))
    verified = to_verify = 0
    for r in rounds:
        progress = round_progress(r, live)
        verified += progress["done"]
        to_verify += progress["total"]
    out["verification"] = {"rounds": len(rounds), "cards": to_verify, "verified": verified}

    # 结对帮扶: pairs in force on the 截至 date, formed this term; proxy parents.
    in_force = Q(status__in=(PairStatus.ACTIVE, PairStatus.ENDED), accepted_at__lt=until_at) & (
        Q(ended_at__isnull=True) | Q(ended_at__gte=until_at)
    )
    pairs = Pair.objects.filter(school_id__in=school_ids)
    to_pair = bare.filter(category__in=PAIRED_CATEGORIES)
    paired = to_pair.filter(Exists(Pair.objects.filter(in_force, child_id=OuterRef("id")))).count()
    proxies_on = ChildAssignment.objects.filter(
        kind=AssignmentKind.PROXY_PARENT, valid_from__lte=until
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=until))
    out["pairing"] = {
        "pairs": pairs.filter(in_force).count(),
        "new": pairs.filter(accepted_at__gte=since_at, accepted_at__lt=until_at).count(),
        "to_pair": to_pair.count(),
        "paired": paired,
        "proxy_parents": ProxyParent.objects.filter(school_id__in=school_ids, active=True).count(),
        "proxy_children": bare.filter(Exists(proxies_on.filter(child_id=OuterRef("id")))).count(),
    }

    # 家校联系: contacts logged this term by kind, messages sent, 普访 coverage.
    contacts = Contact.objects.filter(
        child__school_id__in=school_ids, at__gte=since_at, at__lt=until_at
    )
    if user is not None:
        contacts = contacts.filter(child__in=live.values("pk"))
    kinds = dict(contacts.values_list("kind").annotate(n=Count("id")).order_by())
    out["contacts"] = {
        "total": sum(kinds.values()),
        "by_kind": {k: kinds.get(k, 0) for k in ContactKind.values},
        "kind_names": dict(ContactKind.choices),
        "children": contacts.values("child_id").distinct().count(),
        "messages": Recipient.objects.filter(
            child__in=live.values("pk"),
            status=RecipientStatus.SENT,
            sent_at__gte=since_at,
            sent_at__lt=until_at,
        ).count(),
    }
    everyone = coverage(live, since=start, until=until)
    lb = coverage(live, since=start, until=until, left_behind_only=True)
    out["visits"] = {
        "students": sum(s.total for s in everyone),
        "visited": sum(s.visited for s in everyone),
        "left_behind": sum(s.total for s in lb),
        "left_behind_visited": sum(s.visited for s in lb),
    }
    # Activities and inspections have no records in this version of the system (their
    # features fill these in: prose.values reads them).
    out["activities"] = 0
    out["inspections"] = 0
    out["texts"] = saved_texts(scope, term)
    return out


# --- the document ------------------------------------------------------------------------------


def pct(done: int, total: int) -> str:
    return prose.pct(done, total)


def sections(n: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The report's sections: (heading, paragraphs), each the leader's text when one was saved
    for the report (`n["texts"]`), else the generated one, its marks filled from `n`."""
    marks = prose.values(n)
    texts = n.get("texts") or {}
    return [
        (heading, prose.render(texts.get(i) or text, marks))
        for i, (heading, text) in enumerate(
            zip(prose.HEADINGS, prose.generated(n), strict=True), start=1
        )
    ]


# --- the leaders' own text ---------------------------------------------------------------------


def _owner(scope: ReportScope) -> dict[str, Any]:
    if scope.town:
        return {"town_id": scope.extra["town"], "school": None}
    return {"school": scope.schools[0], "town": None}


def saved_texts(scope: ReportScope, term: str) -> dict[int, str]:
    """{section: text} the leaders saved for this report (school or town, and term)."""
    rows = ReportText.objects.filter(term=term, **_owner(scope))
    return dict(rows.values_list("section", "text"))


@transaction.atomic
def save_texts(*, scope: ReportScope, term: str, texts: dict[int, str], by) -> list[int]:
    """Store a leader's texts of the report's sections (the marks checked against the
    report's numbers, `prose.check`: raises Invalid naming each bad section). A text equal to
    the generated one is not stored (the section keeps following the data). Returns the
    sections whose stored text changed."""
    n = term_numbers(scope, term)
    texts = prose.check(texts, prose.values(n))
    generated = dict(enumerate(prose.generated(n), start=1))
    saved = saved_texts(scope, term)
    changed = []
    for section, text in texts.items():
        if not 1 <= section <= len(prose.HEADINGS):
            continue
        if text == generated[section]:
            if section in saved:
                reset_texts(scope=scope, term=term, sections=[section])
                changed.append(section)
            continue
        if saved.get(section) == text:
            continue
        ReportText.objects.update_or_create(
            term=term, section=section, **_owner(scope), defaults={"text": text, "updated_by": by}
        )
        changed.append(section)
    return changed


@transaction.atomic
def reset_texts(*, scope: ReportScope, term: str, sections: list[int] | None = None) -> int:
    """Back to the generated text: the given sections (None: all). Returns how many were
    reset."""
    rows = ReportText.objects.filter(term=term, **_owner(scope))
    if sections is not None:
        rows = rows.filter(section__in=sections)
    return rows.delete()[0]


def title(n: dict[str, Any]) -> str:
    return f"{n['name']}{n['term_label']}关爱留守儿童工作总结"


def write_docx(n: dict[str, Any], *, by: str = "命令行") -> bytes:
    """The report as a .docx: title, the date it counts to, the sections, and a table of the
    counts by category per school."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading(title(n), level=1)
    doc.add_paragraph(
        f"统计范围：{'、'.join(n['schools'])}；统计期间：{n['since']:%Y年%m月%d日}至"
        f"{n['until']:%Y年%m月%d日}。数字均由系统根据档卡和工作记录生成"
        f"（{by}，{timezone.localtime():%Y-%m-%d %H:%M}）。"
    )
    for heading, paragraphs in sections(n):
        doc.add_heading(heading, level=2)
        for text in paragraphs:
            doc.add_paragraph(text)
    doc.add_heading("附表：在读学生分类统计", level=2)
    header = [
        "类别",
        *[services.CATEGORY_NAMES[c] for c in services.CATEGORIES],
        "民政口径",
        "合计",
    ]
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    cats = n["by_category"]
    values = [
        "人数",
        *[str(cats[c]) for c in services.CATEGORIES],
        str(n["civil_affairs"]),
        str(n["children"]),
    ]
    for cell, text in zip(table.add_row().cells, values, strict=True):
        cell.text = text
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def recent_terms(today: dt.date | None = None, count: int = 4) -> list[tuple[str, str]]:
    """This term and the ones before it, newest first: (code, label)."""
    from guanai.lib.dates import current_term

    today = today or timezone.localdate()
    out = []
    day = today
    for _ in range(count):
        term = current_term(day)
        out.append((term, term_label(term)))
        day = term_bounds(term)[0] - dt.timedelta(days=1)
    return out
