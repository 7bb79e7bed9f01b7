from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Pair


@admin.register(Pair)
class PairAdmin(SimpleHistoryAdmin):
    list_display = ["id", "child", "buddy", "school", "status", "cost", "explanation"]
    list_filter = ["status", "school"]
    raw_id_fields = ["child", "buddy", "follow_teacher", "created_by", "accepted_by", "ended_by"]
    search_fields = ["child__name", "buddy__name"]
