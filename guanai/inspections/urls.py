from django.urls import path

from . import views, views_attachments, views_findings, views_rectifications

app_name = "inspections"
urlpatterns = [
    path("", views.inspection_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/checklist/<int:item_id>/files/", views_attachments.attach, name="attach"),
    path("files/<int:pk>/", views_attachments.attachment_file, name="file"),
    path("files/<int:pk>/delete/", views_attachments.remove_attachment, name="remove_file"),
    path("<int:pk>/report.pdf", views.report_pdf, name="report"),
    path("<int:pk>/verify/", views.verify, name="verify"),
    path("<int:pk>/status/", views.advance, name="advance"),
    path("<int:pk>/checklist/", views.checklist, name="checklist"),
    path("<int:pk>/visit/<int:child_id>/", views_findings.visit, name="visit"),
    path("<int:pk>/items/", views_rectifications.raise_item, name="raise_item"),
    path("items/", views_rectifications.items, name="items"),
    path("items/<int:pk>/done/", views_rectifications.item_done, name="item_done"),
    path("photos/<int:pk>/", views_rectifications.evidence_photo, name="photo"),
    path("items/<int:pk>/close/", views_rectifications.item_close, name="item_close"),
    path("template/", views.template, name="template"),
    path("corrections/", views_findings.corrections, name="corrections"),
    path("corrections/<int:pk>/", views_findings.decide, name="decide"),
]
