from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("requests/", views.requests_list, name="requests"),
    path("requests/new/", views.pick, name="pick"),
    path("requests/new/<int:child_pk>/", views.new, name="new"),
    path("requests/<int:pk>/", views.detail, name="request"),
]
