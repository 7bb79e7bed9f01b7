"""Who may do what with pairs, responsibilities and proxy parents — shared by pages and API.

Data scope is never decided here: pairs come from `Pair.objects.visible_to`, children from
`Child.objects.visible_to`. These helpers answer the second question — may this user *act* —
and raise `Http404` for a unit outside the user's scope, `PermissionDenied` (403) for an action
the role may not do, so pages and API answer alike.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from guanai.accounts import scope
from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.org.models import School, SchoolClass

from .models import Pair


def may_manage_pairs(user: User) -> bool:
    """Whether the user's role lets them propose, accept, swap or end pairs at all."""
    if user.is_superuser:
        return True
    return not user.is_read_only and bool(scope.units(user, "arrange"))


def check_manage_pair(user: User, pair: Pair) -> None:
    """403 unless the user manages pairs and may change the pair's child."""
    if user.is_read_only:
        raise PermissionDenied("只读账号不能修改结对")
    if user.is_superuser:
        return
    if not scope.units(user, "arrange"):
        raise PermissionDenied("没有管理结对的权限")
    if not Child.objects.visible_to(user, action="change").filter(pk=pair.child_id).exists():
        raise PermissionDenied("没有管理这对结对的权限")


def managed_schools(user: User) -> QuerySet[School]:
    """Schools the user runs school-wide work for: town administrators and school leaders."""
    return scope.schools(user, "manage")


def visible_classes(user: User) -> QuerySet[SchoolClass]:
    """Classes whose named responsibility the user may read: the units of their roles (town,
    school, grade, class). Proxy parents and subject teachers hold no unit."""
    return scope.classes(user, "view")


def arranged_classes(user: User) -> QuerySet[SchoolClass]:
    """Classes the user arranges — proposes pairs for, names responsible teachers in: every
    class of a managed school, a grade leader's grade, a class teacher's class."""
    if user.is_read_only:
        return SchoolClass.objects.none()
    return scope.classes(user, "arrange").filter(active=True)


def school_for_proposal(user: User, code: str) -> School:
    """The school if the user may propose for all of it; 404 outside the scope, else 403."""
    school = School.objects.filter(code=(code or "").strip()).first()
    if school is None:
        raise Http404("未找到该学校")
    in_scope = scope.schools(user, "view").filter(pk=school.pk).exists()
    if not in_scope and not Child.objects.visible_to(user).filter(school=school).exists():
        raise Http404("未找到该学校")
    if user.is_read_only:
        raise PermissionDenied("只读账号不能生成结对建议")
    if not managed_schools(user).filter(pk=school.pk).exists():
        raise PermissionDenied("只有校领导或镇管理员可以为全校生成结对建议")
    return school


def class_for_proposal(user: User, school: School, grade: int, class_no: int) -> SchoolClass:
    """One class of a school the user may propose for; 404 when it is outside their scope."""
    found = arranged_classes(user).filter(school=school, grade=grade, class_no=class_no).first()
    if found is None:
        if visible_classes(user).filter(school=school, grade=grade, class_no=class_no).exists():
            raise PermissionDenied("没有为这个班生成结对建议的权限")
        raise Http404("未找到该班级")
    return found


def check_manage_school(user: User, school: School) -> None:
    """403 unless the user is a writer who runs the school (school leader, town admin)."""
    if user.is_read_only:
        raise PermissionDenied("只读账号不能修改")
    if not managed_schools(user).filter(pk=school.pk).exists():
        raise PermissionDenied("只有校领导或镇管理员可以做这项安排")
