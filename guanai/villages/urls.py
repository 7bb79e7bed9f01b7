from django.urls import path

from . import views

app_name = "villages"
urlpatterns = [
    path("", views.index, name="index"),
    path("entrustments/", views.entrustments, name="entrustments"),
    path("entrustments/<int:pk>/scan/", views.scan, name="scan"),
    path("children/<int:child_pk>/entrust/", views.entrustment_new, name="entrust"),
    path("v/<str:key>/", views.village, name="village"),
    path("v/<str:key>/register.xlsx", views.register_export, name="register"),
    path("v/<str:key>/changes/", views.changes, name="changes"),
]
