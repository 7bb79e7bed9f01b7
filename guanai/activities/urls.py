from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_new, name="new"),
    path("coverage/", views.coverage, name="coverage"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/attendance/", views.attendance, name="attendance"),
    path("<int:pk>/publicity/", views.publicity, name="publicity"),
    path("<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("donations/", views.donation_list, name="donations"),
    path("donations/fairness/", views.fairness, name="fairness"),
    path("donations/<int:pk>/", views.donation_detail, name="donation"),
    path("donations/<int:pk>/certificate/", views.donation_certificate, name="certificate"),
    path("homes/", views.home_list, name="homes"),
    path("homes/<int:pk>/", views.home_door, name="home"),
    path("homes/<int:pk>/sign/", views.home_sign, name="sign"),
    path("homes/<int:pk>/call/<int:child_id>/", views.home_call, name="call"),
    path("homes/<int:pk>/use/", views.home_use, name="use"),
    path("homes/<int:pk>/rota/", views.home_rota, name="rota"),
    path("child/<int:child_id>/", views.child_activities, name="child"),
]
