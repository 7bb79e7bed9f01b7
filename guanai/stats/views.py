"""统计 pages: the dashboard (town → school → grade → class → child list); the term report is in
views_report.py.

Every count comes from `services` over `Child.objects.visible_to(user)`; a school, grade or
class outside the user's scope is 404, like every page.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from guanai.accounts import scope
from guanai.exports import xlsx_download
from guanai.lib.dates import query_date_or
from guanai.lib.grades import grade_name
from guanai.org.models import School

from . import coverage, covstore, services, trends
from .services import (
    AGE_BAND_NAMES,
    AGE_BANDS,
    BOARDING,
    BOARDING_NAMES,
    CATEGORIES,
    CATEGORY_NAMES,
    GENDER_NAMES,
    GENDERS,
    GUARDIAN_TYPE_NAMES,
    GUARDIAN_TYPES,
    MISSING_FIELDS,
)


@dataclass
class Table:
    """One table of the dashboard, drawn as a chart above it and exported as it is shown."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)  # cells: value or (value, href)
    chart: dict[str, Any] | None = None
    note: str = ""
    link: str = ""  # the feature's own page

    def plain_rows(self) -> list[list[Any]]:
        return [[c[0] if isinstance(c, tuple) else c for c in row] for row in self.rows]

    def cells(self) -> list[list[tuple[Any, str]]]:
        """Rows as (value, link or '')."""
        return [[c if isinstance(c, tuple) else (c, "") for c in row] for row in self.rows]

    def body(self) -> SafeString:
        """The rows as HTML, as the template's `{{ value }}` would write each cell (escaped,
        localized): a school's page has some 2,500 cells, and the template language's two
        nested loops over them took a third of its time (bench/stats.py)."""
        if not self.rows:
            return format_html(
                '<tr><td colspan="{}" class="text-muted">没有数据</td></tr>', len(self.header)
            )
        lines = []
        for row in self.cells():
            tds = []
            for i, (value, href) in enumerate(row):
                text = conditional_escape(localize(value))
                if href:
                    text = format_html('<a href="{}">{}</a>', href, text)
                tds.append(f'<td class="{"text-end" if i else "text-nowrap"}">{text}</td>')
            lines.append(f"<tr>{''.join(tds)}</tr>")
        return mark_safe("\n".join(lines))  # every part escaped above


@dataclass
class Unit:
    """Where the dashboard stands: the user's scope, a school, a grade or a class."""

    school: School | None = None
    grade: int | None = None
    class_no: int | None = None
    schools: list[School] = field(default_factory=list)

    @property
    def name(self) -> str:
        if self.school is None:
            return "全部学校"
        parts = [self.school.name]
        if self.grade is not None:
            parts.append(grade_name(self.grade))
        if self.class_no is not None:
            parts.append(f"({self.class_no})班")
        return " ".join(parts)

    def params(self, **more: Any) -> dict[str, Any]:
        out = {"school": self.school.code if self.school else None, "grade": self.grade}
        out["class_no"] = self.class_no
        out.update(more)
        return {k: v for k, v in out.items() if v is not None and v != ""}


