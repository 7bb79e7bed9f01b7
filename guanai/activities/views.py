"""Pages of activities, phone-first (donations: views_donations.py; children's homes
(留守儿童之家): views_homes.py, which share this module's helpers).

Every page starts from the models' `visible_to` (outside the scope: 404); writing asks the
services, which raise PermissionDenied (403) for a role that may not and Invalid for bad input,
shown at the form. Attendance and the door sign-in answer HTMX with the row they changed.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai import exports
from guanai.accounts import scope
from guanai.children.models import Category, Child
from guanai.lib import dates
from guanai.lib.errors import Invalid
from guanai.lib.htmx import is_partial

from . import services
from .models import Activity, ActivityKind

PAGE_SIZE = 50


def _managed(request: HttpRequest):
    if request.user.is_read_only:
        return scope.schools(request.user, "manage").none()
    return scope.schools(request.user, "manage").order_by("code")


def _posted_child(request: HttpRequest) -> Child:
    """The child a form names, in the user's scope (else 404)."""
    raw = request.POST.get("child", "")
    return services.visible_child(request.user, int(raw) if raw.isdigit() else 0)


def _term_info() -> dict[str, Any]:
    term = dates.current_term(timezone.localdate())
    return {"term": term, "term_label": dates.term_label(term)}


# --- activities -------------------------------------------------------------------------------


def _activity(request: HttpRequest, pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.visible_to(request.user).select_related("school"), pk=pk
    )


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    qs = Activity.objects.visible_to(request.user).select_related("school")
    kind = request.GET.get("kind", "")
    if kind in ActivityKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("-starts_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/list.html",
        {
            "page": page,
            "kinds": ActivityKind.choices,
            "kind": kind,
            "may_plan": _managed(request).exists(),
            "publicity_count": services.publicity_count(request.user, term=_term_info()["term"]),
            **_term_info(),
        },
    )


FORM_KEYS = ("kind", "title", "goal", "starts_on", "ends_on", "place", "organiser", "partners")


