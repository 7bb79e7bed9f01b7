"""统计 pages: the term work report (工作总结) of a school or the town — the draft, its .docx,
and the page where leaders edit its prose around the numbers."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from guanai.accounts import scope
from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.lib.errors import Invalid
from guanai.org.models import School

from . import prose
from .report import (
    ReportScope,
    recent_terms,
    reset_texts,
    save_texts,
    sections,
    term_numbers,
    title,
    write_docx,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- the term work report (工作总结) ------------------------------------------------------------


def _report_scope(request: HttpRequest) -> tuple[ReportScope | None, list, list]:
    """The unit the report is for: ?school=CODE or ?town=ID among the units the user manages
    (school-wide work: town administrators, school leaders), 404 outside them; None until
    one is chosen (chosen for the user when there is only one)."""
    user, g = request.user, request.GET
    schools = list(scope.schools(user, "manage").order_by("-is_central", "code"))
    towns = list(scope.towns(user, "manage").order_by("name"))
    if not schools and not towns:
        raise PermissionDenied("工作总结由镇管理员和校领导生成")
    code, town_id = (g.get("school") or "").strip(), (g.get("town") or "").strip()
    kind, _, value = (g.get("unit") or "").partition(":")  # the page's one chooser
    if kind == "school":
        code, town_id = value.strip(), ""
    elif kind == "town":
        code, town_id = "", value.strip()
    if not code and not town_id:
        if towns and len(towns) == 1:
            town_id = str(towns[0].pk)
        elif not towns and len(schools) == 1:
            code = schools[0].code
    if code:
        school = next((s for s in schools if s.code == code), None)
        if school is None:
            raise Http404("没有这所学校")
        return ReportScope(name=school.name, schools=[school]), schools, towns
    if town_id:
        town = next((t for t in towns if str(t.pk) == town_id), None)
        if town is None:
            raise Http404("没有这个镇")
        in_town = list(School.objects.filter(town=town).order_by("-is_central", "code"))
        unit = ReportScope(name=town.name, schools=in_town, town=True, extra={"town": town.pk})
        return unit, schools, towns
    return None, schools, towns


def _report_params(unit: ReportScope | None) -> dict[str, Any]:
    if unit is None:
        return {}
    return {"town": unit.extra["town"]} if unit.town else {"school": unit.schools[0].code}


@login_required
def term_report(request: HttpRequest) -> HttpResponse:
    """The term work report of a school or the town: the draft on the page, every number from
    the data, and its .docx (?download=docx)."""
    unit, schools, towns = _report_scope(request)
    terms = recent_terms()
    term = request.GET.get("term") or terms[0][0]
    if term not in {t for t, _ in terms}:
        raise Http404("只能生成最近几个学期的工作总结")
    numbers = term_numbers(unit, term, user=request.user) if unit else None
    if numbers and request.GET.get("download") == "docx":
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.EXPORT,
            school=unit.schools[0] if not unit.town and unit.schools else None,
            detail=f"下载工作总结：{title(numbers)}",
        )
        response = HttpResponse(write_docx(numbers, by=str(request.user)), content_type=DOCX)
        response["Content-Disposition"] = f'attachment; filename="term-report-{term}.docx"'
        return response
    return render(
        request,
        "stats/term_report.html",
        {
            "unit": unit,
            "schools": schools,
            "towns": towns,
            "terms": terms,
            "term": term,
            "numbers": numbers,
            "title": title(numbers) if numbers else "",
            "sections": sections(numbers) if numbers else [],
            "edited": set(numbers["texts"]) if numbers else set(),
            "query": urlencode({**_report_params(unit), "term": term}),
        },
    )


def _report_term(value: str | None) -> str:
    terms = recent_terms()
    term = (value or "").strip() or terms[0][0]
    if term not in {t for t, _ in terms}:
        raise Http404("只能编辑最近几个学期的工作总结")
    return term


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest) -> HttpResponse:
    """The report's prose, section by section, for the leaders who draft it (school leaders;
    the town for the town's report): the numbers stand as marks (【已排查】) filled from the
    data and are not typed; 恢复生成的文字 resets a section (or all)."""
    if request.method == "POST" and request.user.is_read_only:
        raise PermissionDenied("只读角色不能修改工作总结")
    unit, _schools, _towns = _report_scope(request)
    if unit is None:
        return redirect("stats:term_report")
    term = _report_term(request.POST.get("term") or request.GET.get("term"))
    back = reverse("stats:term_report") + "?" + urlencode({**_report_params(unit), "term": term})
    errors: dict[str, str] = {}
    posted: dict[int, str] = {}
    if request.method == "POST":
        reset = request.POST.get("reset", "")
        if reset:
            wanted = None if reset == "all" else [int(reset)] if reset.isdigit() else []
            n = reset_texts(scope=unit, term=term, sections=wanted)
            messages.success(request, "已恢复生成的文字" if n else "这一部分本来就是生成的文字")
            return redirect(request.get_full_path())
        posted = {
            i: request.POST.get(f"section_{i}", "") for i in range(1, len(prose.HEADINGS) + 1)
        }
        try:
            changed = save_texts(scope=unit, term=term, texts=posted, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(
                request, f"已保存 {len(changed)} 部分的文字" if changed else "没有改动"
            )
            return redirect(back)
    numbers = term_numbers(unit, term, user=request.user)
    marks = prose.values(numbers)
    saved = numbers["texts"]
    rows = []
    for i, (heading, text) in enumerate(
        zip(prose.HEADINGS, prose.generated(numbers), strict=True), start=1
    ):
        current = posted.get(i, saved.get(i) or text)
        used = dict.fromkeys(prose.MARK.findall(current))
        rows.append(
            {
                "no": i,
                "heading": heading,
                "text": current,
                "edited": i in saved,
                "error": errors.get(f"section_{i}", ""),
                "marks": [(m, marks.get(m, "")) for m in used],
            }
        )
    return render(
        request,
        "stats/report_edit.html",
        {
            "unit": unit,
            "term": term,
            "title": title(numbers),
            "rows": rows,
            "marks": sorted(marks.items()),
            "back": back,
        },
        status=422 if errors else 200,
    )
