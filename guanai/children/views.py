"""Pages: the child list, the card, edit and add, printable cards. Scope via visible_to()."""

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from guanai.accounts import scope
from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.lib.grades import GRADE_NAMES
from guanai.lib.htmx import is_partial
from guanai.lib.masking import mask_id_beside_birth_date
from guanai.org.models import School, SchoolClass

from .access import (
    FULL,
    HEALTH_FIELDS,
    ID_FIELDS,
    PSYCH_FIELDS,
    REDUCED,
    REDUCED_HIDDEN,
    card_access,
    hidden_sections,
    log_id_read,
    log_sections_read,
    search_children,
)
from .forms import (
    ALL_SECTIONS,
    SECTION_OF_SLUG,
    SECTION_SLUGS,
    TEL_KEYS,
    CardForm,
    initial_for,
    section_keys,
)
from .models import Category, Child
from .services import StaleVersion, category_timeline, child_history, create_child, update_child
from .validation import CardInvalid
from .xueji import is_mismatch

PAGE_SIZE = 25


def _scope(request: HttpRequest, action: str = "view"):
    return Child.objects.visible_to(request.user, action=action)


def _filtered(request: HttpRequest):
    qs = _scope(request).select_related("school", "school_class", "guardian")
    g = request.GET
    enrolment = g.get("enrolment") or "enrolled"
    if enrolment != "all":
        qs = qs.filter(enrolment=enrolment)
    if g.get("school"):
        qs = qs.filter(school__code=g["school"])
    if g.get("grade", "").isdigit():
        qs = qs.filter(school_class__grade=int(g["grade"]))
    if g.get("class_no", "").isdigit():
        qs = qs.filter(school_class__class_no=int(g["class_no"]))
    if g.get("category") in Category.values:
        qs = qs.filter(category=g["category"])
    if g.get("civil") in ("1", "0"):
        qs = qs.filter(civil_affairs=g["civil"] == "1")
    if g.get("mine") == "1":
        qs = qs.filter(responsible_teacher=request.user)
    if g.get("q"):
        qs = search_children(request, qs, g["q"])
    return qs.order_by("school_id", "school_class__grade", "school_class__class_no", "name", "id")


@login_required
def child_list(request: HttpRequest) -> HttpResponse:
    """Search and filter children in scope; HTMX requests get just the table."""
    page = Paginator(_filtered(request), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "page": page,
        "query": query.urlencode(),
        "categories": Category.choices,
        "can_add": _can_add(request),
        "reduced": card_access(request.user) == REDUCED,
        # EXISTS per school, not a scan of every child in scope (bench/list_children.py)
        "schools": School.objects.filter(
            Exists(_scope(request).filter(school_id=OuterRef("pk")))
        ).order_by("id"),
        "grades": sorted(GRADE_NAMES.items()),
        "f": request.GET,
        "print_class": _print_class(request),
        "print_school": _print_school(request),
    }
    template = "children/_table.html" if is_partial(request) else "children/list.html"
    return render(request, template, ctx)


