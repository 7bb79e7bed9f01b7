"""The term work report (工作总结) of a school or a town, drafted from the data.

`term_numbers` counts; `write_docx` writes them in the seed's own structure (宣传、摸底排查、
规范管理、结对帮扶、家校联系、活动、督导、下一步), the prose around each number written here
and every number taken from `term_numbers` — the command line (`guanai term-report`) and the
report page share both.

The dates: the term's first day (lib.dates.term_bounds) to its last, or to today while the term
runs (the report's "截至" date). Category and card counts are those of `stats.services.summary`
as of that date, so the report and the dashboard agree on the same day.
"""

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

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
from guanai.screening.services import campaign_progress, round_progress

from . import services

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
    # Activities and inspections have no records in this version of the system.
    out["activities"] = 0
    out["inspections"] = 0
    return out


# --- the document ------------------------------------------------------------------------------


def pct(done: int, total: int) -> str:
    return f"{done * 100 / total:.1f}%" if total else "—"


def sections(n: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The report's sections: (heading, paragraphs), every number from `n`."""
    cats, names = n["by_category"], services.CATEGORY_NAMES
    letters, scr, ver = n["letters"], n["screening"], n["verification"]
    pairing, contacts, visits = n["pairing"], n["contacts"], n["visits"]
    out: list[tuple[str, list[str]]] = []

    if letters["sent"]:
        text = (
            f"本学期共印发《致家长的一封信》{letters['batches']} 批、{letters['sent']} 份，"
            f"涉及学生 {letters['children']} 人；收回签字回执 {letters['returned']} 份，"
            f"回执收回率 {pct(letters['returned'], letters['sent'])}。"
        )
    else:
        text = "本学期系统中没有印发《致家长的一封信》的记录。"
    out.append(("一、着力宣传，营造氛围", [text]))

    para = []
    if scr["campaigns"]:
        para.append(
            f"开学初开展摸底排查，应排查学生 {scr['students']} 人，已排查 {scr['screened']} 人，"
            f"完成率 {pct(scr['screened'], scr['students'])}。"
            + "排查认定："
            + "，".join(f"{names[c]} {scr['found'][c]} 人" for c in services.CATEGORIES)
            + "。"
        )
    else:
        para.append("本学期系统中没有摸底排查的记录。")
    if scr["schools_without"] and scr["campaigns"]:
        para.append("尚未开展本学期摸底排查的学校：" + "、".join(scr["schools_without"]) + "。")
    para.append(
        f"截至 {n['until']:%Y年%m月%d日}，在读学生 {n['children']} 人，其中单留守 "
        f"{cats['single']} 人、双留守 {cats['double']} 人，合计留守儿童 {n['left_behind']} 人"
        f"（学籍口径，占 {pct(n['left_behind'], n['children'])}）；随迁子女 {cats['migrant']} 人，"
        f"非留守 {cats['none']} 人，尚未摸排 {cats['unknown']} 人。"
        f"按民政口径（未满16周岁、农村户口，父母均外出务工或一方外出另一方无监护能力）统计，"
        f"农村留守儿童 {n['civil_affairs']} 人。"
    )
    out.append(("二、深入调研，夯实基础", para))

    para = [
        (
            f"按“一人一卡”建立档卡 {n['children']} 张，其中信息完整 {n['complete']} 张，"
            f"尚不完整 {n['incomplete']} 张（缺身份证号或学籍号、出生日期、村、父母状况，"
            f"或留守儿童缺监护人及电话）。"
        )
    ]
    if ver["rounds"]:
        para.append(
            f"放假前逐年级、逐人核实档卡，开展核实 {ver['rounds']} 轮，应核实 {ver['cards']} 张，"
            f"已核实 {ver['verified']} 张，完成率 {pct(ver['verified'], ver['cards'])}。"
        )
    else:
        para.append("本学期系统中没有假期前核实的记录。")
    out.append(("三、规范管理，注重细节", para))

    out.append(
        (
            "四、结对帮扶，关爱儿童",
            [
                (
                    f"按“就近就地、年龄相仿”原则结对，截至 {n['until']:%Y年%m月%d日}在帮结对 "
                    f"{pairing['pairs']} 对，本学期新结对 {pairing['new']} 对。应结对的留守儿童和"
                    f"随迁子女 {pairing['to_pair']} 人，已结对 {pairing['paired']} 人，"
                    f"结对率 {pct(pairing['paired'], pairing['to_pair'])}。"
                ),
                f"在册代理家长 {pairing['proxy_parents']} 人；有代理家长的儿童 {pairing['proxy_children']} 人。",
            ],
        )
    )

    kinds = "，".join(
        f"{contacts['kind_names'][k]} {v} 次" for k, v in contacts["by_kind"].items() if v
    )
    para = [
        (
            f"本学期记录家校联系 {contacts['total']} 次（{kinds}），涉及学生 {contacts['children']} 人；"
            if contacts["total"]
            else "本学期系统中没有家校联系记录；"
        )
        + f"通过校信通等渠道向家长发送消息 {contacts['messages']} 条。",
        (
            f"普访：本学期已家访学生 {visits['visited']} 人，占在读学生 {visits['students']} 人的 "
            f"{pct(visits['visited'], visits['students'])}；其中留守儿童已家访 "
            f"{visits['left_behind_visited']} 人，占留守儿童 {visits['left_behind']} 人的 "
            f"{pct(visits['left_behind_visited'], visits['left_behind'])}。"
        ),
    ]
    out.append(("五、家校联系，及时沟通", para))
    out.append(("六、依托载体，丰富活动", ["本学期系统中没有记录活动。"]))
    out.append(("七、强化监督，抓好落实", ["本学期系统中没有督导检查记录。"]))

    todo = []
    if cats["unknown"]:
        todo.append(f"完成 {cats['unknown']} 名学生的父母状况摸排")
    if n["incomplete"]:
        todo.append(f"补全 {n['incomplete']} 张不完整的档卡")
    if pairing["to_pair"] > pairing["paired"]:
        todo.append(f"为尚未结对的 {pairing['to_pair'] - pairing['paired']} 名儿童落实结对帮扶")
    if visits["left_behind"] > visits["left_behind_visited"]:
        todo.append(
            f"对尚未家访的 {visits['left_behind'] - visits['left_behind_visited']} 名留守儿童完成普访"
        )
    if letters["sent"] > letters["returned"]:
        todo.append(f"催收 {letters['sent'] - letters['returned']} 份家长信回执")
    para = [
        "下一步，" + ("；".join(f"{i}. {t}" for i, t in enumerate(todo, 1)) + "。")
        if todo
        else "下一步，继续做好留守儿童的动态管理，保持档卡完整、结对和家访全覆盖。"
    ]
    para.append("同时总结经验，建立关爱留守儿童的长效工作机制，将爱心延续。")
    out.append(("八、创新思路，延伸爱心", para))
    return out


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
