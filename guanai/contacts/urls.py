from django.urls import path

from . import views, views_due, views_outreach, views_rounds

app_name = "contacts"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.contact_new, name="new"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/done/", views.follow_up_done, name="done"),
    path("child/<int:pk>/", views.timeline, name="timeline"),
    path("photo/<int:pk>/", views.photo, name="photo"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("due/", views_due.due, name="due"),
    path("coverage/", views_rounds.coverage_page, name="coverage"),
    path("rounds/", views_rounds.rounds_page, name="rounds"),
    path("rounds/<int:pk>/edit/", views_rounds.round_edit, name="round_edit"),
    path("rules/", views.rules_page, name="rules"),
    path("plan/", views.plan, name="plan"),
    path("help/", views.help_page, name="help"),
    path("letters/", views_outreach.letters, name="letters"),
    path("letters/templates/new/", views_outreach.template_edit, name="template_new"),
    path("letters/templates/<int:pk>/", views_outreach.template_edit, name="template_edit"),
    path("letters/print/", views_outreach.letters_print, name="print"),
    path("letters/batches/<int:pk>/", views_outreach.batch_detail, name="batch"),
    path("letters/batches/<int:pk>/pdf/", views_outreach.batch_pdf, name="batch_pdf"),
    path("letters/receipts/", views_outreach.receipt, name="receipt"),
    path("messages/", views_outreach.message_list, name="messages"),
    path("messages/new/", views_outreach.message_new, name="message_new"),
    path("messages/<int:pk>/", views_outreach.message_detail, name="message"),
    path("messages/<int:pk>/retry/", views_outreach.message_retry, name="message_retry"),
]
