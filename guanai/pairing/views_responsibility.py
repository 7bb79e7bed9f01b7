"""Named responsibility pages (领导包年级、教师包班): the school's grades and classes with their
leader and teacher per term and the gaps; the responsible teacher of each child; each person's
open work. Units come from `permissions.visible_classes`, children from `visible_to`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts import scope
from guanai.accounts.models import Role, RoleAssignment
from guanai.accounts.permissions import writer_required
from guanai.children.models import LEFT_BEHIND, Child, Enrolment
from guanai.contacts.services import follow_ups_for
from guanai.org.models import School, SchoolClass

from .forms import ClassTeacherForm, GradeLeaderForm, ResponsibleForm, put_errors
from .permissions import arranged_classes, check_manage_school, managed_schools, visible_classes
from .responsibility import (
    UNIT_ROLES,
    Invalid,
    assign_class_teacher,
    assign_grade_leader,
    classes_taught,
    end_responsibility,
    fill_responsible_teachers,
    open_work,
    overview,
    people_overseen,
    school_gaps,
    set_responsible_teacher,
    valid_on,
)
from .services import school_staff

LIMIT = 30  # rows of a to-do list before "全部"


def _schools(request: HttpRequest) -> QuerySet[School]:
    return School.objects.filter(pk__in=visible_classes(request.user).values("school_id")).order_by(
        "id"
    )


def _forms(school: School, data=None, *, which: str = "") -> dict:
    staff = school_staff(school)
    classes = school.classes.filter(active=True).order_by("grade", "class_no")
    grades = sorted({c.grade for c in classes})
    return {
        "grade_form": GradeLeaderForm(
            data if which == "grade" else None, staff=staff, grades=grades, prefix="g"
        ),
        "class_form": ClassTeacherForm(
            data if which == "class" else None, staff=staff, classes=classes, prefix="c"
        ),
    }


def _page(
    request: HttpRequest, school: School, *, forms: dict | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    classes = visible_classes(user).filter(school=school)
    if request.GET.get("mine") == "1":
        mine = classes.filter(pk__in=classes_taught(user).values("pk"))
        classes = mine | classes.filter(pk__in=scope.classes(user, "lead_grade").values("pk"))
    can_manage = not user.is_read_only and managed_schools(user).filter(pk=school.pk).exists()
    ctx = {
        "school": school,
        "schools": _schools(request),
        "picture": overview(classes, children=Child.objects.visible_to(user)),
        "can_manage": can_manage,
        "mine": request.GET.get("mine") == "1",
        **((forms or _forms(school)) if can_manage else {}),
    }
    return render(request, "pairing/responsibility.html", ctx, status=status)


@login_required
def responsibility(request: HttpRequest) -> HttpResponse:
    """包年级、包班 for one school (a town sees each school's gaps first)."""
    schools = _schools(request)
    if not schools:
        raise PermissionDenied("您的角色没有负责的年级或班级")
    code = request.GET.get("school", "")
    if not code and len(schools) > 1:
        rows = school_gaps(schools, children=Child.objects.visible_to(request.user))
        return render(request, "pairing/responsibility_town.html", {"rows": rows})
    school = get_object_or_404(schools, code=code) if code else schools[0]
    return _page(request, school)


def _school_for_write(request: HttpRequest) -> School:
    school = get_object_or_404(_schools(request), code=request.POST.get("school", ""))
    check_manage_school(request.user, school)
    return school


def _back(school: School) -> HttpResponse:
    return redirect(reverse("pairing:responsibility") + f"?school={school.code}")


@writer_required
@require_POST
def assign_grade(request: HttpRequest) -> HttpResponse:
    """Name a grade's leader for a term or dates."""
    school = _school_for_write(request)
    forms = _forms(school, request.POST, which="grade")
    form = forms["grade_form"]
    if form.is_valid():
        d = form.cleaned_data
        try:
            ra = assign_grade_leader(
                school=school,
                grade=d["grade"],
                user=d["user"],
                valid_from=d["valid_from"],
                valid_to=d["valid_to"],
                replace=d["replace"],
                by=request.user,
            )
        except Invalid as exc:
            put_errors(form, exc)
        else:
            messages.success(request, f"已指定 {ra.user} 为{ra.unit_label}负责人")
            return _back(school)
    return _page(request, school, forms=forms, status=422)


@writer_required
@require_POST
def assign_class(request: HttpRequest) -> HttpResponse:
    """Name a class's class teacher for a term or dates."""
    school = _school_for_write(request)
    forms = _forms(school, request.POST, which="class")
    form = forms["class_form"]
    if form.is_valid():
        d = form.cleaned_data
        try:
            ra = assign_class_teacher(
                school_class=d["school_class"],
                user=d["user"],
                valid_from=d["valid_from"],
                valid_to=d["valid_to"],
                replace=d["replace"],
                by=request.user,
            )
        except Invalid as exc:
            put_errors(form, exc)
        else:
            messages.success(request, f"已指定 {ra.user} 为{ra.school_class}班主任")
            return _back(school)
    return _page(request, school, forms=forms, status=422)


@writer_required
@require_POST
def end_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    """End a grade-leader or class-teacher assignment today (the row and history stay)."""
    classes = visible_classes(request.user)
    ra = get_object_or_404(
        RoleAssignment.objects.filter(role__in=UNIT_ROLES, school__in=_schools(request)), pk=pk
    )
    if ra.school_class_id and not classes.filter(pk=ra.school_class_id).exists():
        raise PermissionDenied("没有权限")
    check_manage_school(request.user, ra.school)
    try:
        end_responsibility(assignment=ra, by=request.user)
    except Invalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    else:
        messages.success(request, f"已结束 {ra.user} 的指定（{ra.unit_label}）")
    return _back(ra.school)


def _class(request: HttpRequest, pk: int) -> SchoolClass:
    return get_object_or_404(visible_classes(request.user).select_related("school"), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def class_children(request: HttpRequest, pk: int) -> HttpResponse:
    """A class's children and their responsible teachers; those who arrange the class name one
    per child (default: the class teacher) in one form with one 保存."""
    school_class = _class(request, pk)
    user = request.user
    can_arrange = arranged_classes(user).filter(pk=school_class.pk).exists()
    kids = (
        Child.objects.visible_to(user)
        .filter(school_class=school_class, enrolment=Enrolment.ENROLLED)
        .select_related("responsible_teacher")
        .order_by("name", "pk")
    )
    staff = school_staff(school_class.school)
    status, chosen, errors = 200, {}, {}
    if request.method == "POST":
        if user.is_read_only or not can_arrange:
            raise PermissionDenied("没有指定责任教师的权限")
        chosen = _posted_teachers(request, school_class)
        errors, changed = _save_responsible(chosen, staff=staff, by=user)
        if not errors:
            messages.success(
                request, f"已保存：{changed} 名儿童的责任教师有变化" if changed else "没有改动"
            )
            return redirect("pairing:class_children", pk=school_class.pk)
        status = 422
    rows = sorted(kids, key=lambda c: (c.category not in LEFT_BEHIND, c.name, c.pk))
    for c in rows:
        c.chosen = chosen.get(c.pk, (c, str(c.responsible_teacher_id or "")))[1]
        c.errors = errors.get(c.pk, [])
    return render(
        request,
        "pairing/class_children.html",
        {
            "school_class": school_class,
            "children": rows,
            "staff": list(staff),
            "can_arrange": can_arrange and not user.is_read_only,
            "failed": len(errors),
            "teachers": [
                ra.user
                for ra in valid_on(
                    RoleAssignment.objects.filter(
                        role=Role.CLASS_TEACHER, school_class=school_class
                    ),
                    timezone.localdate(),
                ).select_related("user")
            ],
        },
        status=status,
    )


def _posted_teachers(request: HttpRequest, school_class: SchoolClass) -> dict[int, tuple]:
    """{child id: (child, chosen teacher id as posted)} from the `teacher_<child id>` fields;
    a child the user may not change, or of another class, is not found (404)."""
    posted = {
        int(key.removeprefix("teacher_")): value
        for key, value in request.POST.items()
        if key.startswith("teacher_") and key.removeprefix("teacher_").isdigit()
    }
    children = Child.objects.visible_to(request.user, "change").filter(
        school_class=school_class, enrolment=Enrolment.ENROLLED, pk__in=posted
    )
    found = {c.pk: c for c in children}
    if not posted or set(posted) - set(found):
        raise Http404("没有找到这名儿童")
    return {pk: (found[pk], value) for pk, value in posted.items()}


def _save_responsible(chosen: dict[int, tuple], *, staff, by) -> tuple[dict[int, list], int]:
    """Save every changed choice, or none: ({child id: [messages]}, number changed)."""
    errors: dict[int, list] = {}
    picks = {}
    for pk, (child, value) in chosen.items():
        form = ResponsibleForm({"teacher": value}, staff=staff)
        if form.is_valid():
            picks[pk] = (child, form.cleaned_data["teacher"])
        else:
            errors[pk] = form.errors["teacher"]
    changed = [
        (child, teacher)
        for child, teacher in picks.values()
        if child.responsible_teacher_id != (teacher.pk if teacher else None)
    ]
    if errors:
        return errors, 0
    try:
        with transaction.atomic():
            for child, teacher in changed:
                try:
                    set_responsible_teacher(child=child, teacher=teacher, by=by)
                except Invalid as exc:
                    errors[child.pk] = list(exc.errors.values())
                    raise
    except Invalid:
        return errors, 0
    return {}, len(changed)


@writer_required
@require_POST
def fill_responsible(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the class teacher as responsible teacher of every child of the class without one."""
    school_class = _class(request, pk)
    if not arranged_classes(request.user).filter(pk=school_class.pk).exists():
        raise PermissionDenied("没有指定责任教师的权限")
    n = fill_responsible_teachers(
        children=Child.objects.visible_to(request.user, "change").filter(school_class=school_class),
        by=request.user,
    )
    if n:
        messages.success(request, f"已为 {n} 名儿童指定班主任为责任教师")
    else:
        messages.info(request, "没有需要指定的儿童（或本班还没有班主任）")
    return redirect("pairing:class_children", pk=school_class.pk)


@login_required
def work(request: HttpRequest, user_pk: int | None = None) -> HttpResponse:
    """Open work of a person: cards to complete, pair drafts to review, and for leaders the
    classes they oversee with each teacher's counts."""
    person = (
        get_object_or_404(people_overseen(request.user), pk=user_pk)
        if user_pk is not None
        else request.user
    )
    visible = Child.objects.visible_to(request.user)
    work = open_work(person, scope=visible)
    # the follow-ups promised on visits and calls (待跟进), the overdue first in line
    today = timezone.localdate()
    open_follow_ups = follow_ups_for(person).filter(child__in=visible.values("pk"))
    counts = open_follow_ups.aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(follow_up_by__lt=today))
    )
    return render(
        request,
        "pairing/work.html",
        {
            "work": work,
            "person": person,
            "is_me": person.pk == request.user.pk,
            "follow_ups": list(open_follow_ups[:LIMIT]),
            "follow_ups_count": counts["total"],
            "overdue": counts["overdue"],
            "today": today,
        },
    )
