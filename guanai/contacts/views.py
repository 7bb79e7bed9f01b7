"""Pages of 家校联系: log a contact (phone first), timelines, follow-ups, frequency rules and the
weekly visit plan. The due page: views_due.py. 普访 coverage and rounds: views_rounds.py.
Letters and messages: views_outreach.py.
Scope via Child.objects.visible_to(), as everywhere."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts import scope
from guanai.accounts.permissions import writer_required
from guanai.children.access import search_children
from guanai.children.models import AssignmentKind, Child, ChildAssignment
from guanai.children.services import StaleVersion
from guanai.children.validation import CardInvalid
from guanai.lib.dates import query_date_or
from guanai.lib.htmx import is_partial
from guanai.lib.photos import CONTENT_TYPES
from guanai.org.models import School

from . import access
from .corrections import contact_histories, contact_to_correct, correct_contact, correctable
from .forms import (
    ContactEditForm,
    ContactForm,
    DoneForm,
    RuleForm,
    with_whom_choices,
)
from .models import Contact, ContactKind, ContactPhoto, PlannedVisit
from .rules import DEFAULT_RULES, RULE_CODES, due_items, rules_for_schools
from .services import (
    IdempotencyConflict,
    completable,
    complete_follow_up,
    follow_ups_for,
    log_contact,
    own_children_filter,
    plan_visit,
    reset_school_rule,
    save_rule,
    unplan_visit,
    week_of,
)

PAGE_SIZE = 25
# Photos stored before re-encoding kept the uploader's extension; .jpeg ones are still images.
PHOTO_TYPES = {**CONTENT_TYPES, "jpeg": "image/jpeg"}


def _scope(request: HttpRequest, action: str = "view"):
    return Child.objects.visible_to(request.user, action=action)


def _parse_date(
    request: HttpRequest, value: str | None, default: dt.date, *, label: str
) -> dt.date:
    """A date from a link (a day, a week, a period): a page's policy is the default when it is
    missing, and the default with a message saying so when it is malformed or implausible
    (year 9999 would overflow the week after it)."""
    day, problem = query_date_or(value, default, label=label)
    if problem:
        messages.warning(request, problem)
    return day or default


def _show_errors(form, exc: CardInvalid) -> None:
    """A service's field errors at the form's fields (others above the form)."""
    for key, message in exc.errors.items():
        form.add_error(key if key in form.fields else None, message)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@writer_required
def index(request: HttpRequest) -> HttpResponse:
    """家校联系: the children the user may contact, her own first, with the last home visit and
    what is due; one tap to log a visit or a call."""
    own = own_children_filter(request.user)
    last_visit = (
        Contact.objects.filter(child=OuterRef("pk"), kind=ContactKind.HOME_VISIT)
        .order_by("-at")
        .values("at")[:1]
    )
    qs = (
        _scope(request, "contact")
        .active()
        .select_related("school", "school_class", "guardian")
        .annotate(
            own=Case(When(own, then=Value(0)), default=Value(1), output_field=IntegerField()),
            last_visit=Subquery(last_visit),
        )
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = search_children(request, qs, q)
    if request.GET.get("mine") == "1":
        qs = qs.filter(own)
    qs = qs.order_by("own", "school_id", "school_class__grade", "school_class__class_no", "name")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    due: dict[int, list[str]] = {}
    ids = [c.pk for c in page]
    for item in _due_items(request, Child.objects.filter(pk__in=ids), timezone.localdate()):
        due.setdefault(item.child, []).append(item.rule_name)
    for child in page:
        child.due_rules = due.get(child.pk, [])
    template = "contacts/_children.html" if is_partial(request) else "contacts/index.html"
    return render(request, template, {"page": page, "q": q, "mine": request.GET.get("mine")})


@writer_required
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest) -> HttpResponse:
    """Log a contact from a phone in under a minute: big buttons, the last visit's findings
    above the form, a hidden idempotency key so a resubmit never creates a duplicate."""
    child_id = request.POST.get("child") or request.GET.get("child") or ""
    if not child_id.isdigit():
        return redirect("contacts:index")
    child = get_object_or_404(
        _scope(request, "contact")
        .select_related("school", "school_class", "guardian")
        .prefetch_related("parents"),
        pk=child_id,
    )
    kind = request.GET.get("kind")
    initial = {"kind": kind} if kind in dict(access.kind_choices(request.user)) else {}
    form = ContactForm(
        request.POST or None, request.FILES or None, child=child, by=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact, created = log_contact(
                child=child,
                by=request.user,
                values=form.values,
                idempotency_key=form.cleaned_data["idempotency_key"],
                photos=form.cleaned_data.get("photos") or [],
            )
        except IdempotencyConflict:
            form.add_error(None, "这张表单已经保存过一条不同的记录；如需再记一条，请重新打开表单")
        except CardInvalid as exc:
            _show_errors(form, exc)
        else:
            note = "已保存" if created else "这条记录之前已经保存（没有重复保存）"
            kind = access.kind_label(contact.kind, proxy=access.proxy_reader(request.user))
            messages.success(request, f"{child.name}：{kind}{note}")
            target = _safe_next(request, reverse("contacts:index"))
            # `saved` lets the next page drop the form's draft kept in the phone's storage
            sep = "&" if "?" in target else "?"
            return redirect(f"{target}{sep}saved={child.pk}")
    last = (
        Contact.objects.filter(child=child, kind=ContactKind.HOME_VISIT)
        .select_related("by")
        .order_by("-at")
        .first()
    )
    return render(
        request,
        "contacts/new.html",
        {
            "form": form,
            "child": child,
            "last": last,
            "last_hidden": last is not None and access.details_hidden(request.user, last),
            "last_findings": access.shown_findings(request.user, last) if last else [],
            "people": with_whom_choices(child),
            "kinds": form.fields["kind"].choices,
            "next": _safe_next(request, ""),
        },
    )


@writer_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a saved contact with the same form (the child stays); the reason and the
    replaced version go into the contact's history."""
    contact = contact_to_correct(request.user, pk)
    form = ContactEditForm(request.POST or None, contact=contact, by=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved, changed = correct_contact(
                contact=contact,
                by=request.user,
                values=form.values,
                reason=form.cleaned_data["reason"],
                loaded_at=form.cleaned_data.get("loaded_at"),
            )
        except CardInvalid as exc:
            _show_errors(form, exc)
        except StaleVersion as exc:
            form.add_error(None, str(exc))  # what she typed stays on the page
        else:
            note = "已修改" if changed else "没有改动"
            messages.success(request, f"{contact.child.name}：{saved.get_kind_display()}记录{note}")
            return redirect(
                _safe_next(request, reverse("children:detail", args=[contact.child_id]))
            )
    return render(
        request,
        "contacts/new.html",
        {
            "form": form,
            "child": contact.child,
            "editing": contact,
            "people": with_whom_choices(contact.child),
            "kinds": form.fields["kind"].choices,
            "next": _safe_next(request, ""),
        },
    )


@login_required
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The child's contact timeline (the card loads it with HTMX), newest first."""
    child = get_object_or_404(_scope(request).select_related("school_class"), pk=pk)
    contacts = (
        Contact.objects.filter(child=child)
        .select_related("by", "follow_up_done_by")
        .prefetch_related("photos")
        .order_by("-at", "-id")
    )
    page = Paginator(contacts, 20).get_page(request.GET.get("page"))
    ids = [c.pk for c in page]
    for c in page:
        c.child = child  # one child: its units are checked once, not per contact
    histories = contact_histories(list(page), user=request.user)
    may_correct = set(correctable(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    proxies = set(
        ChildAssignment.objects.filter(child=child, kind=AssignmentKind.PROXY_PARENT).values_list(
            "user_id", flat=True
        )
    )
    for c in page:
        c.hidden = access.details_hidden(request.user, c)  # others' notes: date and kind only
        c.shown_findings = access.shown_findings(request.user, c)
        c.kind_label = access.kind_label(c.kind, proxy=c.by_id in proxies)
        c.corrections = [e for e in histories.get(c.pk, []) if e["correction"]]
        c.may_correct = c.pk in may_correct
    can_log = not request.user.is_read_only and _scope(request, "contact").filter(pk=pk).exists()
    access.log_psych_read(request, page, where="联系记录中")
    ctx = {"child": child, "page": page, "can_log": can_log}
    template = "contacts/_timeline.html" if is_partial(request) else "contacts/timeline.html"
    return render(request, template, ctx)


@writer_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a follow-up done, saying what was done: it leaves the home page."""
    contact = get_object_or_404(completable(request.user), pk=pk)
    form = DoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        complete_follow_up(contact=contact, by=request.user, note=note)
    except CardInvalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    else:
        messages.success(request, f"{contact.child.name} 的跟进事项已完成")
    if is_partial(request):
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return redirect(_safe_next(request, reverse("home")))


@login_required
def follow_ups(request: HttpRequest) -> HttpResponse:
    """All open follow-ups of the user's own children and those she recorded."""
    page = Paginator(follow_ups_for(request.user), 50).get_page(request.GET.get("page"))
    ids = [c.pk for c in page]
    may_correct = set(correctable(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    proxy = access.proxy_reader(request.user)
    for c in page:
        c.may_correct = c.pk in may_correct
        c.kind_label = access.kind_label(c.kind, proxy=proxy)
    return render(
        request, "contacts/follow_ups.html", {"page": page, "today": timezone.localdate()}
    )


@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A contact photo, only for users who may see the child. The content type comes from the
    stored extension (photos are re-encoded to .jpg or .png on upload), never from sniffing;
    a file stored before re-encoding with any other name is only ever a download."""
    item = get_object_or_404(
        ContactPhoto.objects.filter(
            access.readable(request.user, prefix="contact__"),
            contact__child__in=_scope(request).values("pk"),
        ),
        pk=pk,
    )
    ext = item.file.name.rsplit(".", 1)[-1].lower()
    if ext in PHOTO_TYPES:
        response = FileResponse(
            item.file.open("rb"), content_type=PHOTO_TYPES[ext], filename=f"photo-{pk}.{ext}"
        )
    else:
        response = FileResponse(
            item.file.open("rb"),
            content_type="application/octet-stream",
            as_attachment=True,
            filename=f"photo-{pk}.bin",
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response


# --- due lists (the due page: views_due.py) ------------------------------------------------------------------------


def _schools(request: HttpRequest):
    return School.objects.filter(pk__in=_scope(request).values("school_id")).order_by("id")


def _rule_codes(request: HttpRequest, wanted: list[str] | None = None) -> list[str]:
    """The rules of the user's due lists (a proxy parent's: the proxy-parent rule only)."""
    codes = access.due_rule_codes(request.user, wanted)
    return RULE_CODES if codes is None else codes


def _due_items(request: HttpRequest, children, as_of: dt.date, wanted: list[str] | None = None):
    codes = access.due_rule_codes(request.user, wanted)
    if codes == []:
        return []  # none of the rules asked for is the user's
    return due_items(children, as_of=as_of, rule_codes=codes)


# --- frequency rules --------------------------------------------------------------------------


def _rule_units(request: HttpRequest) -> tuple[list, set[int], set[int]]:
    """Schools in scope, the towns the user administers and the schools she leads."""
    user = request.user
    towns = set(scope.towns(user, "manage").values_list("pk", flat=True))
    led = set(scope.schools(user, "lead_school").values_list("pk", flat=True))
    return list(_schools(request).select_related("town")), towns, led


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request: HttpRequest) -> HttpResponse:
    """The frequency rules of the user's schools; town administrators edit the town's rules,
    school leaders override them for their school."""
    schools, towns, led = _rule_units(request)
    if request.method == "POST":
        return _save_rule(request, schools, towns, led)
    effective = rules_for_schools([s.pk for s in schools])
    rows = []
    for school in schools:
        rules = []
        for rule in effective.get(school.pk, []):
            rules.append(
                {
                    "rule": rule,
                    "form": RuleForm(
                        initial={
                            "name": rule.name,
                            "active": rule.active,
                            "period": rule.period,
                            "days": rule.days or 30,
                            "kinds": list(rule.kinds),
                            "categories": list(rule.categories),
                        },
                        prefix=f"{school.pk}-{rule.code}",
                    ),
                }
            )
        rows.append(
            {
                "school": school,
                "rules": rules,
                "edit_town": school.town_id in towns and not request.user.is_read_only,
                "edit_school": (school.pk in led or school.town_id in towns)
                and not request.user.is_read_only,
            }
        )
    return render(request, "contacts/rules.html", {"rows": rows})


def _save_rule(request: HttpRequest, schools: list, towns: set[int], led: set[int]):
    if request.user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能修改规则")
    school = next((s for s in schools if str(s.pk) == request.POST.get("school")), None)
    code = request.POST.get("code", "")
    level = request.POST.get("level")
    if school is None or code not in RULE_CODES:
        raise PermissionDenied("没有修改这条规则的权限")
    if level == "town" and school.town_id not in towns:
        raise PermissionDenied("只有镇管理员可以修改全镇的规则")
    if level == "school" and school.pk not in led and school.town_id not in towns:
        raise PermissionDenied("只有本校领导可以为本校单独设置规则")
    if request.POST.get("reset") == "1":
        reset_school_rule(school=school, code=code)
        messages.success(request, f"{school.name} 已恢复使用全镇规则")
        return redirect("contacts:rules")
    form = RuleForm(request.POST, prefix=f"{school.pk}-{code}")
    if form.is_valid():
        d = form.cleaned_data
        try:
            save_rule(
                code=code,
                by=request.user,
                town=school.town if level == "town" else None,
                school=school if level == "school" else None,
                name=d["name"],
                kinds=d["kinds"],
                period=d["period"],
                days=d.get("days") or 30,
                categories=d["categories"],
                active=d["active"],
            )
        except CardInvalid as exc:
            messages.error(request, "；".join(exc.errors.values()))
        else:
            where = school.town.name if level == "town" else school.name
            messages.success(request, f"已保存 {where} 的规则：{d['name']}")
    else:
        errors = [
            f"{form.fields[k].label if k in form.fields else ''}{v[0]}"
            for k, v in form.errors.items()
        ]
        messages.error(request, "；".join(errors))
    return redirect("contacts:rules")


# --- weekly visit plan --------------------------------------------------------------------------


@writer_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest) -> HttpResponse:
    """The teacher's home visits for a week: planned children (done once visited that week) and
    suggestions from her children due a home visit."""
    week = week_of(
        _parse_date(
            request,
            request.GET.get("week") or request.POST.get("week"),
            timezone.localdate(),
            label="周",
        )
    )
    if request.method == "POST":
        child = get_object_or_404(_scope(request, "contact"), pk=request.POST.get("child") or 0)
        if request.POST.get("remove") == "1":
            unplan_visit(user=request.user, child=child, week=week)
        else:
            plan_visit(user=request.user, child=child, week=week)
        return redirect(_safe_next(request, f"{reverse('contacts:plan')}?week={week}"))
    start = dt.datetime.combine(week, dt.time.min, tzinfo=timezone.get_current_timezone())
    visited = Contact.objects.filter(
        child=OuterRef("child_id"),
        kind=ContactKind.HOME_VISIT,
        at__gte=start,
        at__lt=start + dt.timedelta(days=7),
    ).values("at")[:1]
    planned = list(
        PlannedVisit.objects.filter(
            user=request.user, week=week, child__in=_scope(request, "contact").values("pk")
        )
        .select_related("child", "child__school_class", "child__guardian")
        .annotate(visited_at=Subquery(visited))
        .order_by("child__school_class__grade", "child__name")
    )
    mine = _scope(request, "contact").filter(own_children_filter(request.user))
    planned_ids = {p.child_id for p in planned}
    suggestions = [
        i
        for i in _due_items(request, mine, week + dt.timedelta(days=6), ["home_visit"])
        if i.child not in planned_ids
    ][:30]
    return render(
        request,
        "contacts/plan.html",
        {
            "week": week,
            "week_end": week + dt.timedelta(days=6),
            "prev": week - dt.timedelta(days=7),
            "next_week": week + dt.timedelta(days=7),
            "planned": planned,
            "suggestions": suggestions,
            "done": sum(1 for p in planned if p.visited_at),
        },
    )


@login_required
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "contacts/help.html", {"rules": DEFAULT_RULES})
