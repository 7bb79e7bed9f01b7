from django.contrib import admin

from .models import Contact, ContactRule, Letter, LetterBatch, LetterTemplate, Message, Recipient


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["child", "kind", "at", "by", "follow_up_by", "follow_up_done_at"]
    list_filter = ["kind"]
    raw_id_fields = ["child", "by", "follow_up_done_by"]
    date_hierarchy = "at"


@admin.register(ContactRule)
class ContactRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "town", "school", "period", "days", "active"]


@admin.register(LetterTemplate)
class LetterTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "town", "school", "built_in"]


@admin.register(LetterBatch)
class LetterBatchAdmin(admin.ModelAdmin):
    list_display = ["title", "school", "grade", "school_class", "created_by", "created_at"]
    raw_id_fields = ["job"]


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["code", "child", "batch", "returned_at"]
    search_fields = ["code"]
    raw_id_fields = ["child", "batch"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "gateway", "selection", "created_by", "created_at"]
    raw_id_fields = ["job"]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["message", "child", "guardian_name", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    raw_id_fields = ["child", "message", "contact"]
