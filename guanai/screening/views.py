"""Pages of 摸底排查 (screening) and 核实 (verification), and each card's freshness.

Campaigns and rounds are found through `visible_to` (a school the user has no role in: 404);
the children listed always come from Child.objects.visible_to(user); marking a child needs the
card's "change" scope (visible but not editable: 403); read-only roles get 403 on every write.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.children.access import (
    HEALTH_FIELDS,
    hidden_sections,
    search_children,
)
from guanai.children.models import Child
from guanai.children.services import StaleVersion
from guanai.children.validation import CardInvalid
from guanai.lib.htmx import is_partial
from guanai.org.models import School
from guanai.screening.transitions import placement_timeline

from . import services
from .forms import (
    READ_ONLY_GROUPS,
    SCREENING_KEYS,
    VERIFY_KEYS,
    CampaignForm,
    CloseForm,
    RoundForm,
    SituationForm,
    VacationPlanForm,
    VerifyForm,
)
from .models import (
    AskedOf,
    CardVerification,
    FieldGroup,
    ScreeningCampaign,
    ScreeningRecord,
    VacationPlan,
    VerificationRound,
    schools_managed_by,
    schools_visible_to,
)

PAGE_SIZE = 30


def _scope(request: HttpRequest, action: str = "view"):
    return Child.objects.visible_to(request.user, action=action)


def _add_errors(form, exc: CardInvalid) -> None:
    for key, message in exc.errors.items():
        form.add_error(key if key in form.fields else None, message)


def _managed(request: HttpRequest, school: School) -> bool:
    return (
        not request.user.is_read_only
        and schools_managed_by(request.user).filter(pk=school.pk).exists()
    )


def _log_phones(request: HttpRequest, child: Child, detail: str) -> None:
    """The screening and verification forms show the parents' and guardian's phones in full
    (to call and to correct): each such view is logged, as on the card page."""
    people = [*child.parents.all(), getattr(child, "guardian", None)]
    if any(p is not None and p.phone for p in people):
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail=detail,
        )


def _next_in_class(child: Child, candidates) -> Child | None:
    """The next child of `child`'s class among `candidates`, in the list's order (name, then
    id), starting again from the top after the last: walking through a class one by one."""
    mates = sorted(
        candidates.filter(school_class_id=child.school_class_id)
        .exclude(pk=child.pk)
        .only("pk", "name"),
        key=lambda c: (c.name, c.pk),
    )
    after = [c for c in mates if (c.name, c.pk) > (child.name, child.pk)]
    return (after or mates or [None])[0]


def _child_for_change(request: HttpRequest, pk: int) -> Child:
    """A child in scope (else 404) whose card the user may change (else 403)."""
    child = get_object_or_404(
        _scope(request).select_related("school", "school_class").prefetch_related("parents"),
        pk=pk,
    )
    if not _scope(request, "change").filter(pk=pk).exists():
        raise PermissionDenied("您不能修改这名学生的档卡")
    return child


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """This term's screening and verification for each school the user sees."""
    term = services.this_term()
    schools = list(schools_visible_to(request.user).order_by("id"))
    campaigns = {
        c.school_id: c for c in ScreeningCampaign.objects.filter(school__in=schools, term=term)
    }
    rounds = {}
    for r in VerificationRound.objects.filter(school__in=schools, term=term).order_by("id"):
        rounds.setdefault(r.school_id, []).append(r)
    rows = []
    scope = _scope(request)
    for school in schools:
        c = campaigns.get(school.pk)
        rows.append(
            {
                "school": school,
                "campaign": c,
                "progress": services.campaign_progress(c, scope) if c else None,
                "rounds": [
                    (r, services.round_progress(r, scope)) for r in rounds.get(school.pk, [])
                ],
                "managed": _managed(request, school),
            }
        )
    managed = schools_managed_by(request.user).order_by("id")
    return render(
        request,
        "screening/index.html",
        {
            "term": term,
            "rows": rows,
            "campaign_form": CampaignForm(schools=managed)
            if not request.user.is_read_only
            else None,
            "can_manage": managed.exists() and not request.user.is_read_only,
            "past": ScreeningCampaign.objects.filter(school__in=schools)
            .exclude(term=term)
            .select_related("school")[:20],
        },
    )


