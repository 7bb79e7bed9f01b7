"""/api/v1/responsibilities: grade leaders and class teachers (领导包年级、教师包班) of the units
in the user's scope, the gaps, and each child's responsible teacher."""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts.models import RoleAssignment
from guanai.api_common import ErrorsOut
from guanai.children.models import LEFT_BEHIND, Child, Enrolment
from guanai.lib.bounds import Id, Pages
from guanai.org.models import School

from .api_common import user_label
from .permissions import arranged_classes, check_manage_school, visible_classes
from .responsibility import (
    UNIT_ROLES,
    Invalid,
    assign_class_teacher,
    assign_grade_leader,
    end_responsibility,
    overview,
    set_responsible_teacher,
    term_bounds,
    unit_assignments,
    valid_on,
)
from .services import school_staff

responsibilities_router = Router(tags=["responsibilities"])  # /api/v1/responsibilities

UnitKind = Literal["grade_leader", "class_teacher"]


class ResponsibilityFilter(FilterSchema):
    school: str | None = None
    kind: UnitKind | None = None
    grade: int | None = Field(None, ge=0, le=12)
    class_no: int | None = Field(None, ge=1, le=99)
    user: str | None = None
    current: bool = True
    mine: bool = False


class ResponsibilityOut(Schema):
    id: int
    kind: str
    user: str
    user_name: str
    school: str
    grade: int
    class_no: int | None
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_kind(obj: RoleAssignment) -> str:
        return obj.role

    @staticmethod
    def resolve_user(obj: RoleAssignment) -> str:
        return obj.user.username

    @staticmethod
    def resolve_user_name(obj: RoleAssignment) -> str:
        return str(obj.user)

    @staticmethod
    def resolve_school(obj: RoleAssignment) -> str:
        return obj.school.code

    @staticmethod
    def resolve_grade(obj: RoleAssignment) -> int:
        return obj.school_class.grade if obj.school_class_id else obj.grade

    @staticmethod
    def resolve_class_no(obj: RoleAssignment) -> int | None:
        return obj.school_class.class_no if obj.school_class_id else None


class ResponsibilityIn(Schema):
    """A grade's leader (`grade`) or a class's teacher (`grade` and `class_no`), for a `term`
    or from `valid_from` (to `valid_to`)."""

    model_config = ConfigDict(extra="forbid")
    kind: UnitKind
    school: str = Field(..., min_length=1, max_length=20)
    grade: int = Field(..., ge=0, le=12)
    class_no: int | None = Field(None, ge=1, le=99)
    user: str = Field(..., min_length=1, max_length=150)
    term: str | None = Field(None, max_length=12)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    replace: bool = True


def _responsibilities(request: HttpRequest) -> QuerySet[RoleAssignment]:
    return (
        unit_assignments(visible_classes(request.user))
        .filter(role__in=UNIT_ROLES)
        .select_related("user", "school", "school_class")
    )


@responsibilities_router.get("", response=list[ResponsibilityOut])
@paginate(Pages, page_size=50)
def list_responsibilities(request: HttpRequest, filters: Query[ResponsibilityFilter]):
    """Grade leaders (领导包年级) and class teachers (教师包班) of the units in the user's scope,
    valid today unless `current=false` (then every period, past and future). `mine=true`:
    the user's own. Ordered by id."""
    qs = _responsibilities(request)
    if filters.current:
        qs = valid_on(qs, timezone.localdate())
    if filters.school:
        qs = qs.filter(school__code=filters.school)
    if filters.kind:
        qs = qs.filter(role=filters.kind)
    if filters.grade is not None:
        qs = qs.filter(Q(grade=filters.grade) | Q(school_class__grade=filters.grade))
    if filters.class_no is not None:
        qs = qs.filter(school_class__class_no=filters.class_no)
    if filters.user:
        qs = qs.filter(user__username=filters.user)
    if filters.mine:
        qs = qs.filter(user=request.user)
    return qs.order_by("id")


