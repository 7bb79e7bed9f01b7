"""/api/v1/children: list, card, edit, history. Everything starts from visible_to()."""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.lib.bounds import ClassNo, Grade, Id, Natural, Pages
from guanai.org.models import SchoolClass

from .access import (
    FULL,
    ID_FIELDS,
    MASKED,
    REDUCED,
    REDUCED_HIDDEN,
    SENSITIVE_FIELDS,
    IdentitySearchRefused,
    card_access,
    check_identity_search,
    hidden_sections,
    log_sections_read,
)
from .models import Child
from .services import child_history, update_child

router = Router(tags=["children"])

CategoryCode = Literal["single", "double", "migrant", "none", "unknown"]
StatusCode = Literal["home", "away", "deceased", "missing", "incapable", ""]


class ChildFilter(FilterSchema):
    school: str | None = None
    grade: int | None = Field(None, ge=0, le=12)
    class_no: int | None = Field(None, ge=1, le=99)
    category: CategoryCode | None = None
    civil_affairs: bool | None = None
    q: str | None = None
    enrolment: Literal["enrolled", "graduated", "transferred", "left", "all"] | None = None
    xueji_mismatch: bool | None = None


class _ChildBase(Schema):
    id: int
    name: str
    gender: str
    birth_date: dt.date | None
    school: str
    grade: int
    class_no: int
    category: str
    civil_affairs: bool
    enrolment: str
    xueji_category: Literal["none", "single", "double"] | None = None


class ChildListOut(_ChildBase):
    id_number: str

    @staticmethod
    def resolve_school(obj: Any) -> str:
        return obj["school"] if isinstance(obj, dict) else obj.school.code

    @staticmethod
    def resolve_grade(obj: Any) -> int:
        return obj["grade"] if isinstance(obj, dict) else obj.school_class.grade

    @staticmethod
    def resolve_class_no(obj: Any) -> int:
        return obj["class_no"] if isinstance(obj, dict) else obj.school_class.class_no

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return obj["id_number"] if isinstance(obj, dict) else obj.id_number_masked


class ParentOut(Schema):
    name: str
    status: str
    status_reason: str
    away_since: dt.date | None
    work_province: str
    work_city: str
    work_place: str
    phone: str | None = None  # absent for proxy parents
    effective_from: dt.date | None


class GuardianOut(Schema):
    name: str
    relation: str
    phone: str
    age: int | None
    health: str
    capacity: str
    is_entrusted: bool
    entrustment_notice_on: dt.date | None
    confirmation_signed_on: dt.date | None


class ChildOut(_ChildBase):
    id_number: str | None = None
    version: int
    ethnicity: str
    student_no: str | None = None
    school_no: str
    hukou: str
    is_migrant: bool
    village: str
    group: str
    address: str
    # Absent for proxy parents (REDUCED_HIDDEN), like the ID and health fields.
    latitude: float | None = None
    longitude: float | None = None
    boarding: bool | None
    health: str | None = None
    disability: str | None = None
    psych_summary: str | None = None
    study: str
    safety_notes: str
    guardianship_assessment: str | None = None
    income_sources: str | None = None
    assistance: str | None = None
    tags: list[str]
    photo_consent: bool
    psych_test_consent: bool | None = None
    publicity_consent: bool
    notes: str
    category_reason: str
    civil_affairs_reason: str
    responsible_teacher: str | None
    father: ParentOut | None
    mother: ParentOut | None
    guardian: GuardianOut | None


class ParentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    status: StatusCode | None = None
    status_reason: str | None = None
    away_since: dt.date | None = None
    work_province: str | None = None
    work_city: str | None = None
    work_place: str | None = None
    phone: str | None = None
    effective_from: dt.date | None = None


class GuardianIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    relation: str | None = None
    phone: str | None = None
    age: Natural | None = None
    health: str | None = None
    capacity: Literal["good", "fair", "poor", ""] | None = None
    is_entrusted: bool | None = None
    entrustment_notice_on: dt.date | None = None
    confirmation_signed_on: dt.date | None = None
    effective_from: dt.date | None = None


