from django.urls import path

from . import views

app_name = "offline"
urlpatterns = [
    path("app/", views.app, name="app"),
    path("notice/", views.notice, name="notice"),
    path("sw.js", views.service_worker, name="sw"),
]