@login_required
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The card. A full ID number is shown only here, only in scope, and the view is logged."""
    child = get_object_or_404(
        _scope(request)
        .select_related("school", "school_class", "responsible_teacher")
        .prefetch_related("parents"),
        pk=pk,
    )
    access = card_access(request.user, child)
    id_number = None
    student_no = None
    wants_full = request.GET.get("show_id") == "1"
    if access == FULL and (child.id_number_enc or child.student_no_enc) and wants_full:
        id_number = child.id_number
        student_no = child.student_no
        log_id_read(request, child, where="档卡页")
    can_edit = not request.user.is_read_only and _scope(request, "change").filter(pk=pk).exists()
    father, mother = child.parent("father"), child.parent("mother")
    guardian = getattr(child, "guardian", None)
    # The card shows parents' and guardian's phones in full (tap to call): that view is logged.
    # A reduced card shows the guardian's only.
    shown = (guardian,) if access == REDUCED else (father, mother, guardian)
    if any(p is not None and p.phone for p in shown):
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail="档卡页查看完整电话号码",
        )
    hidden = hidden_sections(request.user, child)
    log_sections_read(request, child, hidden=hidden, where="档卡页")
    return render(
        request,
        "children/detail.html",
        {
            "child": child,
            "access": access,
            "shows_health": not hidden & HEALTH_FIELDS,
            "shows_psych": not hidden & PSYCH_FIELDS,
            "xueji_mismatch": is_mismatch(child),
            "can_print": not request.user.is_read_only
            and scope.holds_child(request.user, "print", child),
            "id_number": id_number,
            "student_no": student_no,
            "can_reveal": access == FULL
            and bool(child.id_number_enc or child.student_no_enc)
            and not wants_full,
            "can_edit": can_edit,
            "father": father,
            "mother": mother,
            "guardian": guardian,
            "history": visible_history(child, access, hidden=hidden),
            "timeline": category_timeline(child),
            "reduced": access == REDUCED,
            "missing": child.missing_fields(),
        },
    )


def _can_add(request: HttpRequest) -> bool:
    return not request.user.is_read_only and _classes_for(request).exists()


def visible_history(child: Child, access: str, *, hidden: set[str]) -> list[dict]:
    """The card's history without the fields this reader may not see (`hidden`: the
    sensitive sections of children.access.hidden_sections)."""
    entries = child_history(child)
    hidden = set(hidden) if access == FULL else hidden | ID_FIELDS
    if access == REDUCED:
        hidden |= REDUCED_HIDDEN
    for entry in entries:
        entry["changes"] = [c for c in entry["changes"] if c["field"] not in hidden]
        for c in entry["changes"]:
            if c["field"] in ID_FIELDS:  # the card shows the birth date: keep less
                c["old"] = mask_id_beside_birth_date(c["old"] or "")
                c["new"] = mask_id_beside_birth_date(c["new"] or "")
    return entries


def _hidden_for(request: HttpRequest, child: Child | None = None) -> set[str]:
    """Card keys the user may neither read nor write: ID numbers unless she reads them in
    full, and the health and psychology sections outside her `health`/`psych` units (for a
    new child: unless she holds such a unit at all)."""
    hidden = set() if card_access(request.user) == FULL else {"id_number", "student_no"}
    if child is not None:
        return hidden | hidden_sections(request.user, child, for_edit=True)
    for action, fields in (("psych", PSYCH_FIELDS), ("health", HEALTH_FIELDS)):
        if not request.user.is_superuser and not scope.units(request.user, action):
            hidden |= fields
    return hidden


def _section(request: HttpRequest) -> str:
    slug = request.GET.get("section", "")
    return slug if slug in SECTION_SLUGS or slug == ALL_SECTIONS else SECTION_SLUGS[0]


@writer_required
@require_http_methods(["GET", "POST"])
def child_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one section of a card (`?section=`, `all` for the whole form); the version makes a
    second concurrent save reload instead of overwrite."""
    child = _scope(request, "change").prefetch_related("parents").filter(pk=pk).first()
    if child is None:
        # a card one reads but may not change (儿童主任, 代理家长 …): refused, not "not found"
        get_object_or_404(_scope(request), pk=pk)
        raise PermissionDenied("您可以查看这张档卡，但不能修改")
    section = _section(request)
    hide = _hidden_for(request, child)
    initial = initial_for(child, with_id="id_number" not in hide)
    initial["_current"] = {
        "birth_date": child.birth_date,
        "gender": child.gender,
        "id_number": initial.get("id_number", ""),
    }
    shown = section_keys(section) - hide
    form = CardForm(
        request.POST or None,
        initial=initial | {"version": child.version},
        hide=hide | (section_keys(ALL_SECTIONS) - shown),
    )
    if request.method == "GET":
        _log_edit_view(request, child, {k: initial.get(k) for k in shown})
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            update_child(
                child=child,
                data=form.changes(),
                by=request.user,
                version=form.cleaned_data["version"] or 0,
                reason=form.cleaned_data["reason"],
            )
        except StaleVersion:
            stale = True
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                form.add_error(key if key in form.fields else None, message)
        else:
            messages.success(request, "已保存，修改记录见档卡下方的变更历史")
            return redirect("children:detail", pk=child.pk)
    return render(
        request,
        "children/edit.html",
        {
            "form": form,
            "child": child,
            "stale": stale,
            "section": section,
            "sections": [
                (slug, SECTION_OF_SLUG[slug][0])
                for slug in SECTION_SLUGS
                if section_keys(slug) - hide
            ],
        },
        status=409 if stale else 200,
    )


def _log_edit_view(request: HttpRequest, child: Child, shown: dict) -> None:
    """The edit form shows full numbers in its fields: each such view is logged, as on the
    card page."""
    if shown.get("id_number") or shown.get("student_no"):
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_ID_NUMBER,
            child=child,
            detail="编辑档卡时查看完整身份证号、学籍号",
        )
    if any(shown.get(k) for k in TEL_KEYS):
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_SENSITIVE,
            child=child,
            detail="编辑档卡时查看完整电话号码",
        )