class ChildPatchIn(Schema):
    """Any card fields to change, with the `version` that was read."""

    model_config = ConfigDict(extra="forbid")
    version: Natural
    reason: str | None = None
    name: str | None = None
    gender: Literal["male", "female"] | None = None
    birth_date: dt.date | None = None
    ethnicity: str | None = None
    id_number: str | None = None
    student_no: str | None = None
    school_no: str | None = None
    grade: Grade | None = None
    class_no: ClassNo | None = None
    hukou: Literal["rural", "urban", ""] | None = None
    is_migrant: bool | None = None
    village: str | None = None
    group: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    boarding: bool | None = None
    health: str | None = None
    disability: str | None = None
    study: str | None = None
    psych_summary: str | None = None
    safety_notes: str | None = None
    guardianship_assessment: Literal["good", "fair", "poor", ""] | None = None
    income_sources: str | None = None
    assistance: str | None = None
    tags: list[str] | None = None
    photo_consent: bool | None = None
    psych_test_consent: bool | None = None
    publicity_consent: bool | None = None
    notes: str | None = None
    father: ParentIn | None = None
    mother: ParentIn | None = None
    guardian: GuardianIn | None = None


class ChangeOut(Schema):
    field: str
    old: Any = None
    new: Any = None


class HistoryOut(Schema):
    at: dt.datetime
    by: str | None
    reason: str
    changes: list[ChangeOut]


def _scoped(request: HttpRequest, action: str = "view"):
    return Child.objects.visible_to(request.user, action=action).select_related(
        "school", "school_class", "responsible_teacher", "guardian"
    )


def _list_item(child: Child) -> dict[str, Any]:
    return {
        "id": child.pk,
        "name": child.name,
        "gender": child.gender,
        "birth_date": child.birth_date,
        "school": child.school.code,
        "grade": child.school_class.grade,
        "class_no": child.school_class.class_no,
        "category": child.category,
        "civil_affairs": child.civil_affairs,
        "id_number": child.id_number_masked,
        "enrolment": child.enrolment,
    }


def _parent_out(parent) -> dict[str, Any] | None:
    if parent is None:
        return None
    return {f: getattr(parent, f) for f in ParentOut.model_fields}


def card_out(request: HttpRequest, child: Child) -> dict[str, Any]:
    """The card as the user may see it; a full ID number view is written to the access log."""
    access = card_access(request.user)
    out = _list_item(child)
    simple = (
        set(ChildOut.model_fields)
        - set(out)
        - {"father", "mother", "guardian", "responsible_teacher", "latitude", "longitude"}
    )
    out.update({f: getattr(child, f) for f in simple})
    out["latitude"] = float(child.latitude) if child.latitude is not None else None
    out["longitude"] = float(child.longitude) if child.longitude is not None else None
    rt = child.responsible_teacher
    out["responsible_teacher"] = str(rt) if rt else None
    out["father"] = _parent_out(child.parent("father"))
    out["mother"] = _parent_out(child.parent("mother"))
    guardian = getattr(child, "guardian", None)
    out["guardian"] = (
        {f: getattr(guardian, f) for f in GuardianOut.model_fields} if guardian else None
    )
    out["student_no"] = child.student_no_masked
    if access == FULL and (child.id_number_enc or child.student_no_enc):
        out["id_number"] = child.id_number if child.id_number_enc else ""
        out["student_no"] = child.student_no
        log_access(
            request=request,
            user=request.user,
            action=AccessAction.VIEW_ID_NUMBER,
            child=child,
            detail="API 读取档卡（身份证号、学籍号）",
        )
    elif access == REDUCED:
        for f in ID_FIELDS | SENSITIVE_FIELDS | REDUCED_HIDDEN:
            out.pop(f, None)
        for who in ("father", "mother"):
            if out[who] is not None:
                out[who].pop("phone", None)
    elif access == MASKED:
        out["id_number"] = child.id_number_masked
    hidden = hidden_sections(request.user, child)
    for f in hidden:
        out.pop(f, None)
    log_sections_read(request, child, hidden=hidden, where="API 读取档卡，")
    return out


