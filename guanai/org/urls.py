from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("schools/", views.school_list, name="schools"),
    path("towns/<int:pk>/rename/", views.town_rename, name="town_rename"),
    path("schools/<str:code>/", views.school_detail, name="school"),
    path("schools/<str:code>/rename/", views.school_rename, name="school_rename"),
    path("schools/<str:code>/phone/", views.school_phone, name="school_phone"),
    path("schools/<str:code>/active/", views.school_active, name="school_active"),
    path("classes/<int:pk>/", views.class_edit, name="class_edit"),
    path("classes/<int:pk>/active/", views.class_active, name="class_active"),
]
