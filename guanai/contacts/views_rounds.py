"""普访 pages: coverage of a visiting round (or a date range) per school and class with the
children not yet visited, and the list of rounds where town administrators and school leaders
create them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from guanai.children.validation import CardInvalid
from guanai.exports import xlsx_download
from guanai.org.models import School

from .forms import VisitRoundEditForm, VisitRoundForm
from .rounds import (
    create_round,
    default_round,
    may_change_round,
    not_visited_rows,
    overlapping,
    percent,
    round_children,
    round_to_change,
    round_totals,
    round_units,
    rounds_visible_to,
    update_round,
)
from .rules import coverage, term_start
from .views import _parse_date, _scope, _show_errors


@login_required
def coverage_page(request: HttpRequest) -> HttpResponse:
    """普访 coverage: the share of children visited at home in a round (by default the round
    covering today, else the latest) or a custom date range, per school and class, with the
    names of those not yet visited (and their Excel export)."""
    g = request.GET
    rounds = list(rounds_visible_to(request.user))
    chosen, since, until, left_behind_only, children, query = _coverage_period(request, rounds)
    schools = list(School.objects.filter(pk__in=children.values("school_id")).order_by("id"))
    code = g.get("school") or (schools[0].code if len(schools) == 1 else "")
    if code:
        children = children.filter(school__code=code)
    if g.get("grade", "").isdigit():
        children = children.filter(school_class__grade=int(g["grade"]))
    result = coverage(children, since=since, until=until, left_behind_only=left_behind_only)
    if g.get("export") == "xlsx":
        return xlsx_download(
            request,
            filename=f"not-visited-{since:%Y%m%d}-{until:%Y%m%d}.xlsx",
            what=f"尚未家访名单（{chosen.name if chosen else f'{since} 至 {until}'}）",
            header=["学校", "年级", "班级", "姓名"],
            rows=not_visited_rows(result),
        )
    total = sum(s.total for s in result)
    visited = sum(s.visited for s in result)
    return render(
        request,
        "contacts/coverage.html",
        {
            "result": result,
            "rounds": rounds,
            "chosen": chosen,
            "query": query,
            "since": since,
            "until": until,
            "left_behind_only": left_behind_only,
            "school_code": code,
            "schools": schools,
            "total": total,
            "visited": visited,
            "percent": percent(visited, total),
            "f": g,
        },
    )


def _coverage_period(request: HttpRequest, rounds: list) -> tuple:
    """(round or None, since, until, left-behind only, children, query string) of the
    coverage page: the round asked for (404 when not the user's), a custom date range, or by
    default the round covering today, else the latest."""
    g, today = request.GET, timezone.localdate()
    chosen = None
    if g.get("round", "").isdigit():
        chosen = next((r for r in rounds if r.pk == int(g["round"])), None)
        if chosen is None:
            raise Http404("没有这个普访轮次")
    elif g.get("round") != "custom" and "since" not in g and "until" not in g:
        chosen = default_round(rounds, today)
    if chosen:
        children = round_children(chosen, request.user)
        period = (chosen.since, chosen.until, chosen.left_behind_only)
        return chosen, *period, children, f"round={chosen.pk}"
    since = _parse_date(request, g.get("since"), term_start(today), label="开始日期")
    until = _parse_date(request, g.get("until"), today, label="结束日期")
    if until < since:
        since, until = until, since
    left_behind_only = g.get("left_behind") == "1"
    query = f"round=custom&since={since}&until={until}"
    if left_behind_only:
        query += "&left_behind=1"
    return None, since, until, left_behind_only, _scope(request), query


@login_required
@require_http_methods(["GET", "POST"])
def rounds_page(request: HttpRequest) -> HttpResponse:
    """普访轮次: the rounds of the user's town and schools with their coverage so far; town
    administrators create rounds for the town, school leaders for their school."""
    towns, schools = round_units(request.user)
    form = VisitRoundForm(request.POST or None, towns=towns, schools=schools)
    if request.method == "POST":
        if not (towns or schools):
            raise PermissionDenied("只有镇管理员和校领导可以创建普访轮次")
        if form.is_valid():
            try:
                new = create_round(by=request.user, **form.round_values())
            except CardInvalid as exc:
                _show_errors(form, exc)
            else:
                note = "、".join(f"“{r.name}”" for r in overlapping(new, request.user))
                note = f"（与{note}日期重叠：允许，各自分别统计）" if note else ""
                messages.success(request, f"已创建普访轮次“{new.name}”{note}")
                return redirect(f"{reverse('contacts:coverage')}?round={new.pk}")
    page = Paginator(rounds_visible_to(request.user), 20).get_page(request.GET.get("page"))
    totals = round_totals(list(page), request.user)
    for r in page:
        r.visited, r.total = totals[r.pk]
        r.percent = percent(r.visited, r.total)
        r.can_change = may_change_round(r, (towns, schools))
    return render(
        request,
        "contacts/rounds.html",
        {"page": page, "form": form, "can_create": bool(towns or schools)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a round's name, dates and notes (who may create it for its town or school may);
    the earlier version stays in the round's history."""
    visit_round = round_to_change(request.user, pk)
    form = VisitRoundEditForm(request.POST or None, visit_round=visit_round)
    if request.method == "POST" and form.is_valid():
        try:
            saved, changed = update_round(
                visit_round=visit_round, by=request.user, **form.round_values()
            )
        except CardInvalid as exc:
            _show_errors(form, exc)
        else:
            note = "已保存修改" if changed else "没有改动"
            messages.success(request, f"普访轮次“{saved.name}”{note}")
            return redirect(f"{reverse('contacts:coverage')}?round={saved.pk}")
    return render(request, "contacts/round_edit.html", {"form": form, "round": visit_round})
