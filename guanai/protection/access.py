"""Who may do what in child protection, from the scope table (never a role code here).

- file an incident (强制报告): `report`, on a child the user may `view`;
- read and follow up incidents: `incidents` (Incident.objects.readable_by);
- dropout cases (控辍保学): `view` reads the cases of the child's school / grade / class,
  `change` writes them (DropoutCase.objects.visible_to);
- 独居 / 脱离监护 alerts: `manage` (the school's leaders, the town) reads and resolves them.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from guanai.accounts import scope
from guanai.children.models import Child

from .models import DropoutCase, child_unit_q


def may(user, action: str) -> bool:
    """Whether any of the user's roles takes the action at all."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or bool(scope.units(user, action))


def check_may(user, action: str, message: str) -> None:
    if not may(user, action):
        raise PermissionDenied(message)


def child_to_report(user, child_id) -> Child:
    """The child a report is filed on: 404 outside the user's `view` scope."""
    child = Child.objects.visible_to(user, "view").filter(pk=child_id).first()
    if child is None:
        raise Http404("未找到该学生")
    return child


def child_for_case(user, child_id) -> Child:
    """The child a dropout case is opened for: 404 unless the user reads the child's cases,
    403 when she reads but may not write them."""
    children = Child.objects.filter(pk=child_id)
    cond = child_unit_q(user, "view", whole_school=False, prefix="")
    child = (children if cond is None else children.filter(cond)).first()
    if child is None:
        raise Http404("未找到该学生")
    cond = child_unit_q(user, "change", whole_school=False, prefix="")
    if cond is not None and not children.filter(cond).exists():
        raise PermissionDenied("只读账号不能建立控辍保学记录")
    return child


def case_to_change(user, case_id) -> DropoutCase:
    case = DropoutCase.objects.visible_to(user, "view").filter(pk=case_id).first()
    if case is None:
        raise Http404("未找到")
    if not DropoutCase.objects.visible_to(user, "change").filter(pk=case.pk).exists():
        raise PermissionDenied("只读账号不能修改控辍保学记录")
    return case
