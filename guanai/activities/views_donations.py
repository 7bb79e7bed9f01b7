"""Pages of donations (捐赠): the list and recording a gift, one donation with its allocations and
stories, the donor's certificate (PDF, logged) and the fairness check."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from guanai.children.models import Child
from guanai.lib.errors import Invalid

from . import donations, services
from .models import Donation, DonorKind, GiftKind
from .views import PAGE_SIZE, _managed

DONATION_KEYS = (
    "donor",
    "donor_kind",
    "donor_contact",
    "kind",
    "item",
    "amount",
    "received_on",
    "notes",
)


ALLOCATION_KEYS = ("amount", "what", "handed_on", "handed_by", "receipt_code", "reason")


@login_required
def donation_list(request: HttpRequest) -> HttpResponse:
    schools = list(_managed(request))
    values: dict[str, Any] = {"kind": GiftKind.MONEY, "donor_kind": DonorKind.PERSON}
    errors: dict[str, str] = {}
    if request.method == "POST":
        services.check_manager(request.user)
        values = {k: request.POST.get(k, "") for k in (*DONATION_KEYS, "school")}
        school = (
            schools[0]
            if len(schools) == 1
            else next((s for s in schools if str(s.pk) == values["school"]), None)
        )
        try:
            if school is None:
                raise Invalid({"school": "请选择学校"})
            donation = donations.record_donation(school=school, values=values, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已登记 {donation.donor} 的捐赠")
            return redirect("activities:donation", donation.pk)
    qs = (
        Donation.objects.visible_to(request.user)
        .select_related("school")
        .with_allocated()
        .order_by("-received_on", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/donations.html",
        {
            "page": page,
            "schools": schools,
            "v": values,
            "errors": errors,
            "donor_kinds": DonorKind.choices,
            "gift_kinds": GiftKind.choices,
            "today": timezone.localdate(),
        },
    )


@login_required
def donation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    donation = get_object_or_404(
        Donation.objects.visible_to(request.user).select_related("school").with_allocated(), pk=pk
    )
    may_manage = services.may_manage(request.user, donation.school)
    values: dict[str, Any] = {"handed_on": timezone.localdate().isoformat()}
    errors: dict[str, str] = {}
    stories = donation.stories
    if request.method == "POST" and "stories" in request.POST:
        stories = request.POST.get("stories", "")
        try:
            donations.set_stories(donation=donation, stories=stories, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, "已保存给捐赠方的故事")
            return redirect("activities:donation", donation.pk)
    elif request.method == "POST":
        services.check_manager(request.user, donation.school)
        values = {k: request.POST.get(k, "") for k in (*ALLOCATION_KEYS, "child")}
        try:
            raw = values["child"]
            child = (
                Child.objects.visible_to(request.user)
                .filter(pk=int(raw) if raw.isdigit() else 0)
                .first()
            )
            if child is None:
                raise Invalid({"child": "请选择儿童"})
            donations.allocate(donation=donation, child=child, values=values, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已登记发放给 {child.name}")
            return redirect("activities:donation", donation.pk)
    allocations = (
        donation.allocations.filter(child__in=Child.objects.visible_to(request.user))
        .select_related("child__school_class")
        .order_by("-handed_on", "-id")
    )
    children = (
        Child.objects.visible_to(request.user)
        .active()
        .filter(school=donation.school)
        .select_related("school_class")
        .order_by("school_class__grade", "school_class__class_no", "name_pinyin")
        if may_manage
        else []
    )
    return render(
        request,
        "activities/donation.html",
        {
            "d": donation,
            "allocations": allocations,
            "may_manage": may_manage,
            "children": children,
            "v": values,
            "errors": errors,
            "stories": stories,
            "stories_left_out": donations.story_problems(donation, donation.stories)
            if donation.stories
            else "",
        },
    )


@login_required
def donation_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The donor's certificate (PDF) for those who manage the school's donations; each
    download written to the access log."""
    donation = get_object_or_404(
        Donation.objects.visible_to(request.user).select_related("school"), pk=pk
    )
    services.check_manager(request.user, donation.school)
    return certificate_response(request, donation)


def certificate_response(request: HttpRequest, donation: Donation) -> HttpResponse:
    from guanai.accounts.models import AccessAction
    from guanai.accounts.services import log_access

    content = donations.certificate_pdf(donation)
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        school=donation.school,
        detail=f"下载捐赠证书（{donation.donor}，{donation.received_on:%Y-%m-%d}）",
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="donation-{donation.pk}.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
def fairness(request: HttpRequest) -> HttpResponse:
    return render(request, "activities/fairness.html", donations.fairness(request.user))