@writer_required
@require_POST
def campaign_open(request: HttpRequest) -> HttpResponse:
    """Open the term's screening of a school (school leaders and town admins)."""
    managed = schools_managed_by(request.user)
    form = CampaignForm(request.POST, schools=managed)
    if not managed.exists():
        raise PermissionDenied("只有校领导和镇管理员可以发起摸底排查")
    if form.is_valid():
        try:
            c = services.open_campaign(
                school=form.cleaned_data["school"],
                term=form.cleaned_data["term"],
                by=request.user,
            )
        except CardInvalid as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已发起{c.school.name} {c.term} 学期摸底排查")
            return redirect("screening:campaign", pk=c.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for e in errors:
            messages.error(request, f"{label}：{e}" if label else e)
    return redirect("screening:index")


def _filter_children(request: HttpRequest, children, done_ids, states=None):
    """The list's filters; `states` adds named sets (a round's 缺假期去向 …): state → ids."""
    g = request.GET
    if g.get("class", "").isdigit():
        children = children.filter(school_class_id=int(g["class"]))
    if g.get("grade", "").isdigit():
        children = children.filter(school_class__grade=int(g["grade"]))
    if g.get("state") == "missing":
        children = children.exclude(pk__in=done_ids)
    elif g.get("state") == "done":
        children = children.filter(pk__in=done_ids)
    elif g.get("state") in (states or {}):
        children = children.filter(pk__in=states[g["state"]])
    if g.get("mine") == "1":
        children = children.filter(responsible_teacher=request.user)
    if g.get("q"):
        children = search_children(request, children, g["q"])
    return children.select_related("school_class").order_by(
        "school_class__grade", "school_class__class_no", "name", "id"
    )


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Completion per grade and class and the list of students, screened or not."""
    campaign = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    scope = _scope(request)
    done_ids = campaign.records.values("child_id")
    children = _filter_children(request, services.screening_children(campaign, scope), done_ids)
    children = children.prefetch_related(
        Prefetch(
            "screening_records",
            queryset=ScreeningRecord.objects.filter(campaign=campaign).select_related(
                "screened_by"
            ),
            to_attr="this_record",
        )
    )
    page = Paginator(children, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "campaign": campaign,
        "page": page,
        "query": query.urlencode(),
        "f": request.GET,
        "can_write": not request.user.is_read_only,
    }
    if is_partial(request, "table"):
        return render(request, "screening/_campaign_table.html", ctx)
    ctx["progress"] = services.campaign_progress(campaign, scope)
    ctx["managed"] = _managed(request, campaign.school)
    return render(request, "screening/campaign.html", ctx)


@writer_required
@require_http_methods(["GET", "POST"])
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    if not _managed(request, campaign.school):
        raise PermissionDenied("只有校领导和镇管理员可以结束摸底排查")
    form = CloseForm(request.POST or None)
    progress = services.campaign_progress(campaign, Child.objects.all())
    if request.method == "POST" and form.is_valid():
        try:
            services.close_campaign(
                campaign=campaign, by=request.user, reason=form.cleaned_data["reason"]
            )
        except CardInvalid as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "摸底排查已结束")
            return redirect("screening:campaign", pk=campaign.pk)
    return render(
        request,
        "screening/campaign_close.html",
        {"campaign": campaign, "form": form, "progress": progress},
        status=422 if form.errors else 200,
    )


@writer_required
@require_http_methods(["GET", "POST"])
def screen_child(request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
    """Check a child's situation (parents, guardian) and mark the child screened."""
    campaign = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    child = _child_for_change(request, child_pk)
    form = SituationForm(request.POST or None, child=child, keys=SCREENING_KEYS)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_screened(
                campaign=campaign,
                child=child,
                data=form.changes(),
                version=form.cleaned_data["version"] or 0,
                by=request.user,
                note=form.cleaned_data["reason"],
            )
        except StaleVersion:
            stale = True
        except CardInvalid as exc:
            _add_errors(form, exc)
        else:
            return _after_screening(request, campaign, child)
    record = campaign.records.filter(child=child).select_related("screened_by").first()
    _log_phones(request, child, "摸底排查核对时查看完整电话号码")
    return render(
        request,
        "screening/screen_child.html",
        {
            "campaign": campaign,
            "child": child,
            "form": form,
            "stale": stale,
            "record": record,
            "next_child": _next_in_class(child, _to_screen(request, campaign)),
        },
        status=409 if stale else (422 if form.errors else 200),
    )


def _to_screen(request: HttpRequest, campaign: ScreeningCampaign):
    """The campaign's children this user may screen who are not screened yet."""
    return services.screening_children(campaign, _scope(request, "change")).exclude(
        pk__in=campaign.records.values("child_id")
    )


def _after_screening(request: HttpRequest, campaign: ScreeningCampaign, child: Child):
    """On to the next child of the class still to screen, or back to the class's list."""
    if request.POST.get("next") or request.GET.get("next"):
        messages.success(request, f"{child.name} 已标记为已摸排")
        return redirect(_next_url(request, "screening:campaign", campaign.pk))
    nxt = _next_in_class(child, _to_screen(request, campaign))
    if nxt is not None:
        messages.success(request, f"{child.name} 已标记为已摸排。下一个：{nxt.name}")
        return redirect("screening:screen_child", pk=campaign.pk, child_pk=nxt.pk)
    messages.success(request, f"{child.name} 已标记为已摸排；本班学生已全部摸排")
    url = reverse("screening:campaign", args=[campaign.pk])
    return redirect(f"{url}?class={child.school_class_id}")


def _next_url(request: HttpRequest, name: str, pk: int) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(name, args=[pk])


@writer_required
@require_http_methods(["GET", "POST"])
def confirm_none(request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
    """Confirm "非留守" on purpose: the first step says what will be recorded (父母均在家 …)
    and asks to confirm; only a POST with confirm=1 records it. Inline in the list's row with
    HTMX, a page of its own without."""
    campaign = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    child = _child_for_change(request, child_pk)
    error = ""
    if request.method == "POST" and request.POST.get("confirm") == "1":
        version = request.POST.get("version", "")
        try:
            services.confirm_not_left_behind(
                campaign=campaign,
                child=child,
                version=int(version) if version.isdigit() else -1,
                by=request.user,
            )
        except StaleVersion:
            error = "档卡刚被他人修改，请刷新后再确认"
        except CardInvalid as exc:
            error = "；".join(exc.errors.values())
        else:
            if is_partial(request):
                return _campaign_row(request, campaign, child, "")
            messages.success(request, f"{child.name} 已确认非留守")
            return redirect(_next_url(request, "screening:campaign", campaign.pk))
    elif request.method == "POST":
        error = "请点“确认非留守”确认后再记录"
    changes = services.not_left_behind_changes(child)
    ctx = {
        "campaign": campaign,
        "c": child,
        "error": error,
        "parents": [
            (label, child.parent(relation), f"{relation}.status" in changes)
            for relation, label in (("father", "父亲"), ("mother", "母亲"))
        ],
        "changes": changes,
        "next": request.GET.get("next") or request.POST.get("next") or "",
    }
    status = 422 if error else 200
    if is_partial(request):
        return render(request, "screening/_confirm_none_row.html", ctx, status=status)
    return render(request, "screening/confirm_none.html", ctx, status=status)


def _campaign_row(request: HttpRequest, campaign: ScreeningCampaign, child: Child, error: str):
    c = (
        services.screening_children(campaign, _scope(request))
        .select_related("school_class")
        .prefetch_related(
            Prefetch(
                "screening_records",
                queryset=ScreeningRecord.objects.filter(campaign=campaign).select_related(
                    "screened_by"
                ),
                to_attr="this_record",
            )
        )
        .get(pk=child.pk)
    )
    return render(
        request,
        "screening/_campaign_row.html",
        {"c": c, "campaign": campaign, "error": error, "can_write": True},
        status=422 if error else 200,
    )


# --- 核实 ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request: HttpRequest) -> HttpResponse:
    """Verification rounds of the user's schools; leaders open a round with a deadline."""
    managed = schools_managed_by(request.user).order_by("id")
    form = RoundForm(request.POST or None, schools=managed)
    if request.method == "POST":
        if request.user.is_read_only or not managed.exists():
            raise PermissionDenied("只有校领导和镇管理员可以发起核实")
        if form.is_valid():
            try:
                r = services.open_round(
                    school=form.cleaned_data["school"],
                    term=form.cleaned_data["term"],
                    vacation=form.cleaned_data["vacation"],
                    deadline=form.cleaned_data["deadline"],
                    plans_of=form.cleaned_data["plans_of"] or AskedOf.LEFT_BEHIND,
                    pledges_of=form.cleaned_data["pledges_of"] or AskedOf.LEFT_BEHIND,
                    by=request.user,
                )
            except CardInvalid as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"已发起{r}")
                return redirect("screening:round", pk=r.pk)
    rounds = VerificationRound.objects.visible_to(request.user).select_related("school")
    scope = _scope(request)
    rows = [(r, services.round_progress(r, scope)) for r in rounds[:40]]
    return render(
        request,
        "screening/rounds.html",
        {
            "rows": rows,
            "form": form if managed.exists() and not request.user.is_read_only else None,
        },
        status=422 if form.errors else 200,
    )


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress per grade and class with sign-offs, and the cards to verify."""
    rnd = get_object_or_404(
        VerificationRound.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    scope = _scope(request)
    done_ids = rnd.verifications.values("child_id")
    all_children = services.round_children(rnd, scope)
    states = {
        "no_plan": services.missing_plans(rnd, all_children).values("pk"),
        "no_pledge": services.missing_pledges(rnd, all_children).values("pk"),
        "todo": services.round_todo(rnd, all_children).values("pk"),
    }
    children = _filter_children(request, all_children, done_ids, states)
    children = children.prefetch_related(
        Prefetch(
            "verifications",
            queryset=CardVerification.objects.filter(round=rnd).select_related("verified_by"),
            to_attr="this_check",
        ),
        Prefetch(
            "vacation_plans",
            queryset=VacationPlan.objects.filter(round=rnd),
            to_attr="this_plan",
        ),
    )
    page = Paginator(children, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "round": rnd,
        "page": page,
        "query": query.urlencode(),
        "f": request.GET,
        "signed": set(rnd.signoffs.values_list("grade", flat=True)),
    }
    if is_partial(request, "table"):
        return render(request, "screening/_round_table.html", ctx)
    progress = services.round_progress(rnd, scope)
    for g in progress["grades"]:
        g["can_sign"] = (
            rnd.is_open
            and not g["signed_off"]
            and services.can_sign_off(request.user, rnd, g["grade"])
        )
    ctx["progress"] = progress
    return render(request, "screening/round.html", ctx)


@writer_required
@require_http_methods(["GET", "POST"])
def verify_child(request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
    """Confirm or correct a card, group by group, and record the child's vacation plan and
    safety pledge; then on to the next child of the class with work left."""
    rnd = get_object_or_404(
        VerificationRound.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    child = _child_for_change(request, child_pk)
    plan = VacationPlan.objects.filter(round=rnd, child=child).first()
    is_plan = request.POST.get("action") == "plan"
    form = VerifyForm(
        request.POST if request.method == "POST" and not is_plan else None,
        child=child,
        keys=VERIFY_KEYS,
        read_only=READ_ONLY_GROUPS + ([FieldGroup.HEALTH] if _reads_health(request, child) else []),
    )
    plan_form = VacationPlanForm(
        request.POST if is_plan else None, initial=_plan_initial(plan, child)
    )
    stale = False
    if request.method == "POST" and not is_plan and form.is_valid():
        try:
            v = services.verify_card(
                round=rnd,
                child=child,
                data=form.changes(),
                version=form.cleaned_data["version"] or 0,
                groups=form.cleaned_data["groups"],
                by=request.user,
                note=form.cleaned_data["reason"],
            )
        except StaleVersion:
            stale = True
        except CardInvalid as exc:
            _add_errors(form, exc)
        else:
            return _after_verification(
                request, rnd, child, f"{child.name}：{v.get_result_display()}"
            )
    if is_plan and plan_form.is_valid():
        try:
            services.save_vacation_plan(
                round=rnd, child=child, data=plan_form.values, by=request.user
            )
        except CardInvalid as exc:
            _add_errors(plan_form, exc)
        else:
            return _after_verification(
                request, rnd, child, f"已保存{child.name}的假期去向与安全责任书"
            )
    bad = form.errors or plan_form.errors
    _log_phones(request, child, "核实档卡时查看完整电话号码")
    return render(
        request,
        "screening/verify_child.html",
        {
            "round": rnd,
            "child": child,
            "form": form,
            "plan_form": plan_form,
            "stale": stale,
            "check": rnd.verifications.filter(child=child).select_related("verified_by").first(),
            "freshness": services.card_freshness(child),
            "asked": _asked(rnd, child),
            "next_child": _next_in_class(child, _to_verify(request, rnd)),
        },
        status=409 if stale else (422 if bad else 200),
    )


def _reads_health(request: HttpRequest, child: Child) -> bool:
    return not hidden_sections(request.user, child) & HEALTH_FIELDS


def _asked(rnd: VerificationRound, child: Child) -> dict[str, bool]:
    """What the round asks of this child that is still missing (plan, pledge)."""
    one = Child.objects.filter(pk=child.pk)
    return {
        "plan": services.asked_children(one, rnd.plans_of).exists(),
        "pledge": services.asked_children(one, rnd.pledges_of).exists(),
        "plan_missing": services.missing_plans(rnd, one).exists(),
        "pledge_missing": services.missing_pledges(rnd, one).exists(),
    }


def _to_verify(request: HttpRequest, rnd: VerificationRound):
    """The round's children this user may verify with work left (card, plan or pledge)."""
    return services.round_todo(rnd, services.round_children(rnd, _scope(request, "change")))


def _after_verification(request: HttpRequest, rnd: VerificationRound, child: Child, done: str):
    """Stay while this child's card, plan or pledge is still to do; else on to the next child
    of the class with work left, or back to the class's list."""
    here = reverse("screening:verify_child", args=[rnd.pk, child.pk])
    if _to_verify(request, rnd).filter(pk=child.pk).exists():
        messages.success(request, done)
        verified = rnd.verifications.filter(child=child).exists()
        return redirect(here + ("#plan" if verified else ""))
    nxt = _next_in_class(child, _to_verify(request, rnd))
    if nxt is not None:
        messages.success(request, f"{done}。下一个：{nxt.name}")
        return redirect("screening:verify_child", pk=rnd.pk, child_pk=nxt.pk)
    messages.success(request, f"{done}；本班已全部核实")
    url = reverse("screening:round", args=[rnd.pk])
    return redirect(f"{url}?class={child.school_class_id}")


def _plan_initial(plan: VacationPlan | None, child: Child) -> dict:
    if plan is None:
        guardian = getattr(child, "guardian", None)
        return {
            "with_whom": guardian.name if guardian else "",
            "contact_phone": guardian.phone if guardian else "",
            "destination": "home",
        }
    return {
        "destination": plan.destination,
        "place": plan.place,
        "with_whom": plan.with_whom,
        "contact_phone": plan.contact_phone,
        "activities": plan.activities,
        "pledge_returned": plan.pledge_returned,
        "pledge_returned_on": plan.pledge_returned_on.isoformat()
        if plan.pledge_returned_on
        else "",
        "pledge_items": plan.pledge_items,
    }


@writer_required
@require_POST
def sign_off(request: HttpRequest, pk: int, grade: int) -> HttpResponse:
    """The grade leader signs off the grade (领导包年级)."""
    rnd = get_object_or_404(
        VerificationRound.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    if not services.can_sign_off(request.user, rnd, grade):
        raise PermissionDenied("只有该年级的年级负责人或校领导可以签字确认")
    try:
        services.sign_off_grade(
            round=rnd, grade=grade, by=request.user, note=request.POST.get("note", "")
        )
    except CardInvalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
        # the list below shows who is missing what
        url = reverse("screening:round", args=[rnd.pk])
        return redirect(f"{url}?grade={grade}&state=todo#results")
    else:
        rnd.refresh_from_db()
        messages.success(
            request, "已签字确认" + ("；各年级均已签字，本轮核实已结束" if not rnd.is_open else "")
        )
    return redirect("screening:round", pk=rnd.pk)


# --- freshness -------------------------------------------------------------------------------


@login_required
def stale_list(request: HttpRequest) -> HttpResponse:
    """Cards in scope with some group of fields not verified this term."""
    term = services.this_term()
    children = services.stale_cards(_scope(request), term)
    if request.GET.get("mine") == "1":
        children = children.filter(responsible_teacher=request.user)
    children = children.select_related("school", "school_class").prefetch_related("checks")
    children = children.order_by(
        "school_id", "school_class__grade", "school_class__class_no", "name", "id"
    )
    page = Paginator(children, PAGE_SIZE).get_page(request.GET.get("page"))
    for child in page.object_list:
        fresh = {c.group for c in child.checks.all() if c.term == term}
        child.stale_groups = [g for g in services.FieldGroup if g.value not in fresh]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "screening/stale.html",
        {"page": page, "term": term, "query": query.urlencode(), "f": request.GET},
    )


@login_required
def card_checks(request: HttpRequest, child_pk: int) -> HttpResponse:
    """When each group of the card was last verified and by whom, and the dated transitions.
    An HTMX request gets the fragment, for embedding in the card page."""
    child = get_object_or_404(_scope(request).select_related("school", "school_class"), pk=child_pk)
    ctx = {
        "child": child,
        "freshness": services.card_freshness(child),
        "timeline": placement_timeline(child),
        "term": services.this_term(),
    }
    template = (
        "screening/_card_checks.html" if is_partial(request) else "screening/card_checks.html"
    )
    return render(request, template, ctx)
