from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("schools/", views.school_list, name="schools"),
    path("schools/<str:code>/", views.school_detail, name="school"),
]