def _int(value: str | None, low: int, high: int) -> int | None:
    text = (value or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


def unit_of(request: HttpRequest) -> Unit:
    """The unit asked for, inside the user's scope (404 outside it). A user holding no unit
    (a proxy parent follows only his children) has no dashboard: 403."""
    user, g = request.user, request.GET
    schools = list(scope.schools(user, "view").order_by("-is_central", "code"))
    if not schools:
        raise PermissionDenied("统计页面供学校和镇的工作人员使用")
    unit = Unit(schools=schools)
    code = (g.get("school") or "").strip()
    if not code and len(schools) == 1:
        code = schools[0].code
    if not code:
        return unit
    unit.school = next((s for s in schools if s.code == code), None)
    if unit.school is None:
        raise Http404("没有这所学校")
    unit.grade = _int(g.get("grade"), 0, 12)
    if unit.grade is None:
        return unit
    classes = scope.classes(user, "view").filter(school=unit.school, grade=unit.grade)
    unit.class_no = _int(g.get("class_no"), 1, 99)
    if unit.class_no is not None:
        classes = classes.filter(class_no=unit.class_no)
    if not classes.exists():
        raise Http404("没有这个年级或班级")
    return unit


def _list_url(unit: Unit, **filters: Any) -> str:
    return reverse("children:list") + "?" + urlencode(unit.params(**filters))


def _here(unit: Unit, as_of: dt.date, today: dt.date, **more: Any) -> str:
    params = unit.params(**more)
    if as_of != today:
        params["as_of"] = as_of.isoformat()
    return "?" + urlencode(params)


def _category_cells(unit: Unit, counts, link: bool, **where: Any) -> list[Any]:
    cells: list[Any] = []
    for cat in CATEGORIES:
        n = counts.get(cat, 0)
        cells.append((n, _list_url(unit, category=cat, **where)) if link and n else n)
    civil = counts.get("civil", 0)
    cells.append((civil, _list_url(unit, civil=1, **where)) if link and civil else civil)
    return cells


def build_tables(unit: Unit, data: dict[str, Any], *, as_of: dt.date, today: dt.date) -> list:
    """The dashboard's tables (and their charts) from `services.dashboard_counts`."""
    live = as_of == today  # the child list shows today's cards: link to it only then
    tables: list[Table] = []
    cat_header = [CATEGORY_NAMES[c] for c in CATEGORIES] + ["民政口径"]

    # the next level down
    if data["unit_dims"]:
        level = {"s_code": "学校", "grade_": "年级", "class_no_": "班级"}[data["unit_dims"][0]]
        table = Table("units", f"按{level}", [level, "在读", *cat_header])
        order = {s.code: i for i, s in enumerate(unit.schools)}  # the central school first
        keys = sorted(data["units"], key=lambda k: (order.get(k[0], len(order)), k))
        for key in keys:
            counts = data["units"][key]
            if data["unit_dims"][0] == "s_code":
                name, more = key[1], {"school": key[0]}
            elif data["unit_dims"][0] == "grade_":
                name, more = grade_name(key[0]), {"grade": key[0]}
            else:
                name, more = f"{grade_name(unit.grade)}({key[0]})班", {"class_no": key[0]}
            where = more if live else {}
            table.rows.append(
                [
                    (name, _here(unit, as_of, today, **more)),
                    counts["total"],
                    *_category_cells(unit, counts, live, **where),
                ]
            )
        labels = [r[0][0] for r in table.rows]
        table.chart = {
            "kind": "stack",
            "labels": labels,
            "series": [
                {"name": CATEGORY_NAMES[c], "data": [data["units"][k].get(c, 0) for k in keys]}
                for c in CATEGORIES
            ],
        }
        tables.append(table)

    dims = data["dims"]
    total = data["total"]

    def share(n: int, of: int) -> str:
        return f"{n * 100 / of:.1f}%" if of else "—"

    def simple(key: str, title: str, first: str, names: dict, order, counter, note="") -> Table:
        of = sum(counter.values())
        table = Table(key, title, [first, "人数", "占比"], note=note)
        for code in order:
            table.rows.append([names[code], counter.get(code, 0), share(counter.get(code, 0), of)])
        table.rows.append(["合计", of, share(of, of) if of else "—"])
        table.chart = {
            "kind": "bar",
            "labels": [names[c] for c in order],
            "series": [{"name": "人数", "data": [counter.get(c, 0) for c in order]}],
        }
        return table

    cat = simple("category", "按类别", "类别", CATEGORY_NAMES, CATEGORIES, dims["category"])
    cat.rows.insert(
        -1,
        [
            "其中：民政口径农村留守儿童",
            dims["civil"].get("yes", 0),
            share(dims["civil"].get("yes", 0), total),
        ],
    )
    if live:
        for row, code in zip(cat.rows, CATEGORIES, strict=False):
            row[0] = (row[0], _list_url(unit, category=code))
        cat.rows[len(CATEGORIES)][0] = (cat.rows[len(CATEGORIES)][0], _list_url(unit, civil=1))
    cat.chart["kind"] = "pie"
    cat.note = "未摸排：父母状况尚未填写完整。民政口径：不满 16 周岁、农业户口、父母均外出务工或一方外出另一方无监护能力。"
    tables.append(cat)
    tables.append(
        simple(
            "age",
            "按年龄段",
            "年龄段",
            AGE_BAND_NAMES,
            AGE_BANDS,
            dims["band"],
            note=f"周岁，按 {as_of:%Y-%m-%d} 计算；未采集：没有出生日期。民政口径只统计不满 16 周岁的儿童。",
        )
    )
    tables.append(simple("gender", "按性别", "性别", GENDER_NAMES, GENDERS, dims["gender"]))
    tables.append(simple("boarding", "按寄宿", "寄宿", BOARDING_NAMES, BOARDING, dims["boarding"]))
    tables.append(
        simple(
            "guardian",
            "留守儿童的监护人",
            "监护人",
            GUARDIAN_TYPE_NAMES,
            GUARDIAN_TYPES,
            dims["gtype"],
            note="只统计单留守、双留守儿童；按监护人与儿童的关系归类。",
        )
    )
    missing = Table("missing", "未采集的档卡信息", ["信息", "未采集人数", "占在读"])
    for key, label in MISSING_FIELDS.items():
        n = data["missing"][key]
        missing.rows.append([label, n, share(n, total)])
    missing.chart = {
        "kind": "bar",
        "labels": list(MISSING_FIELDS.values()),
        "series": [{"name": "未采集", "data": [data["missing"][k] for k in MISSING_FIELDS]}],
    }
    missing.note = "每项都计数，不隐藏：补全档卡后数字会减少。"
    tables.append(missing)
    return tables


# Up to this many children the coverage panels and trends are drawn with the page; above it
# (a large town or a county) the page comes without them and fetches them right after
# (`?part=coverage`, htmx; without JavaScript a button opens the page with them). At 100,000
# children they are 60–80 ms once the classes' lines are stored (stats/covstore.py), but the
# day's first request before the worker's round counts every class: 1.2–1.7 s (bench/stats.py).
INLINE_LIMIT = 20_000

PANEL_LINKS = {
    "cov_screening": "screening:index",
    "cov_verification": "screening:rounds",
    "cov_visits": "contacts:coverage",
    "cov_due": "contacts:due",
    "cov_pairing": "pairing:list",
    "cov_proxy": "pairing:proxies",
}


def coverage_tables(user, unit: Unit, *, as_of: dt.date, today: dt.date) -> list[Table]:
    """The coverage panels (coverage.panels) as tables: a row per school (town level) or per
    class, a 合计 row, done / total / share and a chart of done and not done above."""
    children = services.rows(
        user,
        bare=True,
        school=unit.school.code if unit.school else None,
        grade=unit.grade,
        class_no=unit.class_no,
    )
    units, panels = coverage.stored_panels(
        user,
        children,
        per_school=unit.school is None,
        school=unit.school.code if unit.school else None,
        grade=unit.grade,
        class_no=unit.class_no,
    )
    level = "学校" if units.per_school else "班级"
    tables = []
    for panel in panels:
        share = bool(panel.total_label)
        header = [level, panel.done_label]
        if share:
            header += [panel.total_label, "比例", "未完成"]
        table = Table(panel.key, panel.title, header, note=panel.note)
        table.link = reverse(PANEL_LINKS[panel.key]) if panel.key in PANEL_LINKS else ""
        keys = [k for k in units.order if k in panel.lines or share]
        for key in keys:
            line = panel.lines.get(key) or coverage.Line(key)
            name = (units.names.get(key, ""), _here(Unit(), as_of, today, **units.params[key]))
            row = [name, line.done]
            if share:
                row += [line.total, pct(line.done, line.total), line.missing]
            table.rows.append(row)
        total = ["合计", panel.done]
        if share:
            total += [panel.total, pct(panel.done, panel.total), panel.total - panel.done]
        table.rows.append(total)
        series = [{"name": panel.done_label, "data": [r[1] for r in table.rows[:-1]]}]
        if share:
            series.append({"name": "未完成", "data": [r[4] for r in table.rows[:-1]]})
        table.chart = {
            "kind": "stack" if share else "bar",
            "labels": [r[0][0] for r in table.rows[:-1]],
            "series": series,
        }
        tables.append(table)
    return tables


def trend_tables(user, unit: Unit, *, as_of: dt.date) -> list[Table]:
    """学期趋势: the last four terms, each as of its last day (trends.trends), as two tables —
    the counts by category and the coverage rates — each with a line chart above it."""
    points = trends.trends(
        user,
        on=as_of,
        school=unit.school.code if unit.school else None,
        grade=unit.grade,
        class_no=unit.class_no,
    )
    labels = [short_term(p["term"]) for p in points]  # 2026秋: fits under a phone's chart
    cats = Table(
        "trend_categories",
        "学期趋势：在读学生分类",
        ["学期", "截至", "在读", *[CATEGORY_NAMES[c] for c in CATEGORIES], "民政口径"],
        note="每学期按最后一天（本学期按统计日期）的档卡历史统计。",
    )
    for p in points:
        cats.rows.append(
            [
                p["label"],
                p["as_of"].isoformat(),
                p["children"],
                *[p["by_category"][c] for c in CATEGORIES],
                p["civil_affairs"],
            ]
        )
    cats.chart = {
        "kind": "line",
        "labels": labels,
        "series": [
            {"name": CATEGORY_NAMES[c], "data": [p["by_category"][c] for p in points]}
            for c in CATEGORIES
        ],
    }
    rates = Table(
        "trend_rates",
        "学期趋势：工作覆盖率",
        ["学期", "截至", *trends.RATES.values()],
        note="摸底排查、核实：只计开展了该学期工作的学校的在读学生；普访、结对、代理家长：以当时的留守儿童（单留守、双留守）为分母。",
    )
    for p in points:
        r = p["rates"]
        rates.rows.append(
            [
                p["label"],
                p["as_of"].isoformat(),
                *[
                    f"{pct(r[k]['done'], r[k]['of'])}（{r[k]['done']}/{r[k]['of']}）"
                    for k in trends.RATES
                ],
            ]
        )
    rates.chart = {
        "kind": "line",
        "percent": True,
        "labels": labels,
        "series": [
            {
                "name": name,
                "data": [
                    round(p["rates"][k]["done"] * 100 / p["rates"][k]["of"], 1)
                    if p["rates"][k]["of"]
                    else None
                    for p in points
                ],
            }
            for k, name in trends.RATES.items()
        ],
    }
    return [cats, rates]


def short_term(term: str) -> str:
    """'2026-2027-1' → '2026秋', '2026-2027-2' → '2027春' (the chart's axis)."""
    first, second, half = term.split("-")
    return f"{first}秋" if half == "1" else f"{second}春"


def pct(done: int, total: int) -> str:
    return f"{done * 100 / total:.1f}%" if total else "—"


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts of the unit the user is looking at, a chart and a table for each dimension, each
    table downloadable (?export=<table>), each row a step down, the last step the child list."""
    unit = unit_of(request)
    today = timezone.localdate()
    as_of, warning = query_date_or(request.GET.get("as_of"), today, label="统计日期")
    if as_of > today:
        as_of, warning = today, "统计日期不能晚于今天；已改为今天"
    data = services.dashboard_counts(
        request.user,
        as_of=as_of,
        school=unit.school.code if unit.school else None,
        grade=unit.grade,
        class_no=unit.class_no,
    )
    tables = build_tables(unit, data, as_of=as_of, today=today)
    wanted = request.GET.get("export")
    # Past a town's size the coverage panels and the trends take over a second (the due list
    # over every card, the running term's history pass: bench/stats.py): they are computed
    # when asked for, by the page itself right after it is shown.
    deferred = data["total"] > INLINE_LIMIT and not request.GET.get("coverage") and not wanted
    panels: list[Table] = []
    trend: list[Table] = []
    if not deferred:
        with covstore.read_once():  # the panels and today's trend point: the same class lines
            if as_of == today:  # the work done this term, as the feature pages show it today
                panels = coverage_tables(request.user, unit, as_of=as_of, today=today)
            trend = trend_tables(request.user, unit, as_of=as_of)
    if wanted:
        table = next((t for t in tables + panels + trend if t.key == wanted), None)
        if table is None:
            raise Http404("没有这张表")
        return xlsx_download(
            request,
            filename=f"stats-{table.key}-{as_of:%Y%m%d}.xlsx",
            what=f"{unit.name} {table.title}（截至 {as_of:%Y-%m-%d}）",
            header=table.header,
            rows=table.plain_rows(),
            school=unit.school,
        )
    if request.GET.get("part") == "coverage":
        # The panels and trends alone, fetched by the page that came without them (deferred)
        return render(
            request,
            "stats/_coverage.html",
            {
                "unit": unit,
                "panels": panels,
                "trend": trend,
                "total": data["total"],
                "here": _here(unit, as_of, today),
                "charts": _charts(panels + trend),
                "part": True,
            },
        )
    cats = data["dims"]["category"]
    charts = _charts(tables + panels + trend)
    return render(
        request,
        "stats/dashboard.html",
        {
            "unit": unit,
            "crumbs": _crumbs(unit, as_of, today),
            "tables": tables,
            "panels": panels,
            "trend": trend,
            "deferred": deferred,
            "charts": charts,
            "total": data["total"],
            "left_behind": cats.get("single", 0) + cats.get("double", 0),
            "civil": data["dims"]["civil"].get("yes", 0),
            "unknown": cats.get("unknown", 0),
            "as_of": as_of,
            "today": today,
            "warning": warning,
            "list_url": _list_url(unit) if as_of == today else "",
            "here": _here(unit, as_of, today),
            "can_report": may_report(request.user),
            "print_url": print_url(request.user, unit),
        },
    )


def _charts(tables: list[Table]) -> list[dict]:
    """The charts' data stats.js draws (json_script), one per table that has a chart."""
    return [{"id": f"chart-{t.key}", "title": t.title, **t.chart} for t in tables if t.chart]


def print_url(user, unit: Unit) -> str:
    """The printable cards of the unit looked at: the whole school's one PDF for those who
    print for the school (school leaders, the town), a class's for those who print for it."""
    if unit.school is None or user.is_read_only:
        return ""
    url = reverse("children:cards_pdf")
    school = unit.school
    if unit.grade is None:
        if scope.holds(user, "print", town_id=school.town_id, school_id=school.pk):
            return f"{url}?school={school.code}"
        return ""
    if unit.class_no is None:
        return ""
    klass = (
        scope.classes(user, "print")
        .filter(school=school, grade=unit.grade, class_no=unit.class_no)
        .first()
    )
    return f"{url}?class={klass.pk}" if klass else ""


def may_report(user) -> bool:
    """Whether the user drafts term reports (school-wide work: the `manage` action)."""
    return scope.schools(user, "manage").exists() or scope.towns(user, "manage").exists()


def _crumbs(unit: Unit, as_of: dt.date, today: dt.date) -> list[tuple[str, str]]:
    crumbs = []
    if len(unit.schools) > 1:
        crumbs.append(("全部学校", _here(Unit(), as_of, today)))
    if unit.school:
        crumbs.append((unit.school.name, _here(Unit(school=unit.school), as_of, today)))
    if unit.grade is not None:
        crumbs.append(
            (
                grade_name(unit.grade),
                _here(Unit(school=unit.school, grade=unit.grade), as_of, today),
            )
        )
    if unit.class_no is not None:
        crumbs.append((f"({unit.class_no})班", _here(unit, as_of, today)))
    return crumbs


def home_panel_context(user) -> dict[str, Any] | None:
    """The home page's statistics panel: the key numbers of the user's scope today with a
    link to the dashboard; None for a user without a unit (a proxy parent) — the panel then
    shows nothing."""
    if not scope.schools(user, "view").exists():
        return None
    s = services.summary(user)
    cats = s["by_category"]
    return {
        "children": s["children"],
        "left_behind": cats["single"] + cats["double"],
        "civil_affairs": s["civil_affairs"],
        "unknown": cats["unknown"],
        "schools": len(s["by_school"]),
        "missing_birth": s["missing"]["birth_date"],
        "url": reverse("stats:dashboard"),
    }