@router.get("", response=list[ChildListOut])
@paginate(Pages, page_size=50)
def list_children(request: HttpRequest, filters: Query[ChildFilter]):
    """Children in the user's scope; ID numbers masked. Ordered by id."""
    qs = Child.objects.visible_to(request.user).select_related("school", "school_class")
    if filters.enrolment != "all":
        qs = qs.filter(enrolment=filters.enrolment or "enrolled")
    if filters.school:
        qs = qs.filter(school__code=filters.school)
    if filters.grade is not None:
        qs = qs.filter(school_class__grade=filters.grade)
    if filters.class_no is not None:
        qs = qs.filter(school_class__class_no=filters.class_no)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.civil_affairs is not None:
        qs = qs.filter(civil_affairs=filters.civil_affairs)
    if filters.xueji_mismatch is not None:
        from .xueji import mismatch_q

        qs = qs.filter(mismatch_q()) if filters.xueji_mismatch else qs.exclude(mismatch_q())
    if filters.q:
        try:
            check_identity_search(request, filters.q)
        except IdentitySearchRefused as exc:
            raise HttpError(exc.status, exc.message) from None
        qs = qs.search(filters.q)
    return qs.order_by("id")


@router.get("/{child_id}", response=ChildOut, exclude_unset=True)
def get_child(request: HttpRequest, child_id: Id):
    """The card (一人一卡). Out of scope: 404."""
    child = get_object_or_404(_scoped(request).prefetch_related("parents"), pk=child_id)
    return card_out(request, child)


@router.patch("/{child_id}", response=ChildOut, exclude_unset=True)
def patch_child(request: HttpRequest, child_id: Id, payload: ChildPatchIn):
    """Change card fields. `version` must be the one read; a stale one answers 409."""
    child = get_object_or_404(_scoped(request), pk=child_id)
    if request.user.is_read_only or not _scoped(request, "change").filter(pk=child_id).exists():
        raise PermissionDenied("没有修改这张档卡的权限")
    body = payload.model_dump(exclude_unset=True)
    version = body.pop("version")
    reason = body.pop("reason", None) or ""
    grade, class_no = body.pop("grade", None), body.pop("class_no", None)
    access = card_access(request.user)
    if access != FULL and ID_FIELDS & set(body):
        raise PermissionDenied("没有修改身份证号、学籍号的权限")
    if hidden_sections(request.user, child, for_edit=True) & set(body):
        raise PermissionDenied("没有修改这名学生健康或心理信息的权限")
    data: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            data.update({f"{key}.{k}": ("" if v is None else v) for k, v in value.items()})
        else:
            data[key] = "" if value is None else value
    school_class = None
    if grade is not None or class_no is not None:
        school_class = SchoolClass.objects.filter(
            school_id=child.school_id,
            grade=child.school_class.grade if grade is None else grade,
            class_no=child.school_class.class_no if class_no is None else class_no,
        ).first()
        if school_class is None:
            from .validation import CardInvalid

            raise CardInvalid({"class_no": "本校没有这个班级，请先在班级管理中添加"})
    updated = update_child(
        child=child,
        data=data,
        version=version,
        by=request.user,
        reason=reason,
        school_class=school_class,
    )
    fresh = _scoped(request).prefetch_related("parents").get(pk=updated.pk)
    return card_out(request, fresh)


@router.get("/{child_id}/history", response=list[HistoryOut])
@paginate(Pages, page_size=50)
def get_history(request: HttpRequest, child_id: Id):
    """Changes of the card, parents' and guardian's included, newest first."""
    child = get_object_or_404(_scoped(request), pk=child_id)
    entries = child_history(child)
    access = card_access(request.user)
    hidden = hidden_sections(request.user, child)
    if access != FULL:
        hidden |= ID_FIELDS | (REDUCED_HIDDEN if access == REDUCED else set())
    for e in entries:
        e["changes"] = [c for c in e["changes"] if c["field"] not in hidden]
    return entries
