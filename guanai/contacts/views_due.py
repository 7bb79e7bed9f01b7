"""The due page (应联系/已逾期, /contacts/due/): counts per class or school at the top, one row per
child (its rules inside, most overdue child first), 50 per page, and the Excel export of the
whole list. The database counts, orders and pages (`contacts.due.DueList`): a page builds the
items of its 50 children only, whatever the size of the town."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from guanai.accounts.models import User
from guanai.exports import xlsx_download
from guanai.lib.grades import GRADE_NAMES
from guanai.lib.htmx import is_partial
from guanai.org.models import School

from . import access
from .due import DueList
from .models import PlannedVisit
from .rules import DEFAULT_RULES, RULE_CODES, DueItem
from .services import own_children_filter, week_of
from .views import _parse_date, _rule_codes, _scope

PAGE_SIZE = 50
SHORT_LIST = 300  # a list this short can be handed to the message page


def _filter_children(request: HttpRequest):
    g = request.GET
    qs = _scope(request)
    if g.get("school"):
        qs = qs.filter(school__code=g["school"])
    if g.get("grade", "").isdigit():
        qs = qs.filter(school_class__grade=int(g["grade"]))
    if g.get("class_no", "").isdigit():
        qs = qs.filter(school_class__class_no=int(g["class_no"]))
    if g.get("mine") == "1":
        qs = qs.filter(own_children_filter(request.user))
    return qs


class DueRow:
    """A child on the due page with the rules it is due under (first: the most overdue)."""

    def __init__(self, first: DueItem) -> None:
        self.child, self.child_name = first.child, first.child_name
        self.school, self.grade, self.class_no = first.school, first.grade, first.class_no
        self.school_name, self.teacher = first.school, None
        self.items: list = []

    @property
    def rules(self) -> set[str]:
        return {i.rule for i in self.items}


class DueChildren:
    """The due children as the paginator sees them: counted and sliced in SQL, one `DueRow`
    per child of the page."""

    def __init__(self, due: DueList | None, count: int) -> None:
        self.due, self.total = due, count

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, item: slice) -> list[DueRow]:
        if self.due is None:
            return []
        start = item.start or 0
        ids = self.due.child_page(start, item.stop - start)
        rows: dict[int, DueRow] = {pk: None for pk in ids}  # type: ignore[misc]
        for i in self.due.items(ids):
            if rows[i.child] is None:
                rows[i.child] = DueRow(i)
            rows[i.child].items.append(i)
        return [row for row in rows.values() if row is not None]


def _summary(due: DueList | None) -> tuple[list[dict], bool, int, int]:
    """The counts at the top (per school when the list spans several, else per class), whether
    they are per school, and the totals (items, children)."""
    lines = due.summary() if due is not None else []
    per_school = len({line[0] for line in lines}) > 1
    summary: dict[tuple, dict] = {}
    for _sid, code, name, _cid, grade, class_no, _children, counts in lines:
        grade, class_no = (None, None) if per_school else (grade, class_no)
        row = summary.setdefault(
            (code, grade, class_no),
            {
                "school": code,
                "school_name": name,
                "grade": grade,
                "class_no": class_no,
                "counts": {},
                "total": 0,
            },
        )
        for rule, n in counts.items():
            row["counts"][rule] = row["counts"].get(rule, 0) + n
            row["total"] += n
    ordered = sorted(
        summary.values(), key=lambda r: (r["school"], r["grade"] or 0, r["class_no"] or 0)
    )
    return ordered, per_school, sum(r["total"] for r in ordered), sum(x[6] for x in lines)


@login_required
def due(request: HttpRequest) -> HttpResponse:
    """Due and overdue: who has not been contacted or visited within the rules, most overdue
    first; per teacher (mine), class, grade or school; counts per class at the top."""
    as_of = _parse_date(request, request.GET.get("on"), timezone.localdate(), label="日期")
    rule = request.GET.get("rule")
    codes = access.due_rule_codes(request.user, [rule] if rule in RULE_CODES else None)
    due_list = (
        None if codes == [] else DueList(_filter_children(request), as_of=as_of, rule_codes=codes)
    )
    if request.GET.get("export") == "xlsx" and request.user.can_export:
        return _export_due(request, due_list.items() if due_list else [], as_of)
    g = request.GET
    number = g.get("page", "")
    start = (int(number) - 1) * PAGE_SIZE if number.isdigit() and int(number) > 0 else 0
    if due_list is not None and not rule and g.get("mine") != "1":
        from guanai.stats.covstore import use_due_counts

        # the counts per class kept for the statistics: the list is only ordered and cut
        use_due_counts(
            due_list,
            request.user,
            codes,
            page_end=start + PAGE_SIZE,
            school=g.get("school") or None,
            grade=int(g["grade"]) if g.get("grade", "").isdigit() else None,
            class_no=int(g["class_no"]) if g.get("class_no", "").isdigit() else None,
        )
    if due_list is not None:
        # the counts, the page asked for and a short list's ids from one pass over the list
        due_list.prepare_page(start, PAGE_SIZE, ids_up_to=SHORT_LIST)
    summary, per_school, count, children_count = _summary(due_list)
    page = Paginator(DueChildren(due_list, children_count), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    _name_rows(page, {r["school"]: r["school_name"] for r in summary})
    query = request.GET.copy()
    query.pop("page", None)
    planned = set(
        PlannedVisit.objects.filter(user=request.user, week=week_of(as_of)).values_list(
            "child_id", flat=True
        )
    )
    short = due_list is not None and 0 < children_count <= SHORT_LIST
    ctx = {
        "page": page,
        "count": count,
        "children_count": children_count,
        "summary": summary,
        "per_school": per_school,
        "rules": [r for r in DEFAULT_RULES if r.code in _rule_codes(request)],
        "rule_names": {r.code: r.name for r in DEFAULT_RULES},
        "schools": _schools(request),
        "grades": sorted(GRADE_NAMES.items()),
        "f": request.GET,
        "as_of": as_of,
        "query": query.urlencode(),
        "planned": planned,
        # a short list can be handed to the message page (a long one is chosen there by unit)
        "child_ids": ",".join(str(c) for c in sorted(due_list.child_ids())) if short else "",
    }
    template = "contacts/_due_table.html" if is_partial(request) else "contacts/due.html"
    return render(request, template, ctx)


def _name_rows(page, school_names: dict[str, str]) -> None:
    """The page's responsible teachers, proxy parents and school names (the items carry the
    cards' teachers: one query names them all)."""
    teachers = {r.child: r.items[0].responsible_teacher_id for r in page}
    proxies = {i.proxy_user_id for r in page for i in r.items if i.proxy_user_id}
    names = _user_names({t for t in teachers.values() if t} | proxies)
    for row in page:
        row.teacher = names.get(teachers[row.child], "")
        row.school_name = school_names.get(row.school, row.school)
        for item in row.items:
            if item.proxy_user_id:
                item.teacher = f"代理家长 {names.get(item.proxy_user_id, '')}"


def _user_names(ids: set[int]) -> dict[int, str]:
    return {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}


def _schools(request: HttpRequest):
    """The schools of the children in scope (the school filter): one probe per school, not a
    pass over the town's cards."""
    children = _scope(request).filter(school_id=OuterRef("pk"))
    return School.objects.filter(Exists(children)).order_by("id")


def _export_due(request: HttpRequest, items: list, as_of: dt.date) -> HttpResponse:
    proxies = _user_names({i.proxy_user_id for i in items if i.proxy_user_id})
    return xlsx_download(
        request,
        filename=f"due-{as_of:%Y%m%d}.xlsx",
        what=f"待联系名单（{as_of:%Y-%m-%d}）",
        header=["学校", "年级", "班级", "姓名", "规则", "代理家长", "上次联系", "逾期天数"],
        rows=(
            [
                i.school,
                i.grade,
                i.class_no,
                i.child_name,
                i.rule_name,
                proxies.get(i.proxy_user_id, ""),
                f"{i.last_at:%Y-%m-%d}" if i.last_at else "从未",
                i.days_overdue,
            ]
            for i in items
        ),
    )
