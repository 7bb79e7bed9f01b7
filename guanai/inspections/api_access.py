"""Which inspection an API request reaches, shared by the inspection routes (api.py) and the
findings routes (api_findings.py): one it may read (404 outside the scope), one it may work on
(403 for a reader), and whether the user inspects it."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from . import services
from .models import Inspection


def may_inspect(user, inspection: Inspection) -> bool:
    return Inspection.objects.inspectable_by(user).filter(pk=inspection.pk).exists()


def visible_inspection(request: HttpRequest, pk: int) -> Inspection:
    qs = Inspection.objects.visible_to(request.user).select_related("school")
    return get_object_or_404(qs, pk=pk)


def workable_inspection(request: HttpRequest, pk: int) -> Inspection:
    """An inspection the user may work on: 404 outside the scope, 403 for a reader."""
    inspection = visible_inspection(request, pk)
    services.check_inspect(request.user)
    if not may_inspect(request.user, inspection):
        raise PermissionDenied("只有镇管理员和督导员可以进行督导检查")
    return inspection
