"""Pages of 核实 (verification before a vacation): rounds, verifying a child, signing off a grade,
and each card's freshness (stale cards, a card's checks)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts.permissions import writer_required
from guanai.children.access import (
    HEALTH_FIELDS,
    hidden_sections,
)
from guanai.children.models import Child
from guanai.children.services import StaleVersion
from guanai.children.validation import CardInvalid
from guanai.lib.htmx import is_partial
from guanai.screening.transitions import placement_timeline

from . import services, verification
from .forms import (
    READ_ONLY_GROUPS,
    VERIFY_KEYS,
    RoundForm,
    VacationPlanForm,
    VerifyForm,
)
from .models import (
    AskedOf,
    CardVerification,
    FieldGroup,
    VacationPlan,
    VerificationRound,
    schools_managed_by,
)
from .pages import (
    PAGE_SIZE,
    add_card_errors,
    child_for_change,
    filter_children,
    log_phones_shown,
    next_in_class,
    scoped_children,
)


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
                r = verification.open_round(
                    school=form.cleaned_data["school"],
                    term=form.cleaned_data["term"],
                    vacation=form.cleaned_data["vacation"],
                    deadline=form.cleaned_data["deadline"],
                    plans_of=form.cleaned_data["plans_of"] or AskedOf.LEFT_BEHIND,
                    pledges_of=form.cleaned_data["pledges_of"] or AskedOf.LEFT_BEHIND,
                    by=request.user,
                )
            except CardInvalid as exc:
                add_card_errors(form, exc)
            else:
                messages.success(request, f"已发起{r}")
                return redirect("screening:round", pk=r.pk)
    rounds = VerificationRound.objects.visible_to(request.user).select_related("school")
    scope = scoped_children(request)
    rows = [(r, verification.round_progress(r, scope)) for r in rounds[:40]]
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
    scope = scoped_children(request)
    done_ids = rnd.verifications.values("child_id")
    all_children = verification.round_children(rnd, scope)
    states = {
        "no_plan": verification.missing_plans(rnd, all_children).values("pk"),
        "no_pledge": verification.missing_pledges(rnd, all_children).values("pk"),
        "todo": verification.round_todo(rnd, all_children).values("pk"),
    }
    children = filter_children(request, all_children, done_ids, states)
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
    progress = verification.round_progress(rnd, scope)
    for g in progress["grades"]:
        g["can_sign"] = (
            rnd.is_open
            and not g["signed_off"]
            and verification.can_sign_off(request.user, rnd, g["grade"])
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
    child = child_for_change(request, child_pk)
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
            v = verification.verify_card(
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
            add_card_errors(form, exc)
        else:
            return _after_verification(
                request, rnd, child, f"{child.name}：{v.get_result_display()}"
            )
    if is_plan and plan_form.is_valid():
        try:
            verification.save_vacation_plan(
                round=rnd, child=child, data=plan_form.values, by=request.user
            )
        except CardInvalid as exc:
            add_card_errors(plan_form, exc)
        else:
            return _after_verification(
                request, rnd, child, f"已保存{child.name}的假期去向与安全责任书"
            )
    bad = form.errors or plan_form.errors
    log_phones_shown(request, child, "核实档卡时查看完整电话号码")
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
            "next_child": next_in_class(child, _to_verify(request, rnd)),
        },
        status=409 if stale else (422 if bad else 200),
    )


def _reads_health(request: HttpRequest, child: Child) -> bool:
    return not hidden_sections(request.user, child) & HEALTH_FIELDS


def _asked(rnd: VerificationRound, child: Child) -> dict[str, bool]:
    """What the round asks of this child that is still missing (plan, pledge)."""
    one = Child.objects.filter(pk=child.pk)
    return {
        "plan": verification.asked_children(one, rnd.plans_of).exists(),
        "pledge": verification.asked_children(one, rnd.pledges_of).exists(),
        "plan_missing": verification.missing_plans(rnd, one).exists(),
        "pledge_missing": verification.missing_pledges(rnd, one).exists(),
    }


def _to_verify(request: HttpRequest, rnd: VerificationRound):
    """The round's children this user may verify with work left (card, plan or pledge)."""
    return verification.round_todo(
        rnd, verification.round_children(rnd, scoped_children(request, "change"))
    )


def _after_verification(request: HttpRequest, rnd: VerificationRound, child: Child, done: str):
    """Stay while this child's card, plan or pledge is still to do; else on to the next child
    of the class with work left, or back to the class's list."""
    here = reverse("screening:verify_child", args=[rnd.pk, child.pk])
    if _to_verify(request, rnd).filter(pk=child.pk).exists():
        messages.success(request, done)
        verified = rnd.verifications.filter(child=child).exists()
        return redirect(here + ("#plan" if verified else ""))
    nxt = next_in_class(child, _to_verify(request, rnd))
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
    if not verification.can_sign_off(request.user, rnd, grade):
        raise PermissionDenied("只有该年级的年级负责人或校领导可以签字确认")
    try:
        verification.sign_off_grade(
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
    children = services.stale_cards(scoped_children(request), term)
    if request.GET.get("mine") == "1":
        children = children.filter(responsible_teacher=request.user)
    children = children.select_related("school", "school_class").prefetch_related("checks")
    children = children.order_by(
        "school_id", "school_class__grade", "school_class__class_no", "name", "id"
    )
    page = Paginator(children, PAGE_SIZE).get_page(request.GET.get("page"))
    for child in page.object_list:
        fresh = {c.group for c in child.checks.all() if c.term == term}
        child.stale_groups = [g for g in FieldGroup if g.value not in fresh]
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
    child = get_object_or_404(
        scoped_children(request).select_related("school", "school_class"), pk=child_pk
    )
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
