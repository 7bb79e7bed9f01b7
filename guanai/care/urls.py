from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("mine/", views.mine, name="mine"),
    path("child/<int:pk>/", views.child_record, name="child"),
    path("child/<int:pk>/flag/", views.flag, name="flag"),
    path("child/<int:pk>/screen/<int:instrument_id>/", views.screen, name="screen"),
]
