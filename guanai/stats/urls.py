from django.urls import path

from . import views, views_report

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("report/", views_report.term_report, name="term_report"),
    path("report/edit/", views_report.report_edit, name="report_edit"),
]
