"""Schools and classes, managed by town administrators."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from guanai.accounts.permissions import town_admin_required
from guanai.accounts.views import _towns

from .forms import SchoolClassForm, SchoolForm
from .models import School
from .services import add_school


@town_admin_required
@require_http_methods(["GET", "POST"])
def school_list(request: HttpRequest) -> HttpResponse:
    schools = (
        School.objects.filter(town__in=_towns(request))
        .annotate(
            n_classes=Count("classes", distinct=True),
            n_children=Count("children", filter=Q(children__enrolment="enrolled"), distinct=True),
        )
        .order_by("id")
    )
    form = SchoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        town = _towns(request).first()
        school = add_school(
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            town_name=town.name,
            is_central=form.cleaned_data["is_central"],
        )
        messages.success(request, f"已添加学校 {school.name}")
        return redirect("org:schools")
    return render(request, "org/schools.html", {"schools": schools, "form": form})


@town_admin_required
@require_http_methods(["GET", "POST"])
def school_detail(request: HttpRequest, code: str) -> HttpResponse:
    school = get_object_or_404(School.objects.filter(town__in=_towns(request)), code=code)
    form = SchoolClassForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        sc = form.save(commit=False)
        sc.school = school
        sc.save()
        messages.success(request, f"已添加 {sc}")
        return redirect("org:school", code=school.code)
    classes = school.classes.annotate(
        n=Count("children", filter=Q(children__enrolment="enrolled"))
    ).order_by("grade", "class_no")
    return render(request, "org/school.html", {"school": school, "classes": classes, "form": form})
