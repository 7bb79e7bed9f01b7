from django.urls import path

from . import views

app_name = "protection"
urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report_pick, name="report_pick"),
    path("report/<int:child_pk>/", views.report_new, name="report"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("dropout/", views.cases, name="cases"),
    path("dropout/new/", views.case_pick, name="case_pick"),
    path("dropout/new/<int:child_pk>/", views.case_new, name="case_new"),
    path("dropout/<int:pk>/", views.case_detail, name="case"),
    path("dropout/<int:pk>/report.pdf", views.case_report, name="case_report"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:child_pk>/resolve/", views.alert_resolve, name="alert_resolve"),
]
