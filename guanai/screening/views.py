"""Pages of 摸底排查 (screening campaigns): open, list, screen a child, confirm 非留守, close.

Campaigns are found through `visible_to` (a school the user has no role in: 404); the children
listed always come from Child.objects.visible_to(user); marking a child needs the card's
"change" scope (visible but not editable: 403); read-only roles get 403 on every write.
Verification (核实) is in `views_verify.py`; what both share is in `pages.py`.
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

from guanai.accounts.permissions import writer_required
from guanai.children.models import Child
from guanai.children.services import StaleVersion
from guanai.children.validation import CardInvalid
from guanai.lib.htmx import is_partial

from . import services, verification
from .forms import (
    SCREENING_KEYS,
    CampaignForm,
    CloseForm,
    SituationForm,
)
from .models import (
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
    schools_managed_by,
    schools_visible_to,
)
from .pages import (
    PAGE_SIZE,
    add_card_errors,
    child_for_change,
    filter_children,
    log_phones_shown,
    manages_school,
    next_in_class,
    scoped_children,
)


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
    scope = scoped_children(request)
    for school in schools:
        c = campaigns.get(school.pk)
        rows.append(
            {
                "school": school,
                "campaign": c,
                "progress": services.campaign_progress(c, scope) if c else None,
                "rounds": [
                    (r, verification.round_progress(r, scope)) for r in rounds.get(school.pk, [])
                ],
                "managed": manages_school(request, school),
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
            add_card_errors(form, exc)
        else:
            messages.success(request, f"已发起{c.school.name} {c.term} 学期摸底排查")
            return redirect("screening:campaign", pk=c.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for e in errors:
            messages.error(request, f"{label}：{e}" if label else e)
    return redirect("screening:index")


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Completion per grade and class and the list of students, screened or not."""
    campaign = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    scope = scoped_children(request)
    done_ids = campaign.records.values("child_id")
    children = filter_children(request, services.screening_children(campaign, scope), done_ids)
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
    ctx["managed"] = manages_school(request, campaign.school)
    return render(request, "screening/campaign.html", ctx)


@writer_required
@require_http_methods(["GET", "POST"])
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(
        ScreeningCampaign.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    if not manages_school(request, campaign.school):
        raise PermissionDenied("只有校领导和镇管理员可以结束摸底排查")
    form = CloseForm(request.POST or None)
    progress = services.campaign_progress(campaign, Child.objects.all())
    if request.method == "POST" and form.is_valid():
        try:
            services.close_campaign(
                campaign=campaign, by=request.user, reason=form.cleaned_data["reason"]
            )
        except CardInvalid as exc:
            add_card_errors(form, exc)
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
    child = child_for_change(request, child_pk)
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
            add_card_errors(form, exc)
        else:
            return _after_screening(request, campaign, child)
    record = campaign.records.filter(child=child).select_related("screened_by").first()
    log_phones_shown(request, child, "摸底排查核对时查看完整电话号码")
    return render(
        request,
        "screening/screen_child.html",
        {
            "campaign": campaign,
            "child": child,
            "form": form,
            "stale": stale,
            "record": record,
            "next_child": next_in_class(child, _to_screen(request, campaign)),
        },
        status=409 if stale else (422 if form.errors else 200),
    )


def _to_screen(request: HttpRequest, campaign: ScreeningCampaign):
    """The campaign's children this user may screen who are not screened yet."""
    return services.screening_children(campaign, scoped_children(request, "change")).exclude(
        pk__in=campaign.records.values("child_id")
    )


def _after_screening(request: HttpRequest, campaign: ScreeningCampaign, child: Child):
    """On to the next child of the class still to screen, or back to the class's list."""
    if request.POST.get("next") or request.GET.get("next"):
        messages.success(request, f"{child.name} 已标记为已摸排")
        return redirect(_next_url(request, "screening:campaign", campaign.pk))
    nxt = next_in_class(child, _to_screen(request, campaign))
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
    child = child_for_change(request, child_pk)
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
        services.screening_children(campaign, scoped_children(request))
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