@login_required
def activity_new(request: HttpRequest) -> HttpResponse:
    services.check_manager(request.user)
    schools = list(_managed(request))
    values: dict[str, Any] = {"kind": ActivityKind.SUMMER_CAMP}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in (*FORM_KEYS, "budget", "school")}
        school = next((s for s in schools if str(s.pk) == values["school"]), None)
        if len(schools) == 1:
            school = schools[0]
        try:
            if school is None:
                raise Invalid({"school": "请选择学校"})
            activity = services.create_activity(school=school, values=values, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已建立活动“{activity.title}”，请选择参加的儿童")
            return redirect("activities:detail", activity.pk)
    return render(
        request,
        "activities/new.html",
        {"schools": schools, "kinds": ActivityKind.choices, "v": values, "errors": errors},
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    may_manage = services.may_manage(request.user, activity.school)
    errors: dict[str, str] = {}
    if request.method == "POST":
        services.check_manager(request.user, activity.school)
        try:
            if "summary" in request.POST:
                services.update_activity(
                    activity=activity,
                    values={"summary": request.POST.get("summary", "")},
                    by=request.user,
                )
                messages.success(request, "活动总结已保存")
            else:
                ids = [int(x) for x in request.POST.getlist("children") if x.isdigit()]
                if not ids:
                    raise Invalid({"children": "请至少选择一名儿童"})
                services.add_participants(activity=activity, child_ids=ids, by=request.user)
                messages.success(request, f"已加入 {len(ids)} 名儿童")
        except Invalid as exc:
            errors = exc.errors
        else:
            return redirect("activities:detail", activity.pk)
    rows = (
        activity.participants.filter(child__in=Child.objects.visible_to(request.user))
        .select_related("child__school_class")
        .order_by(
            "child__school_class__grade", "child__school_class__class_no", "child__name_pinyin"
        )
    )
    pick: list[Child] = []
    klass = request.GET.get("class", "")
    category = request.GET.get("category", "")
    listed = request.GET.get("list", "")
    listed = listed if listed in services.LISTS else ""
    if may_manage and (klass or category or listed):
        pick = list(
            services.candidates(
                request.user,
                activity,
                klass=int(klass) if klass.isdigit() else None,
                category=category if category in (*Category.values, "left_behind") else "",
                listed=listed,
            )
            .exclude(pk__in=activity.participants.values("child_id"))
            .select_related("school_class")
            .order_by("school_class__grade", "school_class__class_no", "name_pinyin")
        )
    classes = (
        scope.classes(request.user).filter(school=activity.school).order_by("grade", "class_no")
    )
    return render(
        request,
        "activities/detail.html",
        {
            "a": activity,
            "rows": rows,
            "present": sum(1 for r in rows if r.present),
            "photos": services.photos_for(activity, request.user),
            "may_manage": may_manage,
            "may_mark": not request.user.is_read_only,
            "pick": pick,
            "classes": classes,
            "klass": klass,
            "category": category,
            "listed": listed,
            "lists": list(services.LISTS.items()),
            "categories": [("left_behind", "全部留守儿童"), *Category.choices],
            "errors": errors,
        },
    )


@login_required
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Roll call on a phone: tap a name to mark her present (tap again: absent); a child not on
    the list is found by name or pinyin initials and added as a late-comer."""
    activity = _activity(request, pk)
    services.check_writer(request.user)
    if request.method == "POST":
        child = _posted_child(request)
        present = request.POST.get("present") == "1"
        p = services.mark(activity=activity, child=child, present=present, by=request.user)
        if is_partial(request):
            return render(request, "activities/_roll_row.html", {"a": activity, "p": p})
        return redirect("activities:attendance", activity.pk)
    listed = (
        activity.participants.filter(child__in=services.contactable(request.user))
        .select_related("child__school_class", "child__school")
        .order_by(
            "child__school_class__grade", "child__school_class__class_no", "child__name_pinyin"
        )
    )
    rows = [p for p in listed if services.may_mark(request.user, activity, p.child)]
    q = request.GET.get("q", "").strip()
    found: list[Child] = []
    if q:
        found = [
            c
            for c in services.contactable(request.user)
            .active()
            .filter(school_id=activity.school_id)
            .search(q)
            .select_related("school_class")[:20]
            if services.may_mark(request.user, activity, c)
        ]
    return render(
        request, "activities/attendance.html", {"a": activity, "rows": rows, "q": q, "found": found}
    )


def _coverage_rows(request: HttpRequest):
    return services.coverage(request.user)


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    rows = _coverage_rows(request)
    if request.GET.get("format") == "xlsx":
        info = _term_info()
        return exports.xlsx_download(
            request,
            filename=f"coverage-{info['term']}.xlsx",
            what=f"{info['term_label']}未参加活动的留守儿童",
            header=["学校", "年级", "班级", "姓名", "留守类别"],
            rows=[
                [
                    r["school"].name,
                    r["klass"].grade,
                    r["klass"].class_no,
                    c.name,
                    c.get_category_display(),
                ]
                for r in rows
                for c in r["missed"]
            ],
        )
    return render(
        request,
        "activities/coverage.html",
        {
            "rows": rows,
            "total": sum(r["total"] for r in rows),
            "reached": sum(r["reached"] for r in rows),
            "can_export": getattr(request.user, "can_export", False),
            **_term_info(),
        },
    )


# --- a child's activities, publicity, photos ---------------------------------------------------


@login_required
def child_activities(request: HttpRequest, child_id: int) -> HttpResponse:
    """The card's section: the activities the child was on the list of (loaded by HTMX)."""
    child = services.visible_child(request.user, child_id)
    return render(
        request,
        "activities/_child_activities.html",
        {"child": child, "rows": services.activities_for_child(child, request.user)},
    )


@login_required
def publicity(request: HttpRequest, pk: int) -> HttpResponse:
    """A one-page summary to publish: counts and text, names only with publicity consent; the
    school's managers record where it was issued (counted as 宣传)."""
    from .models import Channel

    activity = _activity(request, pk)
    may_manage = services.may_manage(request.user, activity.school)
    errors: dict[str, str] = {}
    values = {"channel": "", "issued_on": timezone.localdate().isoformat()}
    if request.method == "POST":
        services.check_manager(request.user, activity.school)
        values = {k: request.POST.get(k, "") for k in values}
        try:
            item = services.issue_publicity(activity=activity, values=values, by=request.user)
        except Invalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已记下：{item.get_channel_display()}发布")
            return redirect("activities:publicity", activity.pk)
    return render(
        request,
        "activities/publicity.html",
        services.publicity(activity)
        | {
            "may_manage": may_manage,
            "issued": activity.publicity_items.order_by("-issued_on", "-id"),
            "channels": Channel.choices,
            "v": values,
            "errors": errors,
        },
    )


@login_required
@require_POST
def photo_upload(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    services.check_writer(request.user)
    child = _posted_child(request)
    upload = request.FILES.get("photo")
    try:
        if upload is None:
            raise Invalid({"photos": "请选择照片"})
        services.add_photo(activity=activity, child=child, upload=upload, by=request.user)
    except Invalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, f"已上传 {child.name} 的照片")
    return redirect("activities:detail", activity.pk)


@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo, only for users who see both the activity and the child; served as the image
    type of its (re-encoded) extension, never sniffed."""
    from django.http import FileResponse

    from .models import ActivityPhoto

    item = get_object_or_404(
        ActivityPhoto.objects.filter(
            activity__in=Activity.objects.visible_to(request.user),
            child__in=Child.objects.visible_to(request.user),
        ),
        pk=pk,
    )
    ext = item.file.name.rsplit(".", 1)[-1].lower()
    kind = {"jpg": "image/jpeg", "png": "image/png"}.get(ext)
    if kind:
        response = FileResponse(item.file.open("rb"), content_type=kind)
    else:
        response = FileResponse(
            item.file.open("rb"), content_type="application/octet-stream", as_attachment=True
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response
