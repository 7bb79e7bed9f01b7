"""Pages of children's homes (留守儿童之家): the list and setting one up, the door (sign-in and
sign-out, answered to HTMX with the changed row), family calls, the duty rota and a month's use."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts import scope
from guanai.children.models import Child
from guanai.lib.errors import Invalid
from guanai.lib.htmx import is_partial

from . import homes, services
from .models import Home
from .views import _managed, _posted_child, _term_info


def _home(request: HttpRequest, pk: int) -> Home:
    return get_object_or_404(Home.objects.visible_to(request.user).select_related("school"), pk=pk)


@login_required
def home_list(request: HttpRequest) -> HttpResponse:
    schools = list(_managed(request))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        services.check_manager(request.user)
        values = {
            k: request.POST.get(k, "") for k in ("name", "opening_hours", "equipment", "school")
        }
        school = (
            schools[0]
            if len(schools) == 1
            else next((s for s in schools if str(s.pk) == values["school"]), None)
        )
        try:
            if school is None:
                raise Invalid({"school": "请选择学校"})
            home = homes.create_home(school=school, values=values, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            return redirect("activities:home", home.pk)
    listed = Home.objects.visible_to(request.user).select_related("school").order_by("id")
    return render(
        request,
        "activities/homes.html",
        {"homes": listed, "schools": schools, "v": values, "errors": errors},
    )


@login_required
def home_door(request: HttpRequest, pk: int) -> HttpResponse:
    """The door (tablet width): search by name or pinyin initials, tap to sign in; the children
    inside, each with 签退 and 亲情电话."""
    home = _home(request, pk)
    q = request.GET.get("q", "").strip()
    may_sign = (
        not request.user.is_read_only
        and scope.schools(request.user, "contact").filter(pk=home.school_id).exists()
    )
    found: list[Child] = []
    if q and may_sign:
        found = list(
            services.contactable(request.user)
            .active()
            .search(q)
            .select_related("school_class")
            .order_by("school_class__grade", "school_class__class_no", "name_pinyin")[:12]
        )
    context = {
        "home": home,
        "q": q,
        "found": found,
        "inside": homes.present_now(home, request.user),
        "may_sign": may_sign,
        "on_duty": homes.on_duty(home),
    }
    if is_partial(request, "found"):
        return render(request, "activities/_door_found.html", context)
    return render(request, "activities/door.html", context)


@login_required
@require_POST
def home_sign(request: HttpRequest, pk: int) -> HttpResponse:
    home = _home(request, pk)
    services.check_writer(request.user)
    child = _posted_child(request)
    try:
        if request.POST.get("action") == "out":
            homes.sign_out(home=home, child=child, by=request.user)
            messages.success(request, f"{child.name} 已签退")
        else:
            homes.sign_in(home=home, child=child, by=request.user)
            messages.success(request, f"{child.name} 已签到")
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    return redirect("activities:home", home.pk)


@login_required
def home_call(request: HttpRequest, pk: int, child_id: int) -> HttpResponse:
    home = _home(request, pk)
    services.check_writer(request.user)
    child = services.visible_child(request.user, child_id)
    errors: dict[str, str] = {}
    values = {"with_whom": "", "notes": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            homes.log_family_call(home=home, child=child, by=request.user, **values)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已记下 {child.name} 的亲情电话")
            return redirect("activities:home", home.pk)
    return render(
        request,
        "activities/call.html",
        {"home": home, "child": child, "v": values, "errors": errors},
    )


@login_required
def home_rota(request: HttpRequest, pk: int) -> HttpResponse:
    """The home's rota (值班表) for the coming two weeks; the school's managers add and remove
    slots, staff of the school only."""
    from .models import HomeDuty

    home = _home(request, pk)
    may_manage = services.may_manage(request.user, home.school)
    values: dict[str, Any] = {
        "on": timezone.localdate().isoformat(),
        "starts_at": "16:00",
        "ends_at": "18:00",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        services.check_manager(request.user, home.school)
        if "remove" in request.POST:
            raw = request.POST.get("remove", "")
            duty = get_object_or_404(
                HomeDuty.objects.filter(home=home), pk=int(raw) if raw.isdigit() else 0
            )
            homes.remove_duty(duty=duty, by=request.user)
            messages.success(request, "已从值班表中删除")
            return redirect("activities:rota", home.pk)
        values = {k: request.POST.get(k, "") for k in ("on", "starts_at", "ends_at", "staff")}
        try:
            duty = homes.add_duty(home=home, values=values, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已安排 {duty.staff} {duty.on:%m月%d日} {duty.slot} 值班")
            return redirect("activities:rota", home.pk)
    return render(
        request,
        "activities/rota.html",
        {
            "home": home,
            "rota": homes.rota(home, days=14),
            "on_duty": homes.on_duty(home),
            "may_manage": may_manage,
            "staff": homes.home_staff(home) if may_manage else [],
            "v": values,
            "errors": errors,
        },
    )


@login_required
def home_use(request: HttpRequest, pk: int) -> HttpResponse:
    home = _home(request, pk)
    month = request.GET.get("month", "")
    try:
        use = homes.monthly_use(home, request.user, month=month or None)
    except Invalid:
        use = homes.monthly_use(home, request.user)
    return render(
        request,
        "activities/use.html",
        {
            "home": home,
            "use": use,
            "never": homes.never_came(home, request.user),
            **_term_info(),
        },
    )