@responsibilities_router.post("", response={201: ResponsibilityOut, 422: ErrorsOut})
def create_responsibility(request: HttpRequest, payload: ResponsibilityIn):
    """Name a grade leader or class teacher; school leaders and town administrators only.
    With `replace` (default) the current holder's period ends the day before."""
    if request.user.is_read_only:  # before the body, which names the school (guanai/api.py)
        raise PermissionDenied("只读账号不能修改")
    school = School.objects.filter(
        pk__in=visible_classes(request.user).values("school_id"), code=payload.school.strip()
    ).first()
    if school is None:
        raise HttpError(404, "未找到该学校")
    check_manage_school(request.user, school)
    valid_from, valid_to = payload.valid_from, payload.valid_to
    if payload.term:
        valid_from, valid_to = term_bounds(payload.term)
    user = school_staff(school).filter(username=payload.user.strip()).first()
    if user is None:
        raise Invalid({"user": f"{payload.user} 不是{school.name}的教职工"})
    if payload.kind == "grade_leader":
        if payload.class_no is not None:
            raise Invalid({"class_no": "年级负责人不填班级"})
        ra = assign_grade_leader(
            school=school,
            grade=payload.grade,
            user=user,
            valid_from=valid_from,
            valid_to=valid_to,
            replace=payload.replace,
            by=request.user,
        )
    else:
        school_class = school.classes.filter(
            grade=payload.grade, class_no=payload.class_no or 0
        ).first()
        if school_class is None:
            raise Invalid({"class_no": "本校没有这个班级"})
        ra = assign_class_teacher(
            school_class=school_class,
            user=user,
            valid_from=valid_from,
            valid_to=valid_to,
            replace=payload.replace,
            by=request.user,
        )
    return Status(201, _responsibilities(request).get(pk=ra.pk))


@responsibilities_router.post(
    "/{assignment_id}/end", response={200: ResponsibilityOut, 422: ErrorsOut}
)
def end_responsibility_route(request: HttpRequest, assignment_id: Id):
    """End a grade-leader or class-teacher assignment today; the row and its history stay."""
    ra = get_object_or_404(_responsibilities(request), pk=assignment_id)
    check_manage_school(request.user, ra.school)
    end_responsibility(assignment=ra, by=request.user)
    return Status(200, _responsibilities(request).get(pk=ra.pk))


class GradeGapOut(Schema):
    school: str
    grade: int


class ClassGapOut(Schema):
    school: str
    grade: int
    class_no: int


class ChildGapOut(Schema):
    id: int
    name: str
    school: str
    grade: int
    class_no: int


class GapsOut(Schema):
    grades_without_leader: list[GradeGapOut]
    classes_without_teacher: list[ClassGapOut]
    children_without_responsible_teacher: list[ChildGapOut]


@responsibilities_router.get("/gaps", response=GapsOut)
def gaps(request: HttpRequest, school: str | None = None) -> dict[str, Any]:
    """What has no named adult in the user's scope: grades without a leader, classes without a
    teacher today, enrolled left-behind children without a responsible teacher."""
    classes = visible_classes(request.user)
    if school:
        classes = classes.filter(school__code=school)
    scope = Child.objects.visible_to(request.user).filter(school_class__in=classes)
    picture = overview(classes, children=scope)
    kids = (
        scope.filter(
            enrolment=Enrolment.ENROLLED,
            category__in=LEFT_BEHIND,
            responsible_teacher__isnull=True,
        )
        .select_related("school", "school_class")
        .order_by("id")
    )
    return {
        "grades_without_leader": [
            {"school": g.school.code, "grade": g.grade} for g in picture.grades_without_leader
        ],
        "classes_without_teacher": [
            {
                "school": c.school_class.school.code,
                "grade": c.school_class.grade,
                "class_no": c.school_class.class_no,
            }
            for c in picture.classes_without_teacher
        ],
        "children_without_responsible_teacher": [
            {
                "id": c.pk,
                "name": c.name,
                "school": c.school.code,
                "grade": c.school_class.grade,
                "class_no": c.school_class.class_no,
            }
            for c in kids
        ],
    }


class ResponsibleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    responsible_teacher: str | None = Field(..., max_length=150, description="登录名；null 清除")


class ResponsibleOut(Schema):
    child: int
    responsible_teacher: str | None
    responsible_teacher_name: str | None


@responsibilities_router.post(
    "/children/{child_id}", response={200: ResponsibleOut, 422: ErrorsOut}
)
def set_responsible(request: HttpRequest, child_id: Id, payload: ResponsibleIn):
    """Name a child's responsible teacher (a staff member of the child's school)."""
    child = get_object_or_404(
        Child.objects.visible_to(request.user).select_related("school_class", "school"),
        pk=child_id,
    )
    if request.user.is_read_only or not (
        arranged_classes(request.user).filter(pk=child.school_class_id).exists()
        and Child.objects.visible_to(request.user, "change").filter(pk=child.pk).exists()
    ):
        raise HttpError(403, "没有指定责任教师的权限")
    teacher = None
    if payload.responsible_teacher:
        teacher = (
            school_staff(child.school).filter(username=payload.responsible_teacher.strip()).first()
        )
        if teacher is None:
            raise Invalid({"responsible_teacher": f"{payload.responsible_teacher} 不是本校教职工"})
    child = set_responsible_teacher(child=child, teacher=teacher, by=request.user)
    return Status(
        200,
        {
            "child": child.pk,
            "responsible_teacher": teacher.username if teacher else None,
            "responsible_teacher_name": user_label(teacher),
        },
    )
