"""Schools and classes: town administrators add schools and name their town; whoever manages a
school (scope "manage") corrects its name and its classes, closes and reopens them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts import scope
from guanai.accounts.permissions import town_admin_required
from guanai.accounts.views import _towns

from .forms import (
    ClassFields,
    SchoolClassForm,
    SchoolForm,
    SchoolNameForm,
    SchoolPhoneForm,
    TownNameForm,
)
from .models import School, SchoolClass
from .services import (
    OrgError,
    add_school,
    rename_class,
    rename_school,
    rename_town,
    set_class_active,
    set_school_active,
    set_school_phone,
)

ENROLLED = Q(children__enrolment="enrolled")


@town_admin_required
@require_http_methods(["GET", "POST"])
def school_list(request: HttpRequest) -> HttpResponse:
    schools = (
        School.objects.filter(town__in=_towns(request))
        .annotate(
            n_classes=Count("classes", filter=Q(classes__active=True), distinct=True),
            n_children=Count("children", filter=ENROLLED, distinct=True),
        )
        .order_by("-active", "id")
    )
    town = _towns(request).first()
    form = SchoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        school = add_school(
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            town_name=town.name,
            is_central=form.cleaned_data["is_central"],
        )
        messages.success(request, f"已添加学校 {school.name}")
        return redirect("org:schools")
    return render(
        request,
        "org/schools.html",
        {
            "schools": schools,
            "form": form,
            "town": town,
            "town_form": TownNameForm(initial={"name": town.name if town else ""}),
        },
    )


@town_admin_required
@require_POST
def town_rename(request: HttpRequest, pk: int) -> HttpResponse:
    town = get_object_or_404(scope.towns(request.user, "manage"), pk=pk)
    form = TownNameForm(request.POST)
    try:
        if not form.is_valid():
            raise OrgError(" ".join(form.errors["name"]))
        rename_town(town=town, name=form.cleaned_data["name"])
        messages.success(request, f"镇名称已改为 {town.name}")
    except OrgError as exc:
        messages.error(request, str(exc))
    return redirect("org:schools")


def _managed_school(request: HttpRequest, code: str) -> School:
    return get_object_or_404(scope.schools(request.user, "manage"), code=code)


@login_required
@require_http_methods(["GET", "POST"])
def school_detail(request: HttpRequest, code: str) -> HttpResponse:
    school = _managed_school(request, code)
    form = SchoolClassForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        sc = form.save()
        messages.success(request, f"已添加 {sc}")
        return redirect("org:school", code=school.code)
    classes = school.classes.annotate(n=Count("children", filter=ENROLLED)).order_by(
        "-active", "grade", "class_no"
    )
    return render(
        request,
        "org/school.html",
        {
            "school": school,
            "classes": classes,
            "form": form,
            "name_form": SchoolNameForm(initial={"name": school.name}),
            "phone_form": SchoolPhoneForm(initial={"phone": school.phone}),
            "can_close": scope.towns(request.user, "manage").filter(pk=school.town_id).exists(),
        },
    )


@login_required
@require_POST
def school_rename(request: HttpRequest, code: str) -> HttpResponse:
    school = _managed_school(request, code)
    form = SchoolNameForm(request.POST)
    if form.is_valid():
        rename_school(school=school, name=form.cleaned_data["name"])
        messages.success(request, f"学校名称已改为 {school.name}")
    else:
        messages.error(request, " ".join(form.errors["name"]))
    return redirect("org:school", code=school.code)


@login_required
@require_POST
def school_phone(request: HttpRequest, code: str) -> HttpResponse:
    """The school's phone, printed on letters to families."""
    school = _managed_school(request, code)
    form = SchoolPhoneForm(request.POST)
    if form.is_valid():
        set_school_phone(school=school, phone=form.cleaned_data["phone"])
        phone = school.phone or "（未填写）"
        messages.success(request, f"{school.name} 的电话已改为 {phone}")
    else:
        messages.error(request, " ".join(form.errors["phone"]))
    return redirect("org:school", code=school.code)


@town_admin_required
@require_POST
def school_active(request: HttpRequest, code: str) -> HttpResponse:
    """Close (停用) or reopen a school of the administrator's town."""
    school = get_object_or_404(
        School.objects.filter(town__in=scope.towns(request.user, "manage")), code=code
    )
    active = request.POST.get("active") == "1"
    try:
        set_school_active(school=school, active=active)
        messages.success(request, f"已{'重新启用' if active else '停用'} {school.name}")
    except OrgError as exc:
        messages.error(request, str(exc))
    return redirect("org:school", code=school.code)


def _managed_class(request: HttpRequest, pk: int) -> SchoolClass:
    return get_object_or_404(scope.classes(request.user, "manage").select_related("school"), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def class_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a class's grade or number; close or reopen it."""
    school_class = _managed_class(request, pk)
    initial = {"grade": school_class.grade, "class_no": school_class.class_no}
    form = ClassFields(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        old = str(school_class)
        try:
            rename_class(school_class=school_class, **form.cleaned_data)
        except OrgError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{old} 已改为 {school_class}")
            return redirect("org:school", code=school_class.school.code)
    n = school_class.children.filter(enrolment="enrolled").count()
    return render(
        request, "org/class_edit.html", {"school_class": school_class, "form": form, "n": n}
    )


@login_required
@require_POST
def class_active(request: HttpRequest, pk: int) -> HttpResponse:
    school_class = _managed_class(request, pk)
    active = request.POST.get("active") == "1"
    try:
        set_class_active(school_class=school_class, active=active)
        messages.success(request, f"已{'重新启用' if active else '停用'} {school_class}")
    except OrgError as exc:
        messages.error(request, str(exc))
        return redirect("org:class_edit", pk=school_class.pk)
    return redirect("org:school", code=school_class.school.code)