@writer_required
@require_http_methods(["GET", "POST"])
def child_create(request: HttpRequest) -> HttpResponse:
    """Add a child by hand with the same validation as the importer."""
    classes = (
        SchoolClass.objects.filter(pk__in=_classes_for(request))
        .select_related("school")
        .order_by("school_id", "grade", "class_no")
    )
    if not classes:
        raise PermissionDenied("您没有可以添加学生的班级")
    form = CardForm(request.POST or None, hide=_hidden_for(request) - {"id_number"})
    class_id = request.POST.get("school_class") or request.GET.get("school_class")
    if request.method == "POST" and form.is_valid():
        school_class = classes.filter(pk=class_id).first() if str(class_id).isdigit() else None
        if school_class is None:
            form.add_error(None, "请选择班级")
        else:
            try:
                child = create_child(
                    school_class=school_class,
                    data=form.changes(),
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except CardInvalid as exc:
                for key, message in exc.errors.items():
                    form.add_error(key if key in form.fields else None, message)
            else:
                messages.success(request, f"已为 {child.name} 建卡")
                return redirect("children:detail", pk=child.pk)
    return render(
        request,
        "children/edit.html",
        {"form": form, "classes": classes, "class_id": class_id, "creating": True},
    )


def _classes_for(request: HttpRequest):
    """Classes the user may add children to, from their role assignments."""
    return scope.classes(request.user, "add").filter(active=True).values("pk")


def _print_class(request: HttpRequest) -> SchoolClass | None:
    """The one class the list is filtered to, when the user may print its cards."""
    g = request.GET
    if not (g.get("grade", "").isdigit() and g.get("class_no", "").isdigit()):
        return None
    classes = scope.classes(request.user, "print").filter(
        grade=int(g["grade"]), class_no=int(g["class_no"]), active=True
    )
    if g.get("school"):
        classes = classes.filter(school__code=g["school"])
    found = list(classes.select_related("school")[:2])
    return found[0] if len(found) == 1 else None


def _print_school(request: HttpRequest) -> School | None:
    """The one school the list is filtered to (no class chosen), when the user prints for the
    whole school (school leaders, the town)."""
    g = request.GET
    code = g.get("school", "").strip()
    if not code or g.get("class_no", "").strip():
        return None
    school = scope.schools(request.user, "view").filter(code=code).first()
    if school and scope.holds(request.user, "print", town_id=school.town_id, school_id=school.pk):
        return school
    return None


@writer_required
def cards_print(request: HttpRequest) -> HttpResponse:
    """Printable cards (一人一卡) as PDF: a class's (`?class=`) or one child's (`?child=`), for
    those who print for the class (class teacher, grade and school leaders, the town), made in
    the request. A whole school (`?school=`) is a background job (views_cards). Full ID numbers
    only for those who read them, by role or under a grant; each print is logged, a grant's use
    with its reference."""
    from guanai.lib.pdf import MISSING_FONT

    from .cards_pdf import cards_pdf, log_grant_uses, print_detail, printable, shows_full_ids

    g = request.GET
    if g.get("child", "").isdigit():
        child = get_object_or_404(
            _scope(request).select_related("school", "school_class"), pk=g["child"]
        )
        if not scope.holds_child(request.user, "print", child):
            raise PermissionDenied("只有班主任、年级负责人、校领导和镇管理员可以打印档卡")
        children, title, klass = [child], f"{child.name} 档案卡", None
    elif g.get("class", "").isdigit():
        klass = get_object_or_404(
            scope.classes(request.user, "print").select_related("school"), pk=g["class"]
        )
        children = list(printable(_scope(request).filter(school_class=klass)))
        title = f"{klass.school.name} {klass} 档案卡"
        if not children:
            messages.info(request, f"{klass} 没有在读学生，没有可打印的档卡")
            return redirect("children:list")
    elif g.get("school", "").strip():
        url = reverse("children:cards_school")
        return redirect(f"{url}?{urlencode({'school': g['school'].strip()})}")
    else:
        raise Http404("请选择学校、班级或学生")
    try:
        data = cards_pdf(children, user=request.user, title=title)
    except RuntimeError:
        return HttpResponse(MISSING_FONT, status=503, content_type="text/plain; charset=utf-8")
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        child=children[0] if len(children) == 1 else None,
        school=children[0].school,
        detail=print_detail(len(children), title, full=shows_full_ids(request.user, children)),
    )
    log_grant_uses(request.user, children, request=request)
    name = quote(f"{title}.pdf")
    return HttpResponse(
        data,
        content_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
