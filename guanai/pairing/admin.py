from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Pair, ProxyParent


@admin.register(Pair)
class PairAdmin(SimpleHistoryAdmin):
    list_display = ["id", "child", "buddy", "school", "status", "cost", "explanation"]
    list_filter = ["status", "school"]
    raw_id_fields = [
        "child",
        "buddy",
        "follow_teacher",
        "created_by",
        "accepted_by",
        "ended_by",
        "follow_assignments",
    ]
    search_fields = ["child__name", "buddy__name"]


@admin.register(ProxyParent)
class ProxyParentAdmin(SimpleHistoryAdmin):
    list_display = ["id", "name", "kind", "village", "school", "active", "declared_on"]
    list_filter = ["active", "kind", "school"]
    raw_id_fields = ["user", "declaration_recorded_by", "created_by"]
    search_fields = ["name", "village"]
